//! The cutover configuration (`cutover_strategy`, the `route53` block, the write fence,
//! `retire_source`) and its plan-time validation.

use super::*;

/// The `route53` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route53Record {
    /// `route53.zone_id`.
    pub zone_id: String,
    /// `route53.record_name`: the host name the application connects to.
    pub record_name: String,
    /// `route53.ttl` in seconds.
    pub ttl: i64,
}

/// `cutover_strategy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CutoverStrategy {
    /// `"route53"`: UPSERT the CNAME to the active instance's address.
    Route53(Route53Record),
    /// `"identifier_swap"`: `<source>` -> `<source>-unencrypted`, target -> `<source>`.
    IdentifierSwap,
    /// `"none"`: only `active_endpoint` / `active_db_instance_identifier` change.
    None,
}

impl CutoverStrategy {
    /// From the `cutover_strategy` string and the `route53` block.
    ///
    /// **Errors**: an unknown strategy (attribute `cutover_strategy`), or `route53` without
    /// its block (attribute `route53`).
    pub fn from_config(
        strategy: &str,
        route53: Option<Route53Record>,
    ) -> Result<Self, EngineError> {
        match (strategy, route53) {
            ("route53", Some(r)) => Ok(CutoverStrategy::Route53(r)),
            ("route53", None) => Err(EngineError::InvalidSpec {
                attribute: "route53",
                message: "is required when cutover_strategy is \"route53\"".into(),
            }),
            ("identifier_swap", _) => Ok(CutoverStrategy::IdentifierSwap),
            ("none", _) => Ok(CutoverStrategy::None),
            (other, _) => Err(EngineError::InvalidSpec {
                attribute: "cutover_strategy",
                message: format!(
                    "unknown value {other:?}; use \"route53\", \"identifier_swap\" or \"none\""
                ),
            }),
        }
    }
}

/// `write_fence` (+ `fence_security_group_ids`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteFence {
    /// `"none"`: the user stops writes (maintenance page); the engine only drains.
    None,
    /// `"security_groups"`: the instance losing traffic is moved to these groups, which
    /// admit DMS but not the application. Connections already open stay open (security
    /// groups track them), so pooled sessions can still write.
    SecurityGroups(Vec<String>),
    /// `"read_only"`: the instance losing traffic gets `read_only` (MySQL/MariaDB) or
    /// `default_transaction_read_only` (PostgreSQL) = 1 through its own DB parameter group,
    /// applied immediately, which reaches sessions already open.
    ReadOnly,
}

/// `retire_source`, applied at finalize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetireSource {
    /// `"keep"`: leave the original instance running.
    #[default]
    Keep,
    /// `"stop"`: StopDBInstance (AWS starts it again after 7 days).
    Stop,
    /// `"snapshot_and_delete"`: final snapshot `<source>-rdsenc-final`, then delete.
    SnapshotAndDelete,
}

impl FromStr for RetireSource {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "keep" => Ok(RetireSource::Keep),
            "stop" => Ok(RetireSource::Stop),
            "snapshot_and_delete" => Ok(RetireSource::SnapshotAndDelete),
            other => Err(EngineError::InvalidSpec {
                attribute: "retire_source",
                message: format!(
                    "unknown value {other:?}; use \"keep\", \"stop\" or \"snapshot_and_delete\""
                ),
            }),
        }
    }
}

/// Everything cutover, failback and finalize need besides the [`MigrationSpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutoverSpec {
    /// `cutover_strategy` (+ `route53`).
    pub strategy: CutoverStrategy,
    /// `write_fence` (+ `fence_security_group_ids`).
    pub write_fence: WriteFence,
    /// `max_cutover_lag_seconds` (default 5).
    pub max_lag: Duration,
    /// `require_validation` (default: `dms.validation`).
    pub require_validation: bool,
    /// `retire_source`.
    pub retire_source: RetireSource,
    /// `fence_hold_seconds`: after the switch, how long the instance that lost traffic
    /// stays read-only before DMS may write into it (MySQL/MariaDB with
    /// [`WriteFence::ReadOnly`] only: elsewhere nothing is lifted for DMS). Connections
    /// still reaching it (cached DNS answers, pooled sessions) get a read-only error
    /// meanwhile instead of a write that would be lost. Default [`default_fence_hold`].
    pub fence_hold: Duration,
    /// `switchover_timeout` in seconds (`strategy = "blue_green"`; `None` = RDS's 300).
    /// With blue/green, `max_lag`, `require_validation`, `write_fence` and the DNS /
    /// identifier-swap strategy do not apply: RDS blocks writes during the switchover,
    /// refuses it when green lags (its own guardrail), and renames the instances itself.
    pub switchover_timeout_seconds: Option<i32>,
}

