# Every argument is optional: with none, rdsenc uses the standard AWS environment and config files.
provider "rdsenc" {
  region  = "eu-west-1"
  profile = "migrations"

  # Retries of throttled or transiently failing AWS calls.
  max_retries = 10

  assume_role {
    role_arn     = "arn:aws:iam::123456789012:role/rdsenc-migrator"
    session_name = "rdsenc"
  }

  # Custom endpoints, e.g. VPC endpoints or a local emulator.
  endpoints {
    rds = "https://rds.eu-west-1.amazonaws.com"
  }
}
