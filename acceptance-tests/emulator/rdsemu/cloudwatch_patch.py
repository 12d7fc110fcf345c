"""CloudWatch: DMS CDC-lag metrics, and Smithy RPC v2 CBOR (which moto 5.2.5 does not serve).

The current aws-sdk-cloudwatch (and botocore >= 1.40) send
``POST /service/GraniteServiceVersion20100801/operation/<Op>`` with header
``smithy-protocol: rpc-v2-cbor`` and a CBOR body. Timestamps are CBOR tag 1 (epoch
seconds); errors are CBOR maps with ``__type`` (plus ``x-amzn-query-error`` because
CloudWatch is ``awsQueryCompatible``).

Served over CBOR: GetMetricData, GetMetricStatistics, PutMetricData, ListMetrics (boto3
1.44 still speaks awsJson1.0 to CloudWatch, which moto serves). In every protocol, metrics
come from moto's CloudWatch backend, except ``AWS/DMS`` ``CDCLatencySource`` /
``CDCLatencyTarget`` for a known replication task, which are synthesised: one datapoint
per period while the task is ``running`` (value from ``POST /_emulator/lag``, default 0),
stamped with the start of its period (periods aligned to the epoch, the newest one still
filling), nothing when it is not running.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import cbor2
from moto.cloudwatch.models import CloudWatchBackend, MetricDatum, Statistics, cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID

from . import dms_patch
from .dataplane.dms import wiring as dataplane
from .state import STATE

PATH_PREFIX = "/service/GraniteServiceVersion20100801/operation/"
LAG_METRICS = {"CDCLatencySource": "source_seconds", "CDCLatencyTarget": "target_seconds"}


class CloudWatchError(Exception):
    """An error to return as a CBOR ``__type`` body."""

    def __init__(self, shape: str, query_code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.shape = shape
        self.query_code = query_code
        self.message = message
        self.status = status


def _invalid(message: str) -> CloudWatchError:
    return CloudWatchError("InvalidParameterValueException", "InvalidParameterValue", message)


def _ts(epoch: float) -> cbor2.CBORTag:
    return cbor2.CBORTag(1, float(epoch))


def _epoch(value: Any, name: str) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise _invalid(f"The parameter {name} must be a timestamp.")


def _naive(epoch: float) -> datetime:
    """Moto stores naive UTC datetimes."""
    return datetime.fromtimestamp(epoch, tz=UTC).replace(tzinfo=None)


def _backend(region: str) -> Any:
    return cloudwatch_backends[DEFAULT_ACCOUNT_ID][region]


def _lag_series(
    namespace: str, metric: str, dimensions: list[dict[str, str]], start: float, end: float, period: int
) -> list[tuple[float, float]] | None:
    """(bucket start, value) pairs for a DMS lag metric, or None when not synthesised."""
    if namespace != "AWS/DMS" or metric not in LAG_METRICS:
        return None
    ref = next((d.get("Value") for d in dimensions if d.get("Name") == "ReplicationTaskIdentifier"), None)
    if not ref:
        return None
    task = dms_patch.find_task_by_ref(ref)
    if task is None:
        return None
    run = task.__dict__.get("_emu_run")
    if task.status != "running" or run is None:
        return []
    now = time.time()
    # CloudWatch timestamps are whole seconds: allow one period of slack so a query
    # ending "now" right after the task started still sees the running task.
    running_since = float(run["running_wall"]) - period
    points = []
    dp = dataplane.run_for(task)
    # Datapoints are stamped with the start of their period, periods aligned to the epoch:
    # CloudWatch rounds StartTime down (to the whole minute for a 60 s period), so the same
    # datapoint keeps its timestamp whatever window a reader asks for.
    bucket = start - start % period
    while bucket < end and bucket <= now:
        bucket_end = bucket + period
        if bucket_end > running_since:
            if dp is not None:
                # The data plane measures real apply lag; real seconds / time scale are the
                # emulated seconds a reader of the metric lives in.
                measured = dp.lag_at(bucket, bucket_end)
                value = 0.0 if measured is None else measured[0 if metric == "CDCLatencySource" else 1]
                points.append((bucket, value / STATE.time_scale))
            else:
                lag = STATE.lag_at(task.id, min(bucket_end, now))
                points.append((bucket, float(getattr(lag, LAG_METRICS[metric]))))
        bucket = bucket_end
    return points


def _synthetic_results(
    self: CloudWatchBackend, query: dict[str, Any], start: float, end: float
) -> dict[str, Any] | None:
    stat = query.get("MetricStat") or {}
    metric = stat.get("Metric") or {}
    period = int(stat.get("Period") or 60)
    points = _lag_series(
        metric.get("Namespace", ""), metric.get("MetricName", ""), metric.get("Dimensions") or [], start, end, period
    )
    if points is None:
        return None
    label = query.get("Label") or metric.get("MetricName", query.get("Id", ""))
    return {
        "id": query["Id"],
        "label": label,
        "values": [v for _, v in points],
        "timestamps": [_naive(t) for t, _ in points],
        "status_code": "Complete",
    }


def _get_metric_data(
    self: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    """Moto's get_metric_data, with DMS lag metrics synthesised per query."""
    start, end = _epoch(start_time, "StartTime"), _epoch(end_time, "EndTime")
    results = []
    for query in queries:
        synthetic = _synthetic_results(self, query, start, end) if "MetricStat" in query else None
        if synthetic is None:
            results.extend(_orig_get_metric_data(self, [query], start_time, end_time, scan_by))
            continue
        if query.get("ReturnData", True) is False:
            continue
        if scan_by == "TimestampDescending":
            synthetic["values"].reverse()
            synthetic["timestamps"].reverse()
        results.append(synthetic)
    return results


