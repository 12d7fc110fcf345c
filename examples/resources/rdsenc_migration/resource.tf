# Encrypt the live "orders" MySQL instance with a customer managed key. `terraform apply` returns
# once the encrypted twin "orders-encrypted" is restored and kept in sync by AWS DMS.
variable "dms_password" {
  type      = string
  sensitive = true
}

resource "rdsenc_migration" "orders" {
  source_db_instance_identifier = "orders"
  kms_key_id                    = "alias/rds-at-rest"

  dms {
    source_username            = "dms"
    source_password_wo         = var.dms_password # write-only: never stored in plan or state
    source_password_wo_version = 1
    # every table of every user schema is migrated unless table_mappings says otherwise
  }

  timeouts {
    create = "24h"
  }
}

output "migration_phase" {
  value = rdsenc_migration.orders.phase
}
