//! The engine handle, progress reporting, and the two primitives every step is built from:
//! an AWS call retried on transient failure, and a declarative waiter.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::api::{AwsApi, AwsError};
use super::clock::{Clock, PollPolicy};
use super::error::{EngineError, Step};
use super::names::Names;
use super::spec::{MigrationSpec, Phase};

/// A progress report: emitted as a `tracing` info event (visible under `TF_LOG`) and passed
/// to the optional callback.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The phase the step belongs to.
    pub phase: Phase,
    /// The step.
    pub step: Step,
    /// The object.
    pub id: String,
    /// Percent complete, when AWS reports one.
    pub percent: Option<i32>,
    /// The object's status.
    pub status: String,
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "phase={} id={} status={}",
            self.phase, self.id, self.status
        )?;
        if let Some(p) = self.percent {
            write!(f, " progress={p}%")?;
        }
        Ok(())
    }
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// The migration engine: AWS access, time and polling policy. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) aws: Arc<dyn AwsApi>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) poll: PollPolicy,
    pub(crate) progress: Option<ProgressFn>,
    /// Slots for AWS calls in flight, shared by every run of this engine (one per provider).
    pub(crate) calls: Arc<Semaphore>,
}

/// AWS calls one engine has in flight at most. A call's future holds the SDK's request
/// state (kilobytes) from the moment it is created, so calls beyond this wait for a slot
/// before they are created: a hundred migrations polling at once then hold a hundred small
/// waits, not a hundred SDK requests queued for a connection. A slot is held for the whole
/// call, the SDK's own retries included. The shared HTTPS client allows as many requests in
/// flight (`aws::config::MAX_CONCURRENT_REQUESTS`) for everything else (preflight, data
/// sources).
pub const AWS_CALLS_IN_FLIGHT: usize = 16;

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine over `aws`, waiting on `clock` with `poll`.
    pub fn new(aws: Arc<dyn AwsApi>, clock: Arc<dyn Clock>, poll: PollPolicy) -> Self {
        Self {
            aws,
            clock,
            poll,
            progress: None,
            calls: Arc::new(Semaphore::new(AWS_CALLS_IN_FLIGHT)),
        }
    }

    /// Calls `f` with every progress report (besides the tracing event).
    #[must_use]
    pub fn with_progress(mut self, f: ProgressFn) -> Self {
        self.progress = Some(f);
        self
    }

    pub(crate) fn run<'a>(
        &'a self,
        spec: &'a MigrationSpec,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Run<'a> {
        let now = self.clock.now();
        Run {
            e: self,
            spec,
            names: spec.names(),
            cancel: cancel.clone(),
            started: now,
            deadline: now + timeout,
            last: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

/// Not-found reads tolerated right after a create before "gone" is believed.
const NOT_FOUND_CHECKS: u32 = 5;

/// A declarative waiter over a typed status.
#[derive(Debug)]
pub(crate) struct Waiter<S: 'static> {
    pub(crate) step: Step,
    pub(crate) phase: Phase,
    /// Statuses that mean "keep waiting".
    pub(crate) pending: &'static [S],
    /// Statuses that mean "done".
    pub(crate) target: &'static [S],
    /// The object disappearing means "done" (deletion waiters).
    pub(crate) gone_is_target: bool,
    pub(crate) timeout: Duration,
    /// Consecutive target observations needed; `None` = 1.
    pub(crate) continuous_target: Option<u32>,
}

impl<S: 'static> Waiter<S> {
    /// Waits in `phase` for `step` to reach a `target` status through `pending` ones.
    pub(crate) const fn new(
        step: Step,
        phase: Phase,
        pending: &'static [S],
        target: &'static [S],
        timeout: Duration,
    ) -> Self {
        Waiter {
            step,
            phase,
            pending,
            target,
            gone_is_target: false,
            timeout,
            continuous_target: None,
        }
    }

    /// Waits for a deletion: `pending` until the object is gone, seen gone twice (a describe
    /// right after the call may still find it).
    pub(crate) const fn gone(
        step: Step,
        phase: Phase,
        pending: &'static [S],
        timeout: Duration,
    ) -> Self {
        Waiter {
            gone_is_target: true,
            continuous_target: Some(2),
            ..Waiter::new(step, phase, pending, &[], timeout)
        }
    }

    /// The same waiter, needing `n` consecutive target reads.
    pub(crate) const fn reads(self, n: u32) -> Self {
        Waiter {
            continuous_target: Some(n),
            ..self
        }
    }
}

