//! Amazon CloudWatch: DMS CDC latency through GetMetricData (the current SDK, Smithy RPCv2
//! CBOR protocol).
//!
//! DMS publishes `CDCLatencySource` (seconds the source's changes wait to be read) and
//! `CDCLatencyTarget` (seconds until they are applied to the target) in namespace `AWS/DMS`
//! with the dimensions `ReplicationInstanceIdentifier` and `ReplicationTaskIdentifier`, in that
//! order (GetMetricData needs the exact dimension list). The task dimension is the task's
//! *resource id*: the last segment of its ARN (the engine derives it).

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy,
};
use aws_smithy_types::DateTime;

use super::error::operation_errors;
use rdsenc_engine::api::AwsError;

/// Object kind used in messages for metrics.
pub const KIND_METRIC: &str = "CloudWatch Metric";
/// The DMS metrics namespace.
pub const NAMESPACE_DMS: &str = "AWS/DMS";
/// Source-side CDC latency metric.
pub const METRIC_CDC_LATENCY_SOURCE: &str = "CDCLatencySource";
/// Target-side CDC latency metric.
pub const METRIC_CDC_LATENCY_TARGET: &str = "CDCLatencyTarget";

operation_errors! {
    aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataError => ;
}

/// The newest CDC latency data points of a task with their CloudWatch timestamps (the start
/// of the period each aggregates). `None` when CloudWatch has no data in the window (task not
/// running, or metrics not published yet).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CdcLatency {
    /// Newest `CDCLatencySource`: its timestamp and seconds.
    pub source: Option<(SystemTime, f64)>,
    /// Newest `CDCLatencyTarget`: its timestamp and seconds.
    pub target: Option<(SystemTime, f64)>,
}

fn query(
    id: &str,
    metric: &str,
    instance_dim: &str,
    task_dim: &str,
    period: Duration,
) -> MetricDataQuery {
    let dims = [
        ("ReplicationInstanceIdentifier", instance_dim),
        ("ReplicationTaskIdentifier", task_dim),
    ];
    let mut m = Metric::builder()
        .namespace(NAMESPACE_DMS)
        .metric_name(metric);
    for (name, value) in dims {
        m = m.dimensions(Dimension::builder().name(name).value(value).build());
    }
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(m.build())
                .period(i32::try_from(period.as_secs().max(1)).unwrap_or(60))
                .stat("Maximum")
                .build(),
        )
        .return_data(true)
        .build()
}

/// The newest point of a result (results are requested newest first, but do not rely on it).
fn newest(result: &MetricDataResult) -> Option<(DateTime, f64)> {
    result
        .timestamps()
        .iter()
        .zip(result.values())
        .max_by(|a, b| a.0.cmp(b.0))
        .map(|(t, v)| (*t, *v))
}

/// Reads the newest CDC latency of the task in `[end - lookback, end]`, aggregated per
/// `period` (60 s on AWS). `end` is a parameter so callers pass their (virtual) clock's wall
/// time.
pub async fn get_cdc_latency(
    client: &Client,
    replication_instance_dim: &str,
    task_dim: &str,
    end: SystemTime,
    lookback: Duration,
    period: Duration,
) -> Result<CdcLatency, AwsError> {
    let start = end.checked_sub(lookback).unwrap_or(SystemTime::UNIX_EPOCH);
    let pages: Vec<_> = client
        .get_metric_data()
        .metric_data_queries(query(
            "source",
            METRIC_CDC_LATENCY_SOURCE,
            replication_instance_dim,
            task_dim,
            period,
        ))
        .metric_data_queries(query(
            "target",
            METRIC_CDC_LATENCY_TARGET,
            replication_instance_dim,
            task_dim,
            period,
        ))
        .start_time(DateTime::from(start))
        .end_time(DateTime::from(end))
        .scan_by(ScanBy::TimestampDescending)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| crate::aws::error::from_sdk(e, KIND_METRIC, task_dim))?;
    let mut best: [Option<(DateTime, f64)>; 2] = [None, None];
    for result in pages.iter().flat_map(|p| p.metric_data_results()) {
        let slot = match result.id() {
            Some("source") => 0,
            Some("target") => 1,
            _ => continue,
        };
        if let Some((t, v)) = newest(result)
            && best[slot].is_none_or(|(bt, _)| t > bt)
        {
            best[slot] = Some((t, v));
        }
    }
    // A timestamp before the epoch (never sent by CloudWatch) reads as no datapoint.
    let point = |p: Option<(DateTime, f64)>| {
        p.and_then(|(t, v)| SystemTime::try_from(t).ok().map(|t| (t, v)))
    };
    Ok(CdcLatency {
        source: point(best[0]),
        target: point(best[1]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_carry_instance_then_task_dimensions_in_order() {
        let q = query(
            "source",
            METRIC_CDC_LATENCY_SOURCE,
            "ri-1",
            "TASK1",
            Duration::from_secs(60),
        );
        let metric = q.metric_stat().and_then(|s| s.metric()).expect("metric");
        let names: Vec<_> = metric
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap_or_default(), d.value().unwrap_or_default()))
            .collect();
        assert_eq!(
            names,
            [
                ("ReplicationInstanceIdentifier", "ri-1"),
                ("ReplicationTaskIdentifier", "TASK1")
            ]
        );
        assert_eq!(metric.namespace(), Some(NAMESPACE_DMS));
        assert_eq!(q.metric_stat().and_then(|s| s.period()), Some(60));
    }
}
