# Everything that would stop the migration of "orders", without planning one.
data "rdsenc_preflight" "orders" {
  source_db_instance_identifier = "orders"
  kms_key_id                    = "alias/rds-orders"
}

# Gate the pipeline: `terraform plan` fails with every error finding and its remedy.
output "orders_ready" {
  value = data.rdsenc_preflight.orders.ready

  precondition {
    condition = data.rdsenc_preflight.orders.ready
    error_message = join("\n", [
      for f in data.rdsenc_preflight.orders.findings :
      "[${f.check}] ${f.message} ${f.remedy}" if f.severity == "error"
    ])
  }
}

# Warnings (e.g. binlog retention advice) for the reviewer.
output "orders_warnings" {
  value = [
    for f in data.rdsenc_preflight.orders.findings :
    "[${f.check}] ${f.message} ${f.remedy}" if f.severity == "warning"
  ]
}

# The same source, vetted for an RDS blue/green migration instead: the blue/green checks
# (engine version support, a master password not managed in Secrets Manager) run, the
# DMS-only ones (binary log format, replication instance, target identifier) do not.
data "rdsenc_preflight" "orders_blue_green" {
  source_db_instance_identifier = "orders"
  kms_key_id                    = "alias/rds-orders"
  strategy                      = "blue_green"
}

output "orders_ready_for_blue_green" {
  value = data.rdsenc_preflight.orders_blue_green.ready
}