/// Longest `fence_hold_seconds`: a day. The held task's backlog (the writes made on the new
/// primary meanwhile) must stay in its source's log, and a longer hold is a typo more often
/// than a pool lifetime.
pub const FENCE_HOLD_MAX: Duration = Duration::from_secs(86_400);

/// Default `fence_hold_seconds`: with `route53`, the record's TTL plus 60 s (resolvers
/// honour the TTL; 60 s covers connections opened just before it expired and short-lived
/// pools); otherwise 60 s (the name changes at once, only open connections remain). Pools
/// that keep connections longer need `fence_hold_seconds` set to their maximum lifetime
/// plus the TTL.
pub fn default_fence_hold(strategy: &CutoverStrategy) -> Duration {
    let ttl = match strategy {
        CutoverStrategy::Route53(r) => u64::try_from(r.ttl).unwrap_or(0),
        CutoverStrategy::IdentifierSwap | CutoverStrategy::None => 0,
    };
    Duration::from_secs(ttl.saturating_add(60))
}

/// [`CutoverSpec::validate`]'s checks for the DMS strategy: the identifier swap's rename
/// must fit RDS's identifier length.
pub(crate) fn validate_dms_cutover(
    cut: &CutoverSpec,
    spec: &MigrationSpec,
    bad: &mut dyn FnMut(&'static str, String),
) {
    if cut.strategy == CutoverStrategy::IdentifierSwap {
        let n = spec.names();
        let renamed = format!("{}{UNENCRYPTED_SUFFIX}", n.migration);
        if renamed.len() > RDS_INSTANCE_ID_MAX {
            bad(
                "cutover_strategy",
                format!(
                    "identifier_swap renames the source to {renamed:?}, longer than the {RDS_INSTANCE_ID_MAX} characters RDS allows; use \"route53\" or \"none\""
                ),
            );
        }
    }
}

impl CutoverSpec {
    /// Checks what can be checked without AWS; every error names its attribute.
    ///
    /// **Errors**: one [`EngineError::InvalidSpec`] per problem.
    pub fn validate(&self, spec: &MigrationSpec) -> Result<(), Vec<EngineError>> {
        let mut errs = Vec::new();
        let mut bad = |attribute: &'static str, message: String| {
            errs.push(EngineError::InvalidSpec { attribute, message });
        };
        if let CutoverStrategy::Route53(r) = &self.strategy {
            if r.zone_id.trim().is_empty() {
                bad("route53.zone_id", "must not be empty".into());
            }
            if r.record_name.trim().is_empty() {
                bad("route53.record_name", "must not be empty".into());
            }
            if !(0..=2_147_483_647).contains(&r.ttl) {
                bad(
                    "route53.ttl",
                    format!("must be 0-2147483647, got {}", r.ttl),
                );
            }
        }
        if self.fence_hold > FENCE_HOLD_MAX {
            bad(
                "fence_hold_seconds",
                format!(
                    "must be 0-{} seconds, got {} (the default is route53.ttl + 60 s, or 60 s)",
                    FENCE_HOLD_MAX.as_secs(),
                    self.fence_hold.as_secs()
                ),
            );
        }
        crate::strategy::ops(spec.strategy).validate_cutover(self, spec, &mut bad);
        if let WriteFence::SecurityGroups(sgs) = &self.write_fence
            && (sgs.is_empty() || sgs.iter().any(|s| !s.starts_with("sg-")))
        {
            bad(
                "fence_security_group_ids",
                "must list at least one security group id (sg-...) that admits the DMS replication instance but not the application".into(),
            );
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}
