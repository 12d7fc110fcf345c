//! A small declarative waiter over typed statuses, shared by the service modules.
//!
//! Each service waiter states `pending` and `target` status sets; the status function returns
//! `None` when the object is gone, which only a "deleted" waiter (empty `target`) accepts.
//! Polling uses tokio time, so tests can run it on a paused clock.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::error::AwsError;

/// How a waiter polls. The service modules own the pending/target sets and default timeouts;
/// callers choose the cadence (AWS-like by default, fast against an emulator).
#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// Sleep before the first poll (AWS is eventually consistent right after a create).
    pub delay: Duration,
    /// First interval between polls; it doubles up to `max_poll`.
    pub min_poll: Duration,
    /// Largest interval between polls.
    pub max_poll: Duration,
    /// Consecutive target observations required before success.
    pub continuous_target: u32,
    /// Stops the wait early (Terraform's StopProvider).
    pub cancel: CancellationToken,
}

impl Default for WaitOptions {
    /// AWS cadence: 10 s delay, 10 s polls growing to 60 s, one target observation.
    fn default() -> Self {
        WaitOptions {
            delay: Duration::from_secs(10),
            min_poll: Duration::from_secs(10),
            max_poll: Duration::from_secs(60),
            continuous_target: 1,
            cancel: CancellationToken::new(),
        }
    }
}

impl WaitOptions {
    /// A fast cadence for emulators: no delay, 50 ms polls growing to 500 ms.
    pub fn fast() -> Self {
        WaitOptions {
            delay: Duration::ZERO,
            min_poll: Duration::from_millis(50),
            max_poll: Duration::from_millis(500),
            continuous_target: 1,
            cancel: CancellationToken::new(),
        }
    }

    /// Requires `n` consecutive target observations (eventual consistency).
    pub fn with_continuous_target(mut self, n: u32) -> Self {
        self.continuous_target = n.max(1);
        self
    }

    /// Uses `cancel` to stop the wait.
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Self {
        self.cancel = cancel;
        self
    }
}

/// Why a wait did not reach its target.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// A status poll failed with a non-transient AWS error.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The timeout passed first.
    #[error("timeout after {waited:?} waiting for {kind} ({id}){}", last_status.as_ref().map(|s| format!(", last status {s}")).unwrap_or_default())]
    Timeout {
        /// What was waited for.
        kind: &'static str,
        /// Its identifier.
        id: String,
        /// How long the waiter waited.
        waited: Duration,
        /// The last status seen, if any.
        last_status: Option<String>,
    },
    /// The object reached a status that is neither pending nor target (e.g. `failed`).
    #[error("{kind} ({id}) reached unexpected status {status}")]
    UnexpectedStatus {
        /// What was waited for.
        kind: &'static str,
        /// Its identifier.
        id: String,
        /// The status seen.
        status: String,
    },
    /// The object disappeared while waiting for it to become ready.
    #[error("{kind} ({id}) disappeared while waiting for it")]
    Gone {
        /// What was waited for.
        kind: &'static str,
        /// Its identifier.
        id: String,
    },
    /// The wait was cancelled.
    #[error("cancelled while waiting for {kind} ({id})")]
    Cancelled {
        /// What was waited for.
        kind: &'static str,
        /// Its identifier.
        id: String,
    },
}

/// The declarative part of a waiter: what it waits for and which statuses it passes through.
#[derive(Debug, Clone, Copy)]
pub struct WaitSpec<'a, S: 'static> {
    /// Object kind, e.g. "RDS DB Snapshot".
    pub kind: &'static str,
    /// Identifier, for messages.
    pub id: &'a str,
    /// Statuses that mean "keep waiting".
    pub pending: &'static [S],
    /// Statuses that mean "done"; empty means "done when gone".
    pub target: &'static [S],
    /// Overall limit.
    pub timeout: Duration,
}

