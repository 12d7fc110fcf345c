# Every unencrypted MySQL or PostgreSQL primary of the region tagged for PCI scope.
data "rdsenc_unencrypted_db_instances" "pci" {
  engines = ["mysql", "postgres"]
  tags = {
    compliance = "pci"
  }
}

# Preflight each of them with the same key. The same `for_each` drives one
# `rdsenc_migration` per instance:
#
#   resource "rdsenc_migration" "pci" {
#     for_each                      = toset(data.rdsenc_unencrypted_db_instances.pci.db_instance_identifiers)
#     source_db_instance_identifier = each.key
#     kms_key_id                    = "alias/rds-pci"
#     ...
#   }
data "rdsenc_preflight" "pci" {
  for_each = toset(data.rdsenc_unencrypted_db_instances.pci.db_instance_identifiers)

  source_db_instance_identifier = each.key
  kms_key_id                    = "alias/rds-pci"
}

output "not_ready" {
  value = sort([for id, p in data.rdsenc_preflight.pci : id if !p.ready])
}

output "storage_gib_to_migrate" {
  value = sum(concat([0], [for d in data.rdsenc_unencrypted_db_instances.pci.db_instances : d.allocated_storage]))
}
