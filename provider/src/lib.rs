//! rdsenc: a Terraform provider that migrates live RDS instances to encrypted storage.
