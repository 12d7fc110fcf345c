//! The `read_only` write fence: the fenced instance's own DB parameter group sets `read_only`
//! (MySQL/MariaDB) or `default_transaction_read_only` (PostgreSQL) to 1 with `ApplyMethod`
//! `immediate`. Unlike a security-group change it reaches sessions already open: MySQL's
//! `read_only` is global and binds every session without `SUPER` (which no RDS user has);
//! PostgreSQL's new default reaches an open session's next transaction after the reload.

use std::fmt;

use super::*;

/// Tag on a fenced instance: the fence parameter's value before the fence, `1` or `0` (`0`
/// also for an engine default such as MySQL's `{TrueIfReplica}`, which RDS tag values cannot
/// hold and which is off on a primary); empty once the fence is lifted.
pub(crate) const TAG_ORIGINAL_READ_ONLY: &str = "rdsenc:original-read-only";

/// Tag on a fenced instance: when its `read_only` fence may be lifted for DMS after the
/// switch (switch + `fence_hold_seconds`), recorded before the hold begins so a re-run
/// after a kill waits out only the rest; empty once the fence is lifted.
pub(crate) const TAG_FENCE_HELD_UNTIL: &str = "rdsenc:fence-held-until";

/// `DBParameterGroups[].ParameterApplyStatus`, as far as the fence waits on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApplyStatus {
    InSync,
    Applying,
    Other(String),
}

impl fmt::Display for ApplyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApplyStatus::InSync => "in-sync",
            ApplyStatus::Applying => "applying",
            ApplyStatus::Other(s) => s,
        })
    }
}

impl ApplyStatus {
    fn of(i: &DbInstance) -> Self {
        match i.parameter_apply_status.as_deref() {
            Some("in-sync") => ApplyStatus::InSync,
            Some("applying") => ApplyStatus::Applying,
            other => ApplyStatus::Other(other.unwrap_or("unknown").to_owned()),
        }
    }
}

/// An immediate parameter change reaching the instance. `in-sync` is read twice: right
/// after the call RDS may still show the state from before it. `pending-reboot` fails:
/// the value would not hold until a reboot.
const WAIT_PARAMETERS_APPLIED: Waiter<ApplyStatus> = Waiter::new(
    Step::FenceWrites,
    Phase::CuttingOver,
    &[ApplyStatus::Applying],
    &[ApplyStatus::InSync],
    Duration::from_secs(15 * 60),
)
.reads(2);

/// The parameter that makes `engine` refuse writes, and its value when the group sets none.
pub(crate) fn read_only_parameter(engine: &DbEngine) -> Option<(&'static str, &'static str)> {
    match engine {
        DbEngine::Mysql | DbEngine::Mariadb => Some(("read_only", "0")),
        DbEngine::Postgres => Some(("default_transaction_read_only", "0")),
        DbEngine::Other(_) => None,
    }
}

/// Why the `read_only` fence cannot hold `fenced` alone: no or a default parameter group
/// (RDS refuses to change those), or one any of `others` also uses (the fence would stop
/// its writes too, and lifting it could make a read replica writable). Empty when it can.
pub(crate) fn read_only_fence_problems<'a>(
    fenced: &DbInstance,
    others: impl IntoIterator<Item = &'a DbInstance>,
) -> Vec<String> {
    let id = &fenced.identifier;
    if read_only_parameter(&fenced.engine).is_none() {
        return vec![format!(
            "write_fence \"read_only\" supports MySQL, MariaDB and PostgreSQL, not the engine {} of {id}",
            fenced.engine
        )];
    }
    let Some(group) = fenced.db_parameter_group_name.as_deref() else {
        return vec![format!(
            "write_fence \"read_only\" needs a custom DB parameter group on {id}, which reports none"
        )];
    };
    if group.starts_with("default.") {
        return vec![format!(
            "write_fence \"read_only\" changes the DB parameter group of {id}, but it uses the default group {group}, which RDS does not let anyone change; attach a custom group of its own"
        )];
    }
    let sharing: Vec<&str> = others
        .into_iter()
        .filter(|o| o.identifier != *id && o.db_parameter_group_name.as_deref() == Some(group))
        .map(|o| o.identifier.as_str())
        .collect();
    if sharing.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "write_fence \"read_only\" changes the DB parameter group {group} of {id}, but {} {} it too and would be fenced with it; give each instance its own custom group",
        sharing.join(", "),
        if sharing.len() == 1 { "uses" } else { "use" }
    )]
}

