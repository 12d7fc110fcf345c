"""CDC lag metrics (all protocols) and CloudWatch over Smithy RPC v2 CBOR."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2

from emu_support import create_task, replication_setup, task_of, wait_for

CBOR_PREFIX = "/service/GraniteServiceVersion20100801/operation/"


# Unsigned is fine for moto; the credential scope tells the emulator the service and region.
AUTH = "AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=0"


def _lag_query(metric: str, task_dimension: str) -> list[dict[str, Any]]:
    return [
        {
            "Id": "lag",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/DMS",
                    "MetricName": metric,
                    "Dimensions": [
                        {"Name": "ReplicationInstanceIdentifier", "Value": "m-ri"},
                        {"Name": "ReplicationTaskIdentifier", "Value": task_dimension},
                    ],
                },
                "Period": 60,
                "Stat": "Maximum",
            },
        }
    ]


def _running_task(dms: Any) -> dict[str, Any]:
    arns = replication_setup(dms)
    task = create_task(dms, arns)
    dms.start_replication_task(
        ReplicationTaskArn=task["ReplicationTaskArn"], StartReplicationTaskType="start-replication"
    )
    wait_for(lambda: task_of(dms, task["ReplicationTaskArn"])["Status"], lambda s: s == "running")
    return task


def _window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(minutes=5), now + timedelta(seconds=1)


def _cbor_call(url: str, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        url + CBOR_PREFIX + operation,
        data=cbor2.dumps(body),
        method="POST",
        headers={
            "Content-Type": "application/cbor",
            "Accept": "application/cbor",
            "smithy-protocol": "rpc-v2-cbor",
            "Authorization": AUTH,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), cbor2.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), cbor2.loads(err.read())


def test_lag_of_a_running_task_defaults_to_zero(cloudwatch: Any, dms: Any) -> None:
    task = _running_task(dms)
    start, end = _window()
    result = cloudwatch.get_metric_data(
        MetricDataQueries=_lag_query("CDCLatencySource", task["ReplicationTaskIdentifier"]),
        StartTime=start,
        EndTime=end,
    )
    values = result["MetricDataResults"][0]["Values"]
    assert values and set(values) == {0.0}


def test_lag_is_controllable_per_task_and_found_by_arn_resource_id(emu: Any, cloudwatch: Any, dms: Any) -> None:
    task = _running_task(dms)
    emu.set_lag(task["ReplicationTaskArn"], source_seconds=12, target_seconds=34)
    start, end = _window()
    resource_id = task["ReplicationTaskArn"].rsplit(":", 1)[-1]
    for metric, expected in (("CDCLatencySource", 12.0), ("CDCLatencyTarget", 34.0)):
        for dimension in (task["ReplicationTaskIdentifier"], resource_id):
            res = cloudwatch.get_metric_data(
                MetricDataQueries=_lag_query(metric, dimension), StartTime=start, EndTime=end
            )
            # Newest first (default ScanBy); older buckets keep the value they had then (0).
            assert res["MetricDataResults"][0]["Values"][0] == expected, (metric, dimension)
    stats = cloudwatch.get_metric_statistics(
        Namespace="AWS/DMS",
        MetricName="CDCLatencyTarget",
        StartTime=start,
        EndTime=end,
        Period=60,
        Statistics=["Maximum", "Average"],
        Dimensions=_lag_query("CDCLatencyTarget", resource_id)[0]["MetricStat"]["Metric"]["Dimensions"],
    )
    latest = max(stats["Datapoints"], key=lambda p: p["Timestamp"])
    assert latest["Maximum"] == 34.0 and latest["Average"] == 34.0 and latest["Unit"] == "Seconds"


def test_lag_changes_over_time_and_the_latest_value_wins(emu: Any, cloudwatch: Any, dms: Any) -> None:
    task = _running_task(dms)
    emu.set_lag("m-task", source_seconds=600, target_seconds=600)
    time.sleep(0.05)
    emu.set_lag("m-task", source_seconds=2, target_seconds=3)
    start, end = _window()
    res = cloudwatch.get_metric_data(
        MetricDataQueries=_lag_query("CDCLatencyTarget", task["ReplicationTaskIdentifier"]),
        StartTime=start,
        EndTime=end,
        ScanBy="TimestampDescending",
    )
    assert res["MetricDataResults"][0]["Values"][0] == 3.0


def test_there_is_no_lag_data_for_a_task_that_is_not_running(emu: Any, cloudwatch: Any, dms: Any) -> None:
    arns = replication_setup(dms)
    task = create_task(dms, arns)
    emu.set_lag("m-task", source_seconds=5, target_seconds=5)
    start, end = _window()
    res = cloudwatch.get_metric_data(
        MetricDataQueries=_lag_query("CDCLatencySource", "m-task"), StartTime=start, EndTime=end
    )
    assert res["MetricDataResults"][0]["Values"] == []
    dms.start_replication_task(
        ReplicationTaskArn=task["ReplicationTaskArn"], StartReplicationTaskType="start-replication"
    )
    wait_for(lambda: task_of(dms, task["ReplicationTaskArn"])["Status"], lambda s: s == "running")
    dms.stop_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"])
    res = cloudwatch.get_metric_data(
        MetricDataQueries=_lag_query("CDCLatencySource", "m-task"), StartTime=start, EndTime=end
    )
    assert res["MetricDataResults"][0]["Values"] == []


def test_other_metrics_still_come_from_moto_storage(cloudwatch: Any) -> None:
    now = datetime.now(UTC)
    cloudwatch.put_metric_data(Namespace="Custom", MetricData=[{"MetricName": "m", "Value": 7.0, "Timestamp": now}])
    res = cloudwatch.get_metric_statistics(
        Namespace="Custom",
        MetricName="m",
        StartTime=now - timedelta(minutes=1),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )
    assert [p["Sum"] for p in res["Datapoints"]] == [7.0]


def test_cbor_get_metric_data_answers_in_cbor_with_epoch_timestamp_tags(emu: Any, dms: Any) -> None:
    task = _running_task(dms)
    emu.set_lag(task["ReplicationTaskIdentifier"], source_seconds=4, target_seconds=9)
    now = time.time()
    body = {
        "MetricDataQueries": _lag_query("CDCLatencyTarget", task["ReplicationTaskIdentifier"]),
        "StartTime": cbor2.CBORTag(1, now - 300),
        "EndTime": cbor2.CBORTag(1, now + 1),
    }
    status, headers, payload = _cbor_call(emu.url, "GetMetricData", body)
    assert status == 200
    assert headers["smithy-protocol"] == "rpc-v2-cbor" and headers["Content-Type"] == "application/cbor"
    result = payload["MetricDataResults"][0]
    assert result["Id"] == "lag" and result["StatusCode"] == "Complete"
    assert result["Values"][0] == 9.0
    assert all(isinstance(v, float) for v in result["Values"])
    # cbor2 decodes tag 1 into datetimes: proves the timestamps were tagged epoch seconds.
    assert all(isinstance(t, datetime) for t in result["Timestamps"])
    assert result["Timestamps"] == sorted(result["Timestamps"], reverse=True), "default ScanBy is TimestampDescending"
    assert emu.calls(service="cloudwatch", operation="GetMetricData")[-1]["status"] == 200


def test_cbor_put_metric_data_then_get_metric_statistics_round_trips(emu: Any) -> None:
    now = time.time()
    status, _, _ = _cbor_call(
        emu.url,
        "PutMetricData",
        {
            "Namespace": "Custom",
            "MetricData": [
                {
                    "MetricName": "m",
                    "Value": 2.5,
                    "Timestamp": cbor2.CBORTag(1, now),
                    "Dimensions": [{"Name": "a", "Value": "b"}],
                }
            ],
        },
    )
    assert status == 200
    status, _, payload = _cbor_call(
        emu.url,
        "GetMetricStatistics",
        {
            "Namespace": "Custom",
            "MetricName": "m",
            "StartTime": cbor2.CBORTag(1, now - 60),
            "EndTime": cbor2.CBORTag(1, now + 60),
            "Period": 60,
            "Statistics": ["Sum", "SampleCount"],
            "Dimensions": [{"Name": "a", "Value": "b"}],
        },
    )
    assert status == 200
    assert [(p["Sum"], p["SampleCount"]) for p in payload["Datapoints"]] == [(2.5, 1.0)]
    status, _, listed = _cbor_call(emu.url, "ListMetrics", {"Namespace": "Custom"})
    assert status == 200 and listed["Metrics"][0]["MetricName"] == "m"


def test_cbor_errors_carry_a_type_and_the_query_error_header(emu: Any) -> None:
    now = time.time()
    status, headers, payload = _cbor_call(
        emu.url,
        "GetMetricData",
        {"MetricDataQueries": [], "StartTime": cbor2.CBORTag(1, now), "EndTime": cbor2.CBORTag(1, now - 10)},
    )
    assert status == 400
    assert payload["__type"] == "com.amazonaws.cloudwatch#InvalidParameterValueException"
    assert "StartTime" in payload["message"]
    assert headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    status, _, payload = _cbor_call(emu.url, "DescribeAlarms", {})
    assert status == 404 and payload["__type"].endswith("#UnknownOperationException")


def test_a_datapoint_is_stamped_with_the_start_of_its_period_whatever_the_window(cloudwatch: Any, dms: Any) -> None:
    task = _running_task(dms)
    now = datetime.now(UTC)
    newest = []
    for start in (now - timedelta(minutes=5, seconds=17), now - timedelta(minutes=3, seconds=41)):
        res = cloudwatch.get_metric_data(
            MetricDataQueries=_lag_query("CDCLatencyTarget", task["ReplicationTaskIdentifier"]),
            StartTime=start,
            EndTime=now + timedelta(seconds=1),
            ScanBy="TimestampDescending",
        )
        stamps = res["MetricDataResults"][0]["Timestamps"]
        assert stamps, res
        # Every datapoint starts a whole period (60 s) since the epoch; the newest holds now.
        assert all(int(t.timestamp()) % 60 == 0 for t in stamps), stamps
        assert stamps[0] <= now < stamps[0] + timedelta(seconds=60), (stamps[0], now)
        newest.append(stamps[0])
    assert newest[0] == newest[1]
