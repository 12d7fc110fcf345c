//! Time as a dependency: the engine and its waiters read and wait through [`Clock`], so tests
//! run hours of AWS progress in milliseconds on tokio's paused clock.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::time::Instant;

/// Monotonic time, wall time and sleeping.
#[async_trait]
pub trait Clock: Send + Sync {
    /// Monotonic now (tokio's clock, which `start_paused` tests control).
    fn now(&self) -> Instant;
    /// Wall-clock now, for timestamps sent to AWS (metric windows). Tokio's pause does not
    /// affect `SystemTime`, so virtual clocks derive it from [`Clock::now`].
    fn wall_time(&self) -> SystemTime;
    /// Waits `d`.
    async fn sleep(&self, d: Duration);
}

/// The production clock: tokio time for waiting, the system clock for wall time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn wall_time(&self) -> SystemTime {
        SystemTime::now()
    }
    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// A clock whose wall time moves with tokio's (possibly paused) monotonic clock: wall time is
/// a fixed epoch plus the tokio time elapsed since the clock was made.
#[derive(Debug, Clone, Copy)]
pub struct VirtualClock {
    start: Instant,
    epoch: SystemTime,
}

impl VirtualClock {
    /// A virtual clock starting now, with wall time starting at `epoch`.
    pub fn new(epoch: SystemTime) -> Self {
        Self {
            start: Instant::now(),
            epoch,
        }
    }
    /// Virtual time elapsed since the clock was made.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(self.start)
    }
}

impl Default for VirtualClock {
    /// Wall time starts at 2026-01-01T00:00:00Z.
    fn default() -> Self {
        Self::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600))
    }
}

#[async_trait]
impl Clock for VirtualClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn wall_time(&self) -> SystemTime {
        self.epoch + self.elapsed()
    }
    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// How often the engine polls AWS and retries transient failures. The caller passes it:
/// production uses [`PollPolicy::production`], emulator tests a scaled-down policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    /// Wait before the first poll after starting an operation (AWS is eventually consistent
    /// right after a create).
    pub initial_delay: Duration,
    /// First interval between polls.
    pub min_interval: Duration,
    /// Longest interval between polls.
    pub max_interval: Duration,
    /// Interval growth factor per poll (>= 1).
    pub backoff: f64,
    /// Random fraction subtracted from each interval, 0.0..=1.0 (0 = deterministic), so many
    /// waiters do not poll in lock-step.
    pub jitter: f64,
    /// Consecutive target observations required where eventual consistency bites (e.g. a
    /// delete that reads as gone once and reappears).
    pub continuous_target: u32,
    /// Attempts for one AWS call that fails transiently, including the first.
    pub retry_attempts: u32,
    /// First delay before retrying a transient failure; doubles per attempt up to
    /// `max_interval`.
    pub retry_base: Duration,
    /// CloudWatch period asked for CDC latency (60 s: DMS publishes it per minute). The
    /// drain counts only datapoints one period after the fence.
    pub metric_period: Duration,
    /// Real seconds per AWS second: 1.0 on AWS; [`PollPolicy::scaled`] multiplies it. Fixed
    /// waits that stand for AWS time (the fence hold) are multiplied by it, so an emulator
    /// run at scaled time waits its scaled share.
    pub time_scale: f64,
}

impl PollPolicy {
    /// Real AWS: snapshots and restores take minutes to hours.
    pub fn production() -> Self {
        Self {
            initial_delay: Duration::from_secs(5),
            min_interval: Duration::from_secs(10),
            max_interval: Duration::from_secs(60),
            backoff: 1.5,
            jitter: 0.2,
            continuous_target: 2,
            retry_attempts: 8,
            retry_base: Duration::from_secs(2),
            metric_period: Duration::from_secs(60),
            time_scale: 1.0,
        }
    }

    /// Every duration multiplied by `factor` (e.g. 0.01 for the emulator).
    pub fn scaled(&self, factor: f64) -> Self {
        let f = |d: Duration| d.mul_f64(factor.max(0.0));
        Self {
            initial_delay: f(self.initial_delay),
            min_interval: f(self.min_interval),
            max_interval: f(self.max_interval),
            retry_base: f(self.retry_base),
            // CloudWatch periods are whole seconds.
            metric_period: Duration::from_secs(
                f(self.metric_period).as_secs_f64().round().max(1.0) as u64,
            ),
            time_scale: self.time_scale * factor.max(0.0),
            ..self.clone()
        }
    }

    /// The interval after `polls` polls: exponential from `min_interval`, capped at
    /// `max_interval`, minus up to `jitter` of itself.
    pub fn interval(&self, polls: u32) -> Duration {
        jittered(self.backoff_interval(polls), self.jitter)
    }

    /// [`PollPolicy::interval`] before jitter.
    fn backoff_interval(&self, polls: u32) -> Duration {
        let growth = self.backoff.max(1.0).powi(polls.min(64) as i32);
        self.min_interval.mul_f64(growth).min(self.max_interval)
    }

