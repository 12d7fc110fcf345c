//! Gating checks before a cutover: the target must be caught up and (optionally) validated.

use std::fmt;
use std::time::Duration;

use super::api::{CdcLatency, ReplicationTaskStatus};
use super::observe::{Observed, ValidationSummary, is_replicating, tables_errored};
use super::spec::Phase;

/// One reason a cutover may not start yet.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckFailure {
    /// The migration is not replicating.
    NotReplicating {
        /// The current phase.
        phase: Phase,
    },
    /// The task is not running with its full load done.
    TaskNotRunning {
        /// The task status, when there is a task.
        status: Option<ReplicationTaskStatus>,
    },
    /// No lag datapoint (source or target): the lag cannot be proven small.
    LagUnknown,
    /// The target is too far behind.
    LagTooHigh {
        /// The lag seen, seconds: the larger of `CDCLatencySource` and `CDCLatencyTarget`.
        lag_seconds: f64,
        /// The allowed maximum, seconds.
        max_seconds: f64,
    },
    /// Validation has not passed.
    NotValidated {
        /// The validation summary.
        validation: ValidationSummary,
    },
    /// The task has tables in error (suspended): their changes are not applied.
    TablesErrored {
        /// `TablesErrored`, and the tables named, as [`tables_error_text`] says them.
        tables: String,
    },
    /// The target has no address to cut over to.
    TargetMissing,
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckFailure::NotReplicating { phase } => {
                write!(f, "the migration is in phase {phase}, not replicating")
            }
            CheckFailure::TaskNotRunning { status: Some(s) } => {
                write!(f, "the DMS replication task is {s}, not running CDC")
            }
            CheckFailure::TaskNotRunning { status: None } => {
                f.write_str("there is no DMS replication task")
            }
            CheckFailure::LagUnknown => f.write_str(
                "the replication lag is unknown (no CDCLatencySource and CDCLatencyTarget datapoints yet)",
            ),
            CheckFailure::LagTooHigh {
                lag_seconds,
                max_seconds,
            } => write!(
                f,
                "the replication lag (the larger of CDCLatencySource and CDCLatencyTarget) is {lag_seconds:.1}s, above the allowed {max_seconds:.1}s"
            ),
            CheckFailure::TablesErrored { tables } => write!(
                f,
                "the DMS replication task has {tables}; DMS no longer applies their changes (fix the cause, then reload them)"
            ),
            CheckFailure::NotValidated { validation } => {
                write!(f, "data validation is {validation}, not validated")
            }
            CheckFailure::TargetMissing => f.write_str("the target instance has no endpoint"),
        }
    }
}

/// Every reason the observed migration may not be cut over; `Ok` when none.
///
/// **Errors**: all failed checks, so the user sees everything to fix at once.
pub fn cutover_checks(
    observed: &Observed,
    max_lag: Duration,
    require_validation: bool,
) -> Result<(), Vec<CheckFailure>> {
    let mut fails = Vec::new();
    if observed.phase != Phase::Replicating {
        fails.push(CheckFailure::NotReplicating {
            phase: observed.phase,
        });
    }
    if !observed.task.as_ref().is_some_and(is_replicating) {
        fails.push(CheckFailure::TaskNotRunning {
            status: observed.task.as_ref().map(|t| t.status.clone()),
        });
    }
    if let Some(tables) = observed
        .task
        .as_ref()
        .and_then(|t| tables_error_text(tables_errored(t), &observed.tables_in_error))
    {
        fails.push(CheckFailure::TablesErrored { tables });
    }
    match larger_lag(&observed.lag) {
        None => fails.push(CheckFailure::LagUnknown),
        Some(l) if l > max_lag.as_secs_f64() => fails.push(CheckFailure::LagTooHigh {
            lag_seconds: l,
            max_seconds: max_lag.as_secs_f64(),
        }),
        Some(_) => {}
    }
    if require_validation && observed.validation != ValidationSummary::Validated {
        fails.push(CheckFailure::NotValidated {
            validation: observed.validation.clone(),
        });
    }
    if observed.target_address().is_none() {
        fails.push(CheckFailure::TargetMissing);
    }
    if fails.is_empty() { Ok(()) } else { Err(fails) }
}

/// The larger of the source and target latency, the lag the gates compare with
/// `max_cutover_lag_seconds`; `None` unless both datapoints exist.
pub(crate) fn larger_lag(l: &CdcLatency) -> Option<f64> {
    Some(l.source_seconds?.max(l.target_seconds?))
}

/// "N table(s) in error: a.b, c.d" from `TablesErrored` and the tables named in `Table
/// error`; `None` when neither reports any.
pub(crate) fn tables_error_text(count: i32, names: &[String]) -> Option<String> {
    let n = usize::try_from(count).unwrap_or(0).max(names.len());
    if n == 0 {
        return None;
    }
    let tables = if n == 1 { "table" } else { "tables" };
    Some(if names.is_empty() {
        format!("{n} {tables} in error (TablesErrored; the names could not be read)")
    } else {
        format!("{n} {tables} in error: {}", names.join(", "))
    })
}
