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

# The same migration with its switch configured: the application reaches the database through a
# Route 53 CNAME. Each later step is a one-line reviewed change:
#   cutover = true   -> plan warns "Cutover: Traffic Moves To The Encrypted Instance"; apply moves
#                       the CNAME and starts the reverse DMS task (encrypted -> source)
#   cutover = false  -> lossless failback: the CNAME moves back, forward CDC resumes
#   finalize = true  -> DMS removed, the old source stopped; failback impossible afterwards
resource "rdsenc_migration" "invoices" {
  source_db_instance_identifier = "invoices"
  kms_key_id                    = "alias/rds-at-rest"

  cutover_strategy         = "route53"
  cutover                  = false
  max_cutover_lag_seconds  = 5
  write_fence              = "security_groups"
  fence_security_group_ids = ["sg-0123456789abcdef0"] # admits the DMS replication instance only
  # With write_fence = "read_only" on MySQL/MariaDB instead: keep the old primary read-only after
  # each switch for the DNS TTL plus the pool's maximum connection lifetime (30 s + 300 s here).
  # fence_hold_seconds = 330
  finalize                 = false
  retire_source            = "stop"

  route53 {
    zone_id     = "Z0123456789ABCDEFGHIJ"
    record_name = "invoices-db.internal.example.com"
    ttl         = 30
  }

  dms {
    source_username            = "dms"
    source_password_wo         = var.dms_password
    source_password_wo_version = 1
  }

  timeouts {
    create = "24h"
    update = "2h"
  }
}

output "invoices_active_endpoint" {
  description = "Where the application should connect: the source until cutover, then the encrypted instance."
  value       = rdsenc_migration.invoices.active_endpoint
}

# strategy = "blue_green": an RDS blue/green deployment whose green instances (the primary and each
# read replica) are encrypted with the key; RDS replication keeps them in sync, no DMS involved.
#   cutover = true   -> SwitchoverBlueGreenDeployment: "payments" and "payments-replica" now name
#                       the encrypted instances; the old ones become "payments-old1", ...
#   cutover = false  -> refused: RDS cannot switch back (use strategy "dms" to keep a failback)
#   finalize = true  -> the deployment is deleted and the "-old1" instances retired
resource "rdsenc_migration" "payments" {
  source_db_instance_identifier = "payments"
  kms_key_id                    = "alias/rds-at-rest"
  strategy                      = "blue_green"
  switchover_timeout            = 300 # seconds; RDS rolls the switchover back past it
  cutover                       = false

  blue_green {
    # a replica in another region needs a key of its region; same-region replicas default to kms_key_id
    replica_kms_key_ids = {
      "payments-replica" = "alias/rds-at-rest"
    }
  }
}
