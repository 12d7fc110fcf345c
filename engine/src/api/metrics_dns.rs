//! CloudWatch (CDC latency) and Route 53 (CNAME records) domain types.

use super::*;

// ---------------------------------------------------------------------------------------------
// CloudWatch
// ---------------------------------------------------------------------------------------------

/// Which task's CDC latency to read (`AWS/DMS` `CDCLatencySource` / `CDCLatencyTarget`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdcLatencyQuery {
    /// Dimension `ReplicationInstanceIdentifier`.
    pub replication_instance_identifier: String,
    /// Dimension `ReplicationTaskIdentifier`. AWS publishes the task's resource id here (the
    /// last `:`-separated part of its ARN), not its user-visible identifier.
    pub replication_task_identifier: String,
    /// End of the window (wall clock; from the engine's `Clock`).
    pub end: SystemTime,
    /// Window length; the implementation returns the latest datapoint inside it.
    pub window: Duration,
    /// CloudWatch `Period` (whole seconds, at least 1): the length of the interval one
    /// datapoint aggregates. DMS publishes these metrics per minute, so 60 s on AWS.
    pub period: Duration,
}

/// The latest CDC latency datapoints, in seconds, each with its CloudWatch timestamp; `None`
/// when no datapoint exists in the window (task not in CDC yet, or metrics delayed).
///
/// A timestamp is the start of the period the datapoint aggregates (CloudWatch's
/// `Timestamps`), on AWS's clock: a latency is a time measured during that period, not a log
/// position.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CdcLatency {
    /// `CDCLatencySource`: source commit to read by DMS.
    pub source_seconds: Option<f64>,
    /// `CDCLatencyTarget`: source commit to applied on the target (the end-to-end lag).
    pub target_seconds: Option<f64>,
    /// Timestamp of the `CDCLatencySource` datapoint.
    pub source_at: Option<SystemTime>,
    /// Timestamp of the `CDCLatencyTarget` datapoint.
    pub target_at: Option<SystemTime>,
}

// ---------------------------------------------------------------------------------------------
// Route 53
// ---------------------------------------------------------------------------------------------

aws_enum! {
    /// `ChangeInfo.Status` of a Route 53 change.
    ChangeStatus {
        /// `PENDING`: not yet on every Route 53 name server.
        Pending => "PENDING",
        /// `INSYNC`: served by every Route 53 name server.
        Insync => "INSYNC",
    }
}

/// A simple-routing CNAME record as Route 53 stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CnameRecord {
    /// The record's value (the host name it points at), without a trailing dot.
    pub value: String,
    /// `TTL` in seconds.
    pub ttl: Option<i64>,
}

/// `ChangeResourceRecordSets` with one UPSERT of a CNAME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertCnameInput {
    /// Hosted zone id (with or without `/hostedzone/`).
    pub zone_id: String,
    /// The record name (the application's host name).
    pub record_name: String,
    /// The host name the record points at.
    pub value: String,
    /// TTL in seconds.
    pub ttl: i64,
    /// Change comment (shown in the Route 53 console).
    pub comment: String,
}