    /// The wait before the next poll of a step that has been waited on for `elapsed`, so
    /// that the step's end is seen soon after it happens (the overshoot is the price of
    /// every sequential step) while a long step still costs few calls:
    /// - `confirming` (a target status was just seen and must be read again, for eventual
    ///   consistency): `min_interval`, since the step is most likely done;
    /// - otherwise the backoff [`PollPolicy::interval`]`(polls)`, but no longer than a tenth
    ///   of `elapsed` (a step's end is then seen within about 10 % of its duration) and no
    ///   longer than `remaining`, the time left estimated from the object's own progress,
    ///   each floored at `min_interval`.
    ///
    /// Calls stay bounded (never more often than `min_interval` minus jitter) and jittered
    /// (the jitter only shortens), so many waiters started together drift apart.
    pub fn next_interval(
        &self,
        polls: u32,
        elapsed: Duration,
        remaining: Option<Duration>,
        confirming: bool,
    ) -> Duration {
        if confirming {
            return jittered(self.min_interval, self.jitter);
        }
        let mut raw = self
            .backoff_interval(polls)
            .min((elapsed / 10).max(self.min_interval));
        if let Some(r) = remaining {
            raw = raw.min(r.max(self.min_interval));
        }
        jittered(raw, self.jitter)
    }

    /// The delay before retry number `attempt` (1-based) of a transiently failing call.
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        let raw = self
            .retry_base
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(16)))
            .min(self.max_interval.max(self.retry_base));
        jittered(raw, self.jitter)
    }
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self::production()
    }
}

fn jittered(d: Duration, jitter: f64) -> Duration {
    let j = jitter.clamp(0.0, 1.0);
    if j == 0.0 {
        return d;
    }
    d.mul_f64(1.0 - j * fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_intervals_grow_to_the_cap_and_jitter_only_shortens_them() {
        let p = PollPolicy {
            jitter: 0.0,
            ..PollPolicy::production()
        };
        assert_eq!(p.interval(0), Duration::from_secs(10));
        assert_eq!(p.interval(1), Duration::from_secs(15));
        assert_eq!(p.interval(50), Duration::from_secs(60));
        let j = PollPolicy::production();
        for n in 0..20 {
            let d = j.interval(n);
            assert!(
                d <= Duration::from_secs(60) && d >= Duration::from_secs(8),
                "{d:?}"
            );
        }
        assert_eq!(p.retry_delay(1), Duration::from_secs(2));
        assert_eq!(p.retry_delay(3), Duration::from_secs(8));
        assert_eq!(p.retry_delay(30), Duration::from_secs(60));
    }

    #[test]
    fn a_scaled_metric_period_stays_whole_seconds_and_at_least_one() {
        let p = PollPolicy::production();
        assert_eq!(p.metric_period, Duration::from_secs(60));
        assert_eq!(p.scaled(0.5).metric_period, Duration::from_secs(30));
        assert_eq!(p.scaled(0.03).metric_period, Duration::from_secs(2));
        assert_eq!(p.scaled(0.001).metric_period, Duration::from_secs(1));
        // Fixed AWS-time waits scale with the policy.
        assert!((p.scaled(0.5).scaled(0.1).time_scale - 0.05).abs() < 1e-12);
    }

    #[test]
    fn polls_follow_the_step_length_and_its_progress_but_never_faster_than_the_minimum() {
        let p = PollPolicy {
            jitter: 0.0,
            ..PollPolicy::production()
        };
        let s = Duration::from_secs;
        // Long steps: the backoff cap.
        assert_eq!(p.next_interval(50, s(3600), None, false), s(60));
        // Short steps: a tenth of the time waited so far, floored at the minimum.
        assert_eq!(p.next_interval(50, s(300), None, false), s(30));
        assert_eq!(p.next_interval(50, s(20), None, false), s(10));
        // Early polls still back off from the minimum.
        assert_eq!(p.next_interval(1, s(3600), None, false), s(15));
        // Progress says the end is near: poll then, not a full interval later.
        assert_eq!(p.next_interval(50, s(3600), Some(s(25)), false), s(25));
        assert_eq!(p.next_interval(50, s(3600), Some(s(1)), false), s(10));
        // Re-reading a target status just seen.
        assert_eq!(p.next_interval(50, s(3600), None, true), s(10));
        // Jitter only shortens, and never below 80 % of the minimum here.
        let j = PollPolicy::production();
        for n in 0..50 {
            let d = j.next_interval(n, s(n.into()) * 100, Some(s(5)), n % 2 == 0);
            assert!(d <= s(60) && d >= s(8), "{d:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn virtual_wall_time_moves_with_paused_tokio_time() {
        let c = VirtualClock::default();
        let w0 = c.wall_time();
        c.sleep(Duration::from_secs(3600)).await;
        assert_eq!(
            c.wall_time().duration_since(w0).ok(),
            Some(Duration::from_secs(3600))
        );
    }
}
