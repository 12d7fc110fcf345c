//! The `terraform-provider-rdsenc` plugin binary: Terraform starts it and talks to it over
//! the plugin protocol; `--debug` starts it for attaching Terraform by hand.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    rdsenc::protocol::serve(rdsenc::provider::new_provider()).await
}