/// The last progress report per object (parallel branches interleave), to emit only
/// changes.
type LastProgress = HashMap<String, (Step, Option<i32>, String)>;

/// One migration run: the spec, its names, the cancellation token and the deadline.
pub(crate) struct Run<'a> {
    pub(crate) e: &'a Engine,
    pub(crate) spec: &'a MigrationSpec,
    pub(crate) names: Names,
    pub(crate) cancel: CancellationToken,
    pub(crate) started: Instant,
    pub(crate) deadline: Instant,
    last: Arc<Mutex<LastProgress>>,
}

/// The time left of a step whose progress went from `p0` to `p` percent in `took`, at the
/// same rate; `None` before any progress, or outside 0..100.
pub(crate) fn estimate_remaining(took: Duration, p0: i32, p: i32) -> Option<Duration> {
    if !(0..100).contains(&p) || p <= p0 || took.is_zero() {
        return None;
    }
    let per_percent = took.div_f64(f64::from(p - p0));
    Some(per_percent.mul_f64(f64::from(100 - p)))
}

/// `Ok(None)` for not-found, so callers only see "exists or not".
pub(crate) fn found<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

impl Run<'_> {
    pub(crate) fn aws(&self) -> &dyn AwsApi {
        self.e.aws.as_ref()
    }

    pub(crate) fn now(&self) -> Instant {
        self.e.clock.now()
    }

    /// A run sharing everything but with its own cancellation token (parallel branches).
    pub(crate) fn child(&self, cancel: CancellationToken) -> Self {
        Run {
            e: self.e,
            spec: self.spec,
            names: self.names.clone(),
            cancel,
            started: self.started,
            deadline: self.deadline,
            last: self.last.clone(),
        }
    }

    pub(crate) fn check_cancel(&self, step: Step) -> Result<(), EngineError> {
        if self.cancel.is_cancelled() {
            Err(EngineError::Cancelled { step })
        } else {
            Ok(())
        }
    }

    /// Sleeps `d`, returning early with `Cancelled` when the token fires.
    pub(crate) async fn sleep(&self, step: Step, d: Duration) -> Result<(), EngineError> {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(EngineError::Cancelled { step }),
            () = self.e.clock.sleep(d) => Ok(()),
        }
    }

    /// Makes one AWS call once one of the engine's [`AWS_CALLS_IN_FLIGHT`] slots is free;
    /// the call's future is only created then.
    async fn gated<T, F, Fut>(&self, f: &mut F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = T>,
    {
        // The semaphore is never closed; were it, calls would simply go unthrottled.
        let _slot = self.e.calls.acquire().await.ok();
        f().await
    }

    /// Calls AWS, retrying transient failures with jittered backoff while attempts and the
    /// deadline allow. Not-found is never retried and never produced by a transient error.
    pub(crate) async fn call<T, F, Fut>(&self, step: Step, id: &str, f: F) -> Result<T, EngineError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        self.call_attempts(step, id, self.e.poll.retry_attempts, f)
            .await
    }

    /// [`Run::call`] with at most `attempts` attempts (best-effort reads use few).
    pub(crate) async fn call_attempts<T, F, Fut>(
        &self,
        step: Step,
        id: &str,
        attempts: u32,
        mut f: F,
    ) -> Result<T, EngineError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let mut attempt = 1u32;
        loop {
            self.check_cancel(step)?;
            // An in-flight request is abandoned on cancel; whether or not it reached AWS,
            // the next (idempotent) run finds the result by name.
            let r = tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(EngineError::Cancelled { step }),
                r = self.gated(&mut f) => r,
            };
            match r {
                Ok(v) => return Ok(v),
                Err(e) if e.is_transient() && attempt < attempts => {
                    let delay = self.e.poll.retry_delay(attempt);
                    if self.now() + delay >= self.deadline {
                        return Err(EngineError::aws(step, id, e));
                    }
                    tracing::debug!(step = %step, id, attempt, error = %e, "transient AWS error, retrying");
                    self.sleep(step, delay).await?;
                    attempt += 1;
                }
                Err(e) => return Err(EngineError::aws(step, id, e)),
            }
        }
    }

    /// [`Run::call`] for finders: `Ok(None)` when the object does not exist.
    pub(crate) async fn find<T, F, Fut>(
        &self,
        step: Step,
        id: &str,
        mut f: F,
    ) -> Result<Option<T>, EngineError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        self.call(step, id, || {
            let fut = f();
            async move { found(fut.await) }
        })
        .await
    }

    /// Reports progress (deduplicated: only changes are emitted).
    pub(crate) fn emit(
        &self,
        phase: Phase,
        step: Step,
        id: &str,
        percent: Option<i32>,
        status: &str,
    ) {
        let seen = (step, percent, status.to_owned());
        {
            let mut last = self
                .last
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.get(id) == Some(&seen) {
                return;
            }
            last.insert(id.to_owned(), seen);
        }
        let p = Progress {
            phase,
            step,
            id: id.to_owned(),
            percent,
            status: status.to_owned(),
        };
        // One self-contained line: Terraform shows the message under TF_LOG, fields vary.
        tracing::info!(phase = %phase, id, status, "{p}");
        if let Some(cb) = &self.e.progress {
            cb(&p);
        }
    }

    /// Polls `status` until the object reaches a target status (or is gone, for deletion
    /// waiters), as declared by `w`.
    ///
    /// - `fresh`: the object was just created or changed; wait the initial delay first
    ///   (AWS's describe may not see the change yet).
    /// - `percent` extracts progress for reports; `explain` extracts AWS's failure message
    ///   for an unexpected status.
    ///
    /// **Errors**: `Failed` on a status outside `pending` and `target` (or the object
    /// vanishing), `Timeout` naming the step and the time waited, `Cancelled`, or the
    /// first non-transient AWS error. Transient errors keep the waiter polling.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn wait<T, S, F, Fut>(
        &self,
        w: &Waiter<S>,
        id: &str,
        fresh: bool,
        mut status: F,
        percent: fn(&T) -> Option<i32>,
        explain: fn(&T) -> Option<String>,
    ) -> Result<Option<T>, EngineError>
    where
        S: PartialEq + fmt::Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<(T, S)>, AwsError>>,
    {
        let start = self.now();
        let limit = (start + w.timeout).min(self.deadline);
        let need = w.continuous_target.unwrap_or(1).max(1);
        let mut seen = 0u32;
        let mut polls = 0u32;
        let mut last_status: Option<String> = None;
        // Right after a create, describe may not see the object yet (eventual
        // consistency): until it has been seen once, a few not-found reads are pending.
        let mut seen_once = !fresh;
        // The first progress seen (when, percent): the rate since then estimates the time
        // left, so the poll after the expected end is not a full interval late.
        let mut progress_from: Option<(Instant, i32)> = None;
        let mut remaining: Option<Duration> = None;
        if fresh && !self.e.poll.initial_delay.is_zero() {
            self.sleep(w.step, self.e.poll.initial_delay).await?;
        }
        loop {
            self.check_cancel(w.step)?;
            let observed = tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(EngineError::Cancelled { step: w.step }),
                r = self.gated(&mut status) => r,
            };
            match observed {
                Ok(Some((obj, s))) => {
                    seen_once = true;
                    last_status = Some(s.to_string());
                    remaining = percent(&obj).and_then(|p| {
                        let now = self.now();
                        let (t0, p0) = *progress_from.get_or_insert((now, p));
                        estimate_remaining(now.saturating_duration_since(t0), p0, p)
                    });
                    if w.target.contains(&s) {
                        seen += 1;
                        if seen >= need {
                            self.emit(w.phase, w.step, id, percent(&obj), &s.to_string());
                            return Ok(Some(obj));
                        }
                    } else if w.pending.contains(&s) {
                        seen = 0;
                        self.emit(w.phase, w.step, id, percent(&obj), &s.to_string());
                    } else {
                        return Err(EngineError::Failed {
                            step: w.step,
                            id: id.to_owned(),
                            status: s.to_string(),
                            reason: explain(&obj),
                        });
                    }
                }
                Ok(None) if w.gone_is_target => {
                    seen += 1;
                    if seen >= need {
                        self.emit(w.phase, w.step, id, None, "deleted");
                        return Ok(None);
                    }
                }
                Ok(None) if !seen_once && polls < NOT_FOUND_CHECKS => {
                    tracing::debug!(step = %w.step, id, "not visible yet after create");
                }
                Ok(None) => {
                    return Err(EngineError::deleted(
                        w.step,
                        id.to_owned(),
                        Some("the object disappeared while waiting for it"),
                    ));
                }
                Err(e) if e.is_transient() => {
                    tracing::debug!(step = %w.step, id, error = %e, "transient AWS error while waiting");
                }
                Err(e) => return Err(EngineError::aws(w.step, id, e)),
            }
            let now = self.now();
            if now >= limit {
                return Err(EngineError::Timeout {
                    step: w.step,
                    id: id.to_owned(),
                    waited: now.saturating_duration_since(start),
                    last_status,
                });
            }
            let d = self
                .e
                .poll
                .next_interval(
                    polls,
                    now.saturating_duration_since(start),
                    remaining,
                    seen > 0,
                )
                .min(limit - now);
            polls = polls.saturating_add(1);
            self.sleep(w.step, d).await?;
        }
    }
}

