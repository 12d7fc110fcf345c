//! The migration engine: phases and steps as plain Rust over the [`api::AwsApi`] interface.
//! It knows neither Terraform nor the AWS SDK (this crate depends on neither; see README.md
//! for its rooms and the one direction data flows: plan -> engine -> AWS and back).
//!
//! # What the resource glue calls
//! - [`Engine::new`]`(aws, clock, poll)` once per provider ([`SystemClock`],
//!   [`PollPolicy::production`]; emulator tests scale the policy down).
//! - Create: [`Engine::reconcile_to_replicating`]`(spec, known, timeout, cancel)`.
//! - Read: [`Engine::refresh`]`(spec, known, cancel)` (the resource's Read: [`Engine::observe`]
//!   without the calls state already answers); [`Engine::observe`] reads everything.
//! - Update of DMS settings / password rotation: [`Engine::update_dms_settings`].
//! - Delete: [`Engine::teardown`], which returns every error and what it kept.
//! - `strategy = "blue_green"` ([`Strategy::BlueGreen`]): the same entry points dispatch to
//!   `blue_green/` (an RDS blue/green deployment with encrypted green instances), through the
//!   one strategy interface in `strategy.rs` (chosen from the spec once per run); plan-time
//!   AWS checks: [`Engine::blue_green_preflight`]; failback refusal at plan time:
//!   [`blue_green_failback_refusal`]; state records `blue_green_deployment_id`
//!   ([`KnownIds::blue_green_deployment_id`], [`Computed::blue_green_deployment_id`]).
//! - Before a cutover: [`cutover_checks`].
//! - Plan-time validation without AWS: [`MigrationSpec::validate`].
//!
//! # Cutover, failback, finalize (what the resource glue calls)
//! Build a [`CutoverSpec`] from the configuration:
//! `strategy` = [`CutoverStrategy::from_config`]`(cutover_strategy, route53 block)`;
//! `write_fence` = [`WriteFence::None`] or [`WriteFence::SecurityGroups`]`(fence_security_group_ids)`;
//! `max_lag` = `max_cutover_lag_seconds` (default 5 s); `require_validation` (default
//! `dms.validation`); `retire_source` = `"keep" | "stop" | "snapshot_and_delete"`.parse()
//! ([`RetireSource`]). Check it at plan time with [`CutoverSpec::validate`]`(&spec)` (errors
//! name `route53.*`, `cutover_strategy`, `fence_security_group_ids`).
//!
//! - Update where `cutover` or `finalize` changed (or a re-run after an interrupted one):
//!   [`Engine::apply_switch`]`(spec, cut, cutover, finalize, known, timeout, cancel)`. It calls
//!   [`SwitchOp::Cutover`] (`false -> true`), [`SwitchOp::Failback`] (`true -> false`) and then
//!   [`SwitchOp::Finalize`] (`finalize = true`); each is also public, level-triggered, and a
//!   no-op when already there. Refusals are [`EngineError::Refused`] (`attribute()` =
//!   `cutover`, `cutover_strategy`, `route53.zone_id`, `finalize` or `retire_source`) with
//!   the measured values in the message, and AWS untouched.
//! - **Do not call [`Engine::reconcile_to_replicating`] once `phase` is past `replicating`**
//!   ([`Phase::is_create_path`] false): it would resume the stopped forward task while the
//!   reverse task runs. Call `apply_switch` instead; it is also the resume path after an
//!   interrupted `cutting_over` / `failing_back` / `finalizing`.
//! - Plan warnings (pure, from the last observed state): [`describe_cutover`],
//!   [`describe_failback`], [`describe_finalize`]`(spec, cut, observed) -> Vec<String>`.
//! - Read: [`Engine::observe`] as before. The phase past `replicating` and the cutover
//!   timestamps are read back from tags on the target, so state needs nothing new; write
//!   [`Observed::computed`]: `cutover_started_at`, `cutover_completed_at`,
//!   `cutover_write_pause_seconds`, `reverse_replication_task_arn`,
//!   `reverse_replication_task_status`, `reverse_replication_lag_seconds`, `phase`,
//!   `active_endpoint`, `active_db_instance_identifier` (after an identifier swap the
//!   active identifier is `<source>` and it is the encrypted instance).
//! - Password rotation or other credential change while past `replicating`: after
//!   [`Engine::update_dms_settings`], call [`Engine::update_reverse_credentials`]`(spec,
//!   change, known, timeout, cancel)` so the reverse endpoints get the new credentials.
//! - Delete: [`Engine::teardown`] also deletes the reverse task and endpoints, and never
//!   deletes the instance serving traffic (phase `cutting_over` and later keep the target).
//!
//! # How cutover and failback work
//! See `cutover/` (ordering, the tags used as the record, why forward and reverse CDC never
//! loop), `failback.rs` and `finalize.rs`.
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
//!   has got (`observe::derive_phase`); post-`replicating` phases (cutover, failback),
//!   which AWS cannot tell apart, come from the `rdsenc:phase` tag on the target (written
//!   at each switch step), else from state.
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
mod aws_error;
mod blue_green;
mod checks;
mod clock;
mod core;
mod cutover;
mod error;
mod failback;
#[cfg(any(test, feature = "test-util"))]
pub mod fake;
mod finalize;
mod names;
mod observe;
pub mod preflight;
mod reconcile;
mod spec;
mod strategy;
mod teardown;
mod update;
mod waiters;

pub use api::AwsApi;
pub use blue_green::{
    OLD_SUFFIX, blue_green_failback_reasons, blue_green_failback_refusal, derive_blue_green_phase,
    instance_id_of, old_name,
};
pub use checks::{CheckFailure, cutover_checks};
pub use clock::{Clock, PollPolicy, SystemClock, VirtualClock};
pub use core::{AWS_CALLS_IN_FLIGHT, Engine, Progress, ProgressFn};
pub use cutover::{
    CutoverRecord, CutoverSpec, CutoverStrategy, FENCE_HOLD_MAX, RetireSource, Route53Record,
    SwitchOp, SwitchSettings, WriteFence, default_fence_hold,
};
pub use error::{EngineError, Step};
pub use names::Names;
pub use observe::{
    Computed, KeptSnapshots, KnownIds, MigrationSummary, Observed, ValidationSummary,
};
pub use reconcile::{
    DEFAULT_REPLICATION_INSTANCE_CLASS, DEFAULT_REPLICATION_INSTANCE_STORAGE, EngineFailure,
};
pub use spec::{
    BlueGreenSpec, DmsSpec, MigrationSpec, Phase, Strategy, TablePrepMode, TargetOverrides,
    default_table_mappings,
};
pub use strategy::{describe_cutover, describe_failback, describe_finalize};
pub use teardown::TeardownOutcome;
pub use update::DmsChange;

#[cfg(test)]
mod blue_green_scenarios;
#[cfg(test)]
mod cutover_scenarios;
#[cfg(test)]
mod fence_scenarios;
#[cfg(any(test, feature = "test-util"))]
pub mod fixtures;
#[cfg(test)]
mod positions_scenarios;
#[cfg(test)]
mod scenarios;
