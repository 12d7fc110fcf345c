//! The `terraform-provider-rdsenc` plugin binary: Terraform starts it and talks to it over
//! the plugin protocol; `--debug` starts it for attaching Terraform by hand.

use std::process::ExitCode;

/// Worker threads: the provider waits on AWS, it does not compute, and every extra thread
/// costs memory (its stack, and a glibc malloc arena that fragments under 100 concurrent
/// migrations). Two keep one request's JSON parsing from stalling the others.
const WORKER_THREADS: usize = 2;
/// Blocking-pool threads (DNS lookups of the HTTP client, file reads). Tokio's default of
/// 512 lets 100 migrations opening connections at once start a thread, and an arena, each.
const MAX_BLOCKING_THREADS: usize = 4;
/// Worker stack: the switch path's nested async state machines are large in unoptimised
/// builds (a debug build once overflowed tokio's 2 MiB default during a cutover). Stacks are
/// reserved, not resident: only pages touched count towards memory.
const WORKER_STACK_BYTES: usize = 8 * 1024 * 1024;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .thread_stack_size(WORKER_STACK_BYTES)
        .enable_all()
        .build();
    match runtime {
        Ok(rt) => rt.block_on(rdsenc::protocol::serve(rdsenc::provider::new_provider())),
        Err(e) => {
            eprintln!("starting the async runtime failed: {e}");
            ExitCode::FAILURE
        }
    }
}