/// Pairs a finder's result with the object's status, for [`Run::wait`].
pub(crate) fn with_status<T, S>(
    r: Result<T, AwsError>,
    f: impl Fn(&T) -> S,
) -> Result<Option<(T, S)>, AwsError> {
    found(r).map(|o| {
        o.map(|v| {
            let s = f(&v);
            (v, s)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::World;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn aws_calls_beyond_the_slots_are_created_only_when_a_slot_frees() {
        let w = World::test();
        let a = w.engine.run(&w.spec, Duration::from_secs(3600), &w.cancel);
        let b = w.engine.run(&w.spec, Duration::from_secs(3600), &w.cancel);
        let (live, most, made) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        // Two runs (two migrations) share the engine's slots.
        let runs = [&a, &b];
        let calls = (0..4 * AWS_CALLS_IN_FLIGHT).map(|i| {
            runs[i % 2].call(Step::Observe, "x", || {
                // Counted when the call's future is created, not when it is first polled.
                let n = live.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(n, Ordering::SeqCst);
                made.fetch_add(1, Ordering::SeqCst);
                async {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    live.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, AwsError>(())
                }
            })
        });
        for r in futures::future::join_all(calls).await {
            assert!(r.is_ok());
        }
        assert_eq!(made.load(Ordering::SeqCst), 4 * AWS_CALLS_IN_FLIGHT);
        assert_eq!(most.load(Ordering::SeqCst), AWS_CALLS_IN_FLIGHT);
    }

    #[test]
    fn the_time_left_follows_the_progress_rate_since_first_seen() {
        let s = Duration::from_secs;
        assert_eq!(estimate_remaining(s(100), 10, 60), Some(s(80)));
        assert_eq!(
            estimate_remaining(s(100), 0, 99),
            Some(s(100).div_f64(99.0))
        );
        assert_eq!(estimate_remaining(s(100), 40, 40), None, "no progress yet");
        assert_eq!(estimate_remaining(s(0), 0, 0), None);
        assert_eq!(estimate_remaining(s(100), 10, 100), None, "done");
    }
}
