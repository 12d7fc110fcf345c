# Quickstart: look at an existing RDS instance the way rdsenc sees it.
# `make demo` runs this against the local emulator; against AWS, the usual credential chain applies.
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
  description = "The RDS instance to inspect."
  type        = string
  default     = "orders"
}

data "rdsenc_db_instance" "source" {
  db_instance_identifier = var.db_instance_identifier
}

output "arn" {
  value = data.rdsenc_db_instance.source.arn
}

output "engine" {
  value = "${data.rdsenc_db_instance.source.engine} ${data.rdsenc_db_instance.source.engine_version}"
}

output "endpoint" {
  value = "${data.rdsenc_db_instance.source.endpoint_address}:${data.rdsenc_db_instance.source.endpoint_port}"
}

output "storage_encrypted" {
  value = data.rdsenc_db_instance.source.storage_encrypted
}

output "status" {
  value = data.rdsenc_db_instance.source.status
}

output "tags" {
  value = data.rdsenc_db_instance.source.tags
}
