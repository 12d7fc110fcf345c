# Quickstart: encrypt a live, unencrypted RDS instance with rdsenc.
# `make demo` runs this against the local AWS emulator; against AWS, the usual credential chain
# applies (region, profile, AWS_* environment variables).
terraform {
  required_providers {
    rdsenc = {
      source  = "rdsenc/rdsenc"
      version = "0.1.0"
    }
  }
}

provider "rdsenc" {
  region = "us-east-1"
}

variable "db_instance_identifier" {
  description = "The unencrypted RDS instance to migrate."
  type        = string
  default     = "orders"
}

variable "kms_key_id" {
  description = "Customer managed KMS key for the encrypted copy (id, ARN, alias/<name> or alias ARN)."
  type        = string
  default     = "alias/rdsenc-demo"
}

variable "route53_zone_id" {
  description = "Hosted zone of the CNAME the application connects to."
  type        = string
}

variable "record_name" {
  description = "The CNAME the application connects to; cutover points it at the encrypted instance."
  type        = string
  default     = "orders-db.internal.example.com"
}

variable "cutover" {
  description = "Flip to true in a reviewed change once replication is validated and lag is low."
  type        = bool
  default     = false
}

variable "finalize" {
  description = "Flip to true once the team is sure of the cutover: removes DMS and stops the old source."
  type        = bool
  default     = false
}

variable "dms_password" {
  description = "Password of the database user DMS connects as. Write-only: never stored in state."
  type        = string
  sensitive   = true
}

# The "before" picture: what rdsenc sees of the source.
data "rdsenc_db_instance" "source" {
  db_instance_identifier = var.db_instance_identifier
}

resource "rdsenc_migration" "orders" {
  source_db_instance_identifier = data.rdsenc_db_instance.source.id
  kms_key_id                    = var.kms_key_id

  # Cutover moves the CNAME; failback (cutover = false) moves it back, losslessly.
  cutover_strategy        = "route53"
  cutover                 = var.cutover
  max_cutover_lag_seconds = 5
  finalize                = var.finalize
  retire_source           = "stop"

  route53 {
    zone_id     = var.route53_zone_id
    record_name = var.record_name
    ttl         = 30
  }

  dms {
    source_username            = "dms"
    source_password_wo         = var.dms_password
    source_password_wo_version = 1
  }

  timeouts {
    create = "2h"
    update = "1h"
  }
}

output "source_encrypted" {
  value = data.rdsenc_db_instance.source.storage_encrypted
}

output "phase" {
  value = rdsenc_migration.orders.phase
}

output "encrypted_instance" {
  value = rdsenc_migration.orders.target_db_instance_identifier
}

output "encrypted_endpoint" {
  value = rdsenc_migration.orders.target_endpoint
}

output "kms_key_arn" {
  value = rdsenc_migration.orders.kms_key_arn
}

output "active_endpoint" {
  value = rdsenc_migration.orders.active_endpoint
}

output "replication_lag_seconds" {
  value = rdsenc_migration.orders.replication_lag_seconds
}

output "validation_state" {
  value = rdsenc_migration.orders.validation_state
}

output "active_db_instance_identifier" {
  value = rdsenc_migration.orders.active_db_instance_identifier
}

output "cutover_write_pause_seconds" {
  value = rdsenc_migration.orders.cutover_write_pause_seconds
}

output "reverse_replication_task_status" {
  value = rdsenc_migration.orders.reverse_replication_task_status
}