def _get_metric_statistics(
    self: CloudWatchBackend,
    namespace: str,
    metric_name: str,
    start_time: datetime,
    end_time: datetime,
    period: int,
    stats: list[str],
    dimensions: list[dict[str, str]],
    unit: str | None = None,
) -> list[Statistics]:
    """Moto's get_metric_statistics, with DMS lag metrics synthesised."""
    points = _lag_series(
        namespace,
        metric_name,
        dimensions or [],
        _epoch(start_time, "StartTime"),
        _epoch(end_time, "EndTime"),
        int(period),
    )
    if points is None:
        return list(
            _orig_get_metric_statistics(
                self, namespace, metric_name, start_time, end_time, period, stats, dimensions, unit
            )
        )
    out = []
    for t, v in points:
        bucket = Statistics(stats, _naive(t), "Seconds")
        bucket.metric_data = [MetricDatum(namespace, metric_name, v, dimensions or [], _naive(t), "Seconds")]
        out.append(bucket)
    return out


_orig_get_metric_data = CloudWatchBackend.get_metric_data
_orig_get_metric_statistics = CloudWatchBackend.get_metric_statistics


def apply() -> None:
    """Install the lag synthesis into moto's CloudWatch backend (all protocols)."""
    CloudWatchBackend.get_metric_data = _get_metric_data  # type: ignore[method-assign]
    CloudWatchBackend.get_metric_statistics = _get_metric_statistics  # type: ignore[method-assign]


# --- Smithy RPC v2 CBOR -------------------------------------------------------------------


def get_metric_data(body: dict[str, Any], region: str) -> dict[str, Any]:
    """GetMetricData over CBOR: MetricStat queries; metric-math expressions return empty."""
    start = _epoch(body.get("StartTime"), "StartTime")
    end = _epoch(body.get("EndTime"), "EndTime")
    if start >= end:
        raise _invalid("The parameter StartTime must be less than the parameter EndTime.")
    scan_by = body.get("ScanBy") or "TimestampDescending"
    queries = body.get("MetricDataQueries") or []
    for query in queries:
        if "Id" not in query:
            raise CloudWatchError(
                "MissingRequiredParameterException",
                "MissingParameter",
                "The parameter MetricDataQueries.member.Id is required.",
            )
        if "MetricStat" not in query and "Expression" not in query:
            raise _invalid("The parameter MetricDataQueries.member.MetricStat is required.")
        if "MetricStat" in query and int(query["MetricStat"].get("Period") or 0) <= 0:
            raise _invalid("The parameter MetricDataQueries.member.MetricStat.Period must be greater than 0.")
    stat_queries = [q for q in queries if "MetricStat" in q]
    found = _backend(region).get_metric_data(
        queries=stat_queries, start_time=_naive(start), end_time=_naive(end), scan_by=scan_by
    )
    results = [
        {
            "Id": r["id"],
            "Label": r["label"],
            "Timestamps": [_ts(_epoch(t, "Timestamp")) for t in r["timestamps"]],
            "Values": [float(v) for v in r["values"]],
            "StatusCode": r.get("status_code", "Complete"),
        }
        for r in found
    ]
    for query in queries:
        if "MetricStat" not in query and query.get("ReturnData", True) is not False:
            results.append(
                {
                    "Id": query["Id"],
                    "Label": query.get("Label") or query["Id"],
                    "Timestamps": [],
                    "Values": [],
                    "StatusCode": "Complete",
                }
            )
    return {"MetricDataResults": results, "Messages": []}


