//! The migration engine: phases and steps as plain Rust over the [`api::AwsApi`] interface.
//! It knows neither Terraform nor the AWS SDK.
//!
//! # What the resource glue calls
//! - [`Engine::new`]`(aws, clock, poll)` once per provider ([`SystemClock`],
//!   [`PollPolicy::production`]; emulator tests scale the policy down).
//! - Create: [`Engine::reconcile_to_replicating`]`(spec, known, timeout, cancel)`.
//! - Read: [`Engine::observe`]`(spec, known, cancel)`.
//! - Update of DMS settings / password rotation: [`Engine::update_dms_settings`].
//! - Delete: [`Engine::teardown`], which returns every error and what it kept.
//! - Before a cutover: [`cutover_checks`].
//! - Plan-time validation without AWS: [`MigrationSpec::validate`].
//!
//! Failures come back as [`EngineFailure`] = the [`EngineError`] plus the [`Observed`]
//! state, so state always records what exists. [`EngineError::attribute`] gives the dotted
//! attribute path and [`EngineError::summary`] a title-case summary for the diagnostic.
//!
//! # Design decisions
//! - **Level-triggered and idempotent.** Every step checks its own postcondition ("the
//!   encrypted copy exists and is available"), never "if X is missing do X, Y, Z". Names
//!   are derived from the source identifier ([`Names`]), so a re-run after a crash or
//!   Ctrl-C finds earlier work; objects are adopted only when they carry the tag
//!   `rdsenc:migration=<source>`, and a same-named object without it is refused.
//! - **The phase is derived, not stored**, by an exhaustive match over how far each object
//!   has got ([`observe::derive_phase`]); only post-`replicating` phases (cutover,
//!   failback), which AWS cannot tell apart, come from state.
//! - **RDS chain and DMS provisioning overlap**: the replication instance and source
//!   endpoint are built while the snapshot is taken and copied (hours on large databases).
//! - **Intermediate snapshots stay until teardown**: cheap next to the target, and they let
//!   a failed restore be retried without a new snapshot and copy.
//! - **Nothing is deleted on the create path**; teardown never deletes the source, never
//!   disables deletion protection, and keeps the target unless `delete_target_on_destroy`
//!   and it is not serving traffic (a final snapshot is taken unless told otherwise).
//! - **Time is injected** ([`Clock`]) and polling comes from the caller's [`PollPolicy`], so
//!   scenario tests run hours of AWS progress on tokio's paused clock.

pub mod api;
pub mod checks;
pub mod clock;
pub mod core;
pub mod cutover;
pub mod error;
pub mod failback;
pub mod fake;
pub mod finalize;
pub mod names;
pub mod observe;
pub mod reconcile;
pub mod spec;
pub mod teardown;
pub mod update;

pub use api::AwsApi;
pub use checks::{CheckFailure, cutover_checks};
pub use clock::{Clock, PollPolicy, SystemClock, VirtualClock};
pub use core::{Engine, Progress, ProgressFn};
pub use cutover::{
    CutoverRecord, CutoverSpec, CutoverStrategy, RetireSource, Route53Record, WriteFence,
    describe_cutover,
};
pub use error::{EngineError, Step};
pub use failback::describe_failback;
pub use finalize::describe_finalize;
pub use names::Names;
pub use observe::{Computed, KnownIds, MigrationSummary, Observed, ValidationSummary};
pub use reconcile::EngineFailure;
pub use spec::{DmsSpec, MigrationSpec, Phase, TablePrepMode, TargetOverrides};
pub use teardown::TeardownOutcome;
pub use update::DmsChange;

#[cfg(test)]
mod cutover_scenarios;
#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod scenarios;