impl Run<'_> {
    /// Sets the fence parameter of `inst`'s group to 1, remembering its value in a tag first
    /// (a crash between the two still knows what to restore), and waits until the group is
    /// `in-sync` on the instance.
    pub(crate) async fn fence_read_only(
        &self,
        inst: &DbInstance,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let problems = read_only_fence_problems(inst, []);
        let (Some((name, unset)), Some(group), true) = (
            read_only_parameter(&inst.engine),
            inst.db_parameter_group_name.clone(),
            problems.is_empty(),
        ) else {
            return Err(refused("write_fence", "fence writes", problems));
        };
        let remembered = inst
            .tags
            .get(TAG_ORIGINAL_READ_ONLY)
            .is_some_and(|v| !v.is_empty());
        if !remembered {
            let before = self
                .call(Step::FenceWrites, &group, || {
                    self.aws().describe_db_parameter(&group, name)
                })
                .await?;
            let on = before.as_deref().is_some_and(|v| {
                ["1", "on", "true"]
                    .iter()
                    .any(|t| v.eq_ignore_ascii_case(t))
            });
            let before = if on { "1" } else { unset };
            self.record(
                inst,
                &[
                    (TAG_ORIGINAL_READ_ONLY, before.to_owned()),
                    (TAG_FENCE_HELD_UNTIL, String::new()),
                ],
            )
            .await?;
        }
        self.set_parameter(Step::FenceWrites, inst, &group, name, "1", phase)
            .await?;
        self.emit(
            phase,
            Step::FenceWrites,
            &inst.identifier,
            None,
            "read-only",
        );
        Ok(())
    }

    /// Restores the value recorded by [`Run::fence_read_only`]; no-op when none is recorded.
    pub(crate) async fn lift_read_only(
        &self,
        inst: &DbInstance,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let Some(before) = inst
            .tags
            .get(TAG_ORIGINAL_READ_ONLY)
            .filter(|v| !v.is_empty())
        else {
            return Ok(());
        };
        if let (Some((name, _)), Some(group)) = (
            read_only_parameter(&inst.engine),
            inst.db_parameter_group_name.as_deref(),
        ) {
            self.set_parameter(Step::LiftFence, inst, group, name, before, phase)
                .await?;
        }
        // Empty = no fence in place; a later fence records the value afresh.
        self.record(
            inst,
            &[
                (TAG_ORIGINAL_READ_ONLY, String::new()),
                (TAG_FENCE_HELD_UNTIL, String::new()),
            ],
        )
        .await?;
        self.emit(phase, Step::LiftFence, &inst.identifier, None, "writable");
        Ok(())
    }

    async fn set_parameter(
        &self,
        step: Step,
        inst: &DbInstance,
        group: &str,
        name: &str,
        value: &str,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let input = ModifyDbParameterInput {
            group: group.to_owned(),
            name: name.to_owned(),
            value: value.to_owned(),
        };
        self.call(step, group, || self.aws().modify_db_parameter(&input))
            .await?;
        let w = Waiter {
            step,
            phase,
            ..WAIT_PARAMETERS_APPLIED
        };
        let id = inst.identifier.as_str();
        self.wait(
            &w,
            id,
            true,
            || async {
                with_status(self.aws().describe_db_instance(id).await, ApplyStatus::of)
            },
            no_percent,
            |i| {
                Some(format!(
                    "the DB parameter group {} is {} on the instance: the write fence's change does not apply until a reboot",
                    i.db_parameter_group_name.as_deref().unwrap_or("(none)"),
                    ApplyStatus::of(i)
                ))
            },
        )
        .await?;
        Ok(())
    }
}

/// `t` rounded up to a whole second (tags hold whole seconds).
fn ceil_seconds(t: SystemTime) -> SystemTime {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) if d.subsec_nanos() > 0 => {
            SystemTime::UNIX_EPOCH + Duration::from_secs(d.as_secs().saturating_add(1))
        }
        _ => t,
    }
}

impl Run<'_> {
    /// Before a DMS task starts writing into `inst` (the reverse task into the source at
    /// cutover, the forward task into the target at failback): on MySQL/MariaDB no RDS user
    /// can write past `read_only` (it takes `SUPER`), so a `read_only` fence recorded there
    /// is lifted. On PostgreSQL it stays: DMS's own sessions turn the default off in the
    /// endpoint's after-connect script ([`target_after_connect_script`]).
    ///
    /// Called after the switch: the fence first holds `hold` longer, so connections still
    /// reaching `inst` (cached DNS answers, pooled sessions) get a read-only error rather
    /// than a write the held task would never carry over. The hold's end is recorded on
    /// `inst` before waiting; a re-run waits only for what is left of it.
    pub(crate) async fn admit_dms_writes(
        &self,
        inst: Option<&DbInstance>,
        hold: Duration,
        phase: Phase,
    ) -> Result<(), EngineError> {
        let Some(i) = inst.filter(|i| matches!(i.engine, DbEngine::Mysql | DbEngine::Mariadb))
        else {
            return Ok(());
        };
        let fenced = i
            .tags
            .get(TAG_ORIGINAL_READ_ONLY)
            .is_some_and(|v| !v.is_empty());
        if fenced {
            let until = match parse_stamp(i.tags.get(TAG_FENCE_HELD_UNTIL)) {
                Some(t) => t,
                None => {
                    // Rounded up to the tag's whole seconds, so a re-run reading it back
                    // does not lift early.
                    // `hold` is AWS time; at scaled time (the emulator) it passes faster.
                    let hold = hold.mul_f64(self.e.poll.time_scale.max(0.0));
                    let t = ceil_seconds(self.e.clock.wall_time() + hold);
                    self.record(i, &[(TAG_FENCE_HELD_UNTIL, stamp(t))]).await?;
                    t
                }
            };
            let left = until
                .duration_since(self.e.clock.wall_time())
                .unwrap_or_default();
            if !left.is_zero() {
                self.emit(
                    phase,
                    Step::LiftFence,
                    &i.identifier,
                    None,
                    &format!("read-only until {}", stamp(until)),
                );
                self.sleep(Step::LiftFence, left).await?;
            }
        }
        self.lift_read_only(i, phase).await
    }
}

/// Whether DMS writing into `inst` needs its fence lifted first: a `read_only` fence on
/// MySQL/MariaDB binds every RDS user, DMS's included (PostgreSQL's DMS sessions turn the
/// default off in their after-connect script).
pub(crate) fn dms_writes_need_lift(fence: &WriteFence, inst: &DbInstance) -> bool {
    matches!(fence, WriteFence::ReadOnly)
        && matches!(inst.engine, DbEngine::Mysql | DbEngine::Mariadb)
}