def get_metric_statistics(body: dict[str, Any], region: str) -> dict[str, Any]:
    """GetMetricStatistics over CBOR (Statistics only; ExtendedStatistics not modelled)."""
    start = _epoch(body.get("StartTime"), "StartTime")
    end = _epoch(body.get("EndTime"), "EndTime")
    if start >= end:
        raise _invalid("The parameter StartTime must be less than the parameter EndTime.")
    stats = body.get("Statistics") or []
    if not stats:
        raise CloudWatchError(
            "InvalidParameterCombinationException",
            "InvalidParameterCombination",
            "Must specify either Statistics or ExtendedStatistics",
        )
    name = body.get("MetricName", "")
    datapoints = []
    for st in _backend(region).get_metric_statistics(
        body.get("Namespace", ""),
        name,
        _naive(start),
        _naive(end),
        int(body.get("Period") or 60),
        stats,
        dimensions=body.get("Dimensions") or [],
        unit=body.get("Unit"),
    ):
        point: dict[str, Any] = {"Timestamp": _ts(_epoch(st.timestamp, "Timestamp"))}
        for s in stats:
            value = st.get_statistics_for_type(s)
            if value is not None:
                point[s] = float(value)
        if st.unit:
            point["Unit"] = st.unit
        datapoints.append(point)
    return {"Label": name, "Datapoints": datapoints}


def put_metric_data(body: dict[str, Any], region: str) -> dict[str, Any]:
    """PutMetricData into moto's store (timestamps converted to naive UTC)."""
    data = []
    for item in body.get("MetricData") or []:
        item = dict(item)
        if "Timestamp" in item:
            item["Timestamp"] = _naive(_epoch(item["Timestamp"], "Timestamp"))
        data.append(item)
    _backend(region).put_metric_data(body.get("Namespace", ""), data)
    return {}


def list_metrics(body: dict[str, Any], region: str) -> dict[str, Any]:
    """ListMetrics from moto's store."""
    token, metrics = _backend(region).list_metrics(
        body.get("NextToken"), body.get("Namespace"), body.get("MetricName"), body.get("Dimensions") or []
    )
    out: dict[str, Any] = {
        "Metrics": [
            {
                "Namespace": m.namespace,
                "MetricName": m.name,
                "Dimensions": [{"Name": d.name, "Value": d.value} for d in m.dimensions],
            }
            for m in metrics
        ]
    }
    if token:
        out["NextToken"] = token
    return out


OPERATIONS = {
    "GetMetricData": get_metric_data,
    "GetMetricStatistics": get_metric_statistics,
    "PutMetricData": put_metric_data,
    "ListMetrics": list_metrics,
}


def handle(operation: str, raw: bytes, region: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """Serve one RPCv2 CBOR call; returns (status, headers, body)."""
    headers = [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
    try:
        handler = OPERATIONS.get(operation)
        if handler is None:
            raise CloudWatchError(
                "UnknownOperationException",
                "InvalidAction",
                f"Operation {operation} is not supported by the emulator.",
                404,
            )
        try:
            body = cbor2.loads(raw) if raw else {}
        except Exception as exc:  # any decode failure is the client's fault
            raise CloudWatchError("SerializationException", "InvalidFormat", f"Body is not valid CBOR: {exc}") from exc
        if not isinstance(body, dict):
            raise CloudWatchError("SerializationException", "InvalidFormat", "Body must be a CBOR map.")
        return 200, headers, cbor2.dumps(handler(body, region))
    except CloudWatchError as err:
        headers.append(("x-amzn-query-error", f"{err.query_code};Sender"))
        payload = {"__type": f"com.amazonaws.cloudwatch#{err.shape}", "message": err.message}
        return err.status, headers, cbor2.dumps(payload)
