//! The `terraform-provider-rdsenc` plugin binary.
fn main() {}
