//! The plan-time description of what a cutover would do (pure, from the last observed state).

use super::*;

// ---------------------------------------------------------------------------------------------
// Plan-time description
// ---------------------------------------------------------------------------------------------

pub(super) fn addr(i: Option<&DbInstance>) -> String {
    i.and_then(|i| i.endpoint.as_ref())
        .map_or_else(|| "(unknown address)".to_owned(), |e| e.address.clone())
}

/// The lag the gates compare: the larger of source and target latency.
pub(crate) fn lag_text(l: &CdcLatency) -> String {
    match larger_lag(l) {
        Some(s) => format!("{s:.1}s"),
        None => "unknown (no CDCLatencySource and CDCLatencyTarget datapoints)".into(),
    }
}

pub(crate) fn fence_text(fence: &WriteFence, who: &str) -> String {
    match fence {
        WriteFence::None => format!(
            "Write fence: none; the engine does not stop writes to {who}, so keep the application from writing (maintenance page) until the switch completes: a write that reaches {who} after the drain begins (an open pooled session, a cached DNS answer) is never replicated and is lost from the encrypted instance."
        ),
        WriteFence::SecurityGroups(sgs) => format!(
            "Write fence: {who} moves to security groups {} (they must admit DMS but not the application); its current groups are recorded in tag {TAG_ORIGINAL_SGS} and restored at failback or finalize. Connections already open stay open (security groups track them): pooled sessions can still write.",
            sgs.join(", ")
        ),
        WriteFence::ReadOnly => format!(
            "Write fence: {who} is made read-only through its own DB parameter group (read_only = 1 on MySQL/MariaDB, default_transaction_read_only = 1 on PostgreSQL, applied immediately), which reaches sessions already open: their writes fail with a read-only error, reads go on. The previous value is recorded in tag {TAG_ORIGINAL_READ_ONLY} and restored when the fence is lifted."
        ),
    }
}

/// The `fence_hold_seconds` sentence when `fenced` (the instance losing traffic) is a
/// MySQL/MariaDB instance under a `read_only` fence: only there is the fence lifted for DMS.
pub(crate) fn hold_text(
    cut: &CutoverSpec,
    fenced: Option<&DbInstance>,
    who: &str,
) -> Option<String> {
    let i = fenced.filter(|i| dms_writes_need_lift(&cut.write_fence, i))?;
    Some(format!(
        "Fence hold: after the switch {who} ({}) stays read-only for fence_hold_seconds = {}s before its fence is lifted and DMS writes into it; a write reaching it after that (a DNS answer cached longer, a pooled connection older than the hold) succeeds there and is lost.",
        i.identifier,
        cut.fence_hold.as_secs()
    ))
}

/// [`describe_cutover`](crate::describe_cutover) for the DMS strategy.
pub(crate) fn describe_dms_cutover(
    spec: &MigrationSpec,
    cut: &CutoverSpec,
    o: &Observed,
) -> Vec<String> {
    let n = spec.names();
    let src = o.source.as_ref();
    let tgt = o.target.as_ref();
    let mut out = vec![format!(
        "Cutover of {} to the encrypted instance {}: now phase {}, replication lag {} (allowed {:.0}s), validation {}{}.",
        n.migration,
        tgt.map_or(n.target.as_str(), |t| t.identifier.as_str()),
        o.phase,
        lag_text(&o.lag),
        cut.max_lag.as_secs_f64(),
        o.validation,
        if cut.require_validation {
            " (required)"
        } else {
            " (not required)"
        },
    )];
    if cut.write_fence == WriteFence::ReadOnly
        && let Some(s) = src
    {
        let problems = read_only_fence_problems(s, tgt);
        if !problems.is_empty() {
            out.push(format!(
                "Apply will refuse and change nothing unless this is fixed: {}.",
                problems.join("; ")
            ));
        }
    }
    if let Err(fails) = cutover_checks(o, cut.max_lag, cut.require_validation) {
        let lag_only = fails.iter().all(|f| {
            matches!(
                f,
                CheckFailure::LagTooHigh { .. } | CheckFailure::LagUnknown
            )
        });
        let list: Vec<String> = fails.iter().map(ToString::to_string).collect();
        out.push(if lag_only {
            format!(
                "Not ready yet: {}; apply waits for the lag within the update timeout.",
                list.join("; ")
            )
        } else {
            format!(
                "Apply will refuse and change nothing unless this is fixed: {}.",
                list.join("; ")
            )
        });
    }
    out.push(fence_text(
        &cut.write_fence,
        &format!("the source {}", n.migration),
    ));
    out.extend(hold_text(cut, src, &format!("the source {}", n.migration)));
    out.push(format!(
        "Writes pause from the fence until the switch completes: the drain waits for {DRAIN_READS} CloudWatch datapoints, each newer than the last and stamped a period (60 s) or more after the fence, with source and target CDC latency below 1 s (a latency per minute, not a log position; minutes on AWS); then the forward task {} is stopped, and the reverse task {} starts (CDC only, encrypted -> original) at the encrypted instance's current log position, before the switch. If the forward task fails, stops or suspends a table meanwhile, nothing is switched and cutover = false rolls back.",
        n.task, n.reverse_task
    ));
    out.push(match &cut.strategy {
        CutoverStrategy::Route53(r) => format!(
            "Route 53: CNAME {} in zone {} changes from {} to {} (TTL {}s), and apply waits until the change is INSYNC.",
            r.record_name,
            r.zone_id,
            addr(src),
            addr(tgt),
            r.ttl
        ),
        CutoverStrategy::IdentifierSwap => format!(
            "Identifier swap: {} is renamed to {}, then {} to {}, so the application's host name names the encrypted instance (each rename takes minutes; RDS keeps the old name reserved meanwhile).",
            n.migration,
            unencrypted_name(&n),
            n.target,
            n.migration
        ),
        CutoverStrategy::None => format!(
            "No DNS or identifier change: only active_endpoint and active_db_instance_identifier move to {} ({}); repoint the application yourself.",
            n.target,
            addr(tgt)
        ),
    });
    out.push(format!(
        "Failback stays possible: the reverse task {} keeps {} up to date until finalize.",
        n.reverse_task, n.migration
    ));
    out
}
