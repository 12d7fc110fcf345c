data "rdsenc_db_instance" "orders" {
  db_instance_identifier = "orders"
}

# Refuse to go on if the instance is already encrypted.
check "orders_is_unencrypted" {
  assert {
    condition     = !data.rdsenc_db_instance.orders.storage_encrypted
    error_message = "orders is already encrypted (${data.rdsenc_db_instance.orders.kms_key_id})."
  }
}

output "orders_endpoint" {
  value = "${data.rdsenc_db_instance.orders.endpoint_address}:${data.rdsenc_db_instance.orders.endpoint_port}"
}