/// Polls `refresh` until the status is in `spec.target` (returning the object) or, for a
/// deletion waiter (empty target), until the object is gone (returning `None`).
/// Transient AWS errors during polling are retried until the timeout; others end the wait.
pub async fn wait_for<T, S, F, Fut>(
    spec: WaitSpec<'_, S>,
    opts: &WaitOptions,
    mut refresh: F,
) -> Result<Option<T>, WaitError>
where
    S: PartialEq + fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<(T, S)>, AwsError>>,
{
    let start = tokio::time::Instant::now();
    let deadline = start + spec.timeout;
    let mut interval = opts.min_poll;
    let mut seen_target = 0_u32;
    let mut last_status: Option<String> = None;
    let mut next_poll = start + opts.delay;
    loop {
        tokio::select! {
            biased;
            () = opts.cancel.cancelled() => {
                return Err(WaitError::Cancelled { kind: spec.kind, id: spec.id.to_owned() });
            }
            () = tokio::time::sleep_until(next_poll.min(deadline)) => {}
        }
        if tokio::time::Instant::now() >= deadline && next_poll > deadline {
            return Err(timeout(&spec, start, last_status));
        }
        match refresh().await {
            Ok(None) => {
                if spec.target.is_empty() {
                    seen_target += 1;
                    if seen_target >= opts.continuous_target {
                        return Ok(None);
                    }
                } else {
                    return Err(WaitError::Gone {
                        kind: spec.kind,
                        id: spec.id.to_owned(),
                    });
                }
            }
            Ok(Some((object, status))) => {
                if spec.target.contains(&status) {
                    seen_target += 1;
                    if seen_target >= opts.continuous_target {
                        return Ok(Some(object));
                    }
                } else if spec.pending.contains(&status) {
                    seen_target = 0;
                } else {
                    return Err(WaitError::UnexpectedStatus {
                        kind: spec.kind,
                        id: spec.id.to_owned(),
                        status: status.to_string(),
                    });
                }
                last_status = Some(status.to_string());
            }
            Err(err) if err.is_transient() && !err.is_not_found() => {
                seen_target = 0;
            }
            Err(err) => return Err(WaitError::Aws(err)),
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(timeout(&spec, start, last_status));
        }
        // Consecutive target observations are re-checked at the short interval.
        let step = if seen_target > 0 {
            opts.min_poll
        } else {
            let s = interval;
            interval = (interval * 2).min(opts.max_poll);
            s
        };
        next_poll = now + jitter(step);
    }
}

fn timeout<S>(
    spec: &WaitSpec<'_, S>,
    start: tokio::time::Instant,
    last: Option<String>,
) -> WaitError {
    WaitError::Timeout {
        kind: spec.kind,
        id: spec.id.to_owned(),
        waited: start.elapsed(),
        last_status: last,
    }
}

/// ±10% jitter so many waiters do not poll in lockstep.
fn jitter(d: Duration) -> Duration {
    let factor = 0.9 + fastrand::f64() * 0.2;
    d.mul_f64(factor)
}

