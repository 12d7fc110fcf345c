//! Names of the objects a cutover creates, and the record of progress kept in tags on the
//! target instance.

use super::*;

// ---------------------------------------------------------------------------------------------
// Names and the record
// ---------------------------------------------------------------------------------------------

pub(super) const UNENCRYPTED_SUFFIX: &str = "-unencrypted";

/// `<source>-unencrypted`: the original instance's name after an identifier swap.
pub(crate) fn unencrypted_name(n: &Names) -> String {
    fit(
        &format!("{}{UNENCRYPTED_SUFFIX}", n.migration),
        RDS_INSTANCE_ID_MAX,
    )
}

/// `rdsenc-<source>-reverse-source`: reads the encrypted instance.
pub(crate) fn reverse_source_endpoint_name(n: &Names) -> String {
    format!("{}-source", n.reverse_task)
}

/// `rdsenc-<source>-reverse-target`: writes the original instance.
pub(crate) fn reverse_target_endpoint_name(n: &Names) -> String {
    format!("{}-target", n.reverse_task)
}

/// `<source>-rdsenc-final`: the original instance's final snapshot (`snapshot_and_delete`).
pub(crate) fn source_final_snapshot_name(n: &Names) -> String {
    format!("{}-rdsenc-final", n.migration)
}

/// True when `i` is this migration's encrypted target (by its tags, whatever its name).
pub(crate) fn is_our_target(n: &Names, i: &DbInstance) -> bool {
    n.owns(&i.tags) && i.tags.get(TAG_ROLE).map(String::as_str) == Some(Role::Target.as_str())
}

/// What the target's tags say about the cutover; `None` = not recorded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CutoverRecord {
    /// The phase recorded by the last switch step.
    pub phase: Option<Phase>,
    /// `cutover_started_at`.
    pub started_at: Option<SystemTime>,
    /// Writes to the source paused (fence applied, or draining began).
    pub writes_paused_at: Option<SystemTime>,
    /// Forward CDC drained (with writes paused).
    pub drained_at: Option<SystemTime>,
    /// The switch completed: the application reaches the encrypted instance.
    pub switched_at: Option<SystemTime>,
    /// `cutover_completed_at` (reverse task running too).
    pub completed_at: Option<SystemTime>,
    /// Reverse CDC drained at failback (with the target fenced).
    pub failback_drained_at: Option<SystemTime>,
}

pub(crate) fn stamp(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

pub(super) fn parse_stamp(s: Option<&String>) -> Option<SystemTime> {
    s.filter(|s| !s.is_empty())
        .and_then(|s| humantime::parse_rfc3339(s).ok())
}

impl CutoverRecord {
    /// Reads the record from the target's tags.
    pub fn from_tags(tags: &Tags) -> Self {
        CutoverRecord {
            phase: tags.get(TAG_PHASE).and_then(|p| p.parse().ok()),
            started_at: parse_stamp(tags.get(TAG_CUTOVER_STARTED)),
            writes_paused_at: parse_stamp(tags.get(TAG_WRITES_PAUSED)),
            drained_at: parse_stamp(tags.get(TAG_DRAINED)),
            switched_at: parse_stamp(tags.get(TAG_SWITCHED)),
            completed_at: parse_stamp(tags.get(TAG_CUTOVER_COMPLETED)),
            failback_drained_at: parse_stamp(tags.get(TAG_FAILBACK_DRAINED)),
        }
    }
    /// `cutover_started_at` (RFC 3339 UTC).
    pub fn started_at_rfc3339(&self) -> Option<String> {
        self.started_at.map(stamp)
    }
    /// `cutover_completed_at` (RFC 3339 UTC).
    pub fn completed_at_rfc3339(&self) -> Option<String> {
        self.completed_at.map(stamp)
    }
    /// `cutover_write_pause_seconds`: writes paused -> switch done.
    pub fn write_pause_seconds(&self) -> Option<f64> {
        let (a, b) = (self.writes_paused_at?, self.switched_at?);
        Some(b.duration_since(a).unwrap_or_default().as_secs_f64())
    }
}