/// Defines a status enum with an `Other(String)` catch-all, `From<&str>`, `as_str` and
/// `Display`. The only place raw status strings are compared.
macro_rules! status_enum {
    ($(#[$doc:meta])* $vis:vis $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A status this provider does not know (kept verbatim).
            Other(String),
        }

        impl $name {
            /// The AWS spelling.
            $vis fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($text => $name::$variant,)*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use status_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    status_enum!(
        /// Test status.
        TestStatus {
            /// Pending.
            Creating => "creating",
            /// Target.
            Available => "available",
        }
    );

    fn scripted(
        script: Vec<Result<Option<TestStatus>, AwsError>>,
    ) -> impl FnMut() -> std::future::Ready<Result<Option<((), TestStatus)>, AwsError>> {
        let script = Arc::new(Mutex::new(script.into_iter()));
        move || {
            let next = script
                .lock()
                .expect("lock")
                .next()
                .unwrap_or(Ok(Some(TestStatus::Creating)));
            std::future::ready(next.map(|o| o.map(|s| ((), s))))
        }
    }

    const PENDING: &[TestStatus] = &[TestStatus::Creating];
    const TARGET: &[TestStatus] = &[TestStatus::Available];

    fn spec(target: &'static [TestStatus]) -> WaitSpec<'static, TestStatus> {
        WaitSpec {
            kind: "Test Object",
            id: "t1",
            pending: PENDING,
            target,
            timeout: Duration::from_secs(600),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn waiter_returns_once_the_target_status_is_seen_after_pending_ones() {
        let refresh = scripted(vec![
            Ok(Some(TestStatus::Creating)),
            Ok(Some(TestStatus::Creating)),
            Ok(Some(TestStatus::Available)),
        ]);
        let got = wait_for(spec(TARGET), &WaitOptions::default(), refresh).await;
        assert!(matches!(got, Ok(Some(()))), "{got:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn waiter_times_out_naming_the_object_and_last_status() {
        let refresh = scripted(vec![]);
        let err = wait_for(spec(TARGET), &WaitOptions::default(), refresh)
            .await
            .expect_err("must time out");
        let text = err.to_string();
        assert!(matches!(err, WaitError::Timeout { .. }));
        assert!(
            text.contains("Test Object (t1)") && text.contains("creating"),
            "{text}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn deletion_waiter_accepts_disappearance_and_ready_waiter_does_not() {
        let gone = scripted(vec![Ok(Some(TestStatus::Creating)), Ok(None)]);
        let got = wait_for(spec(&[]), &WaitOptions::default(), gone).await;
        assert!(matches!(got, Ok(None)), "{got:?}");
        let gone = scripted(vec![Ok(None)]);
        let got = wait_for(spec(TARGET), &WaitOptions::default(), gone).await;
        assert!(matches!(got, Err(WaitError::Gone { .. })), "{got:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_status_ends_the_wait_instead_of_polling_forever() {
        let refresh = scripted(vec![Ok(Some(TestStatus::from("failed")))]);
        let got = wait_for(spec(TARGET), &WaitOptions::default(), refresh).await;
        assert!(
            matches!(&got, Err(WaitError::UnexpectedStatus { status, .. }) if status == "failed"),
            "{got:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_during_polls_is_retried_but_other_errors_are_not() {
        let refresh = scripted(vec![
            Err(AwsError::Throttled {
                code: "Throttling".into(),
                message: String::new(),
            }),
            Ok(Some(TestStatus::Available)),
        ]);
        let got = wait_for(spec(TARGET), &WaitOptions::default(), refresh).await;
        assert!(matches!(got, Ok(Some(()))), "{got:?}");
        let refresh = scripted(vec![Err(AwsError::Service {
            code: "AccessDenied".into(),
            message: String::new(),
            status: Some(403),
        })]);
        let got = wait_for(spec(TARGET), &WaitOptions::default(), refresh).await;
        assert!(matches!(got, Err(WaitError::Aws(_))), "{got:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn continuous_target_requires_consecutive_observations() {
        let calls = Arc::new(Mutex::new(0_u32));
        let counter = calls.clone();
        let mut inner = scripted(vec![
            Ok(Some(TestStatus::Available)),
            Ok(Some(TestStatus::Creating)),
            Ok(Some(TestStatus::Available)),
            Ok(Some(TestStatus::Available)),
            Ok(Some(TestStatus::Available)),
        ]);
        let refresh = move || {
            *counter.lock().expect("lock") += 1;
            inner()
        };
        let opts = WaitOptions::default().with_continuous_target(3);
        let got = wait_for(spec(TARGET), &opts, refresh).await;
        assert!(matches!(got, Ok(Some(()))), "{got:?}");
        assert_eq!(*calls.lock().expect("lock"), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_stops_the_wait_promptly() {
        let opts = WaitOptions::default();
        opts.cancel.cancel();
        let got = wait_for(spec(TARGET), &opts, scripted(vec![])).await;
        assert!(matches!(got, Err(WaitError::Cancelled { .. })), "{got:?}");
    }

    #[test]
    fn status_enums_round_trip_and_keep_unknown_text() {
        assert_eq!(TestStatus::from("available"), TestStatus::Available);
        assert_eq!(TestStatus::from("weird").as_str(), "weird");
        assert_eq!(TestStatus::Creating.to_string(), "creating");
    }
}
