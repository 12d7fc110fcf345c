"""The /_emulator/ control API: reset, durations, time scale, calls, inventory, faults."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from client import EmulatorError
from emu_support import TIME_SCALE, create_instance, create_task, replication_setup, snapshot_status, wait_for
from net_support import aws_client


def _no_retry(service: str, url: str) -> Any:
    return aws_client(service, url, Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def test_calls_log_service_operation_status_and_busy_time_and_can_be_cleared(emu: Any, rds: Any, dms: Any) -> None:
    emu.clear_calls()
    rds.describe_db_instances()
    with pytest.raises(ClientError):
        rds.describe_db_instances(DBInstanceIdentifier="missing")
    dms.describe_endpoints()
    calls = emu.calls()
    assert [(c["service"], c["operation"], c["status"]) for c in calls] == [
        ("rds", "DescribeDBInstances", 200),
        ("rds", "DescribeDBInstances", 404),
        ("dms", "DescribeEndpoints", 200),
    ]
    assert all(isinstance(c["t"], float) for c in calls)
    # How long each call held the emulator: positive, and no longer than the whole exchange.
    assert all(0 < c["busy"] < 5 for c in calls), calls
    emu.clear_calls()
    assert emu.calls() == []


def test_inventory_counts_and_lists_every_kind_for_no_duplicates_checks(emu: Any, rds: Any, dms: Any) -> None:
    create_instance(rds, "src")
    rds.create_db_snapshot(DBInstanceIdentifier="src", DBSnapshotIdentifier="snap")
    arns = replication_setup(dms)
    create_task(dms, arns)
    inv = emu.inventory()
    assert inv["db_instances"]["ids"] == ["src"]
    assert inv["db_snapshots"] == {
        "count": 1,
        "ids": ["snap"],
        "status": {"snap": snapshot_status(rds, "snap")["Status"]},
    }
    assert inv["replication_instances"]["count"] == 1
    assert inv["endpoints"]["ids"] == ["m-src", "m-tgt"]
    assert inv["replication_tasks"]["status"] == {"m-task": "ready"}


def test_durations_can_be_read_and_overridden_and_unknown_steps_are_rejected(emu: Any) -> None:
    before = emu.durations()
    assert before["time_scale"] == TIME_SCALE
    after = emu.set_durations(db_snapshot=5, full_load_per_row=0.5)["durations"]
    assert after["db_snapshot"] == 5 and after["full_load_per_row"] == 0.5
    assert after["db_restore"] == before["durations"]["db_restore"]
    with pytest.raises(EmulatorError) as exc:
        emu.set_durations(db_snapshotz=1)
    assert exc.value.status == 400 and "db_snapshotz" in exc.value.message
    with pytest.raises(EmulatorError):
        emu.set_durations(db_snapshot=-1)


def test_time_scale_slows_or_speeds_every_step(emu: Any, rds: Any) -> None:
    create_instance(rds, "src")
    emu.set_time_scale(1.0)  # real time: a 20 GB snapshot now takes minutes
    rds.create_db_snapshot(DBInstanceIdentifier="src", DBSnapshotIdentifier="slow")
    time.sleep(0.2)
    assert snapshot_status(rds, "slow")["Status"] == "creating"
    assert emu.time_scale() == 1.0
    emu.set_time_scale(0.0001)
    wait_for(lambda: snapshot_status(rds, "slow")["Status"], lambda s: s == "available")
    with pytest.raises(EmulatorError):
        emu.set_time_scale(0)


def test_reset_clears_aws_state_and_emulator_settings(emu: Any, rds: Any) -> None:
    create_instance(rds, "src")
    emu.set_durations(db_snapshot=1)
    emu.set_faults([{"service": "kms", "throttle_rate": 1.0}])
    emu.reset()
    assert emu.inventory()["db_instances"]["count"] == 0
    assert emu.durations()["durations"]["db_snapshot"] == 60
    assert emu.faults() == []
    assert emu.calls() == []


def test_throttling_faults_fire_for_the_matching_operation_only_and_expire(emu: Any) -> None:
    rds = _no_retry("rds", emu.url)
    dms = _no_retry("dms", emu.url)
    emu.set_faults([{"service": "rds", "operation": "DescribeDBInstances", "throttle_rate": 1.0, "times": 2}])
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            rds.describe_db_instances()
        assert exc.value.response["Error"]["Code"] == "Throttling"
    rds.describe_db_instances()  # rule expired after two hits
    rds.describe_db_snapshots()
    assert emu.faults()[0]["hits"] == 2
    emu.set_faults([{"service": "dms", "throttle_rate": 1.0}])
    with pytest.raises(ClientError) as exc:
        dms.describe_endpoints()
    assert exc.value.response["Error"]["Code"] == "ThrottlingException"
    injected = [c for c in emu.calls() if c.get("injected_fault")]
    assert len(injected) == 3


def test_server_error_faults_return_503_and_sdk_retries_recover(emu: Any, rds: Any) -> None:
    plain = _no_retry("rds", emu.url)
    emu.set_faults([{"service": "rds", "operation": "*", "error_rate": 1.0, "times": 1}])
    with pytest.raises(ClientError) as exc:
        plain.describe_db_instances()
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    emu.set_faults([{"service": "rds", "error_rate": 1.0, "times": 1}])
    assert rds.describe_db_instances()["DBInstances"] == []  # the default client retries once and succeeds


def test_slow_response_faults_delay_the_call(emu: Any, rds: Any) -> None:
    emu.set_faults([{"service": "rds", "operation": "DescribeDBInstances", "delay_seconds": 0.4}])
    started = time.monotonic()
    rds.describe_db_instances()
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    rds.describe_db_snapshots()
    assert time.monotonic() - started < 0.4


def test_bad_control_requests_are_rejected_with_400_and_a_reason(emu: Any) -> None:
    with pytest.raises(EmulatorError) as exc:
        emu.set_lag("no-such-task", 1, 1)
    assert exc.value.status == 400 and "no-such-task" in exc.value.message
    with pytest.raises(EmulatorError) as exc:
        emu.set_faults([{"service": "rds", "throttle_rate": 2}])
    assert exc.value.status == 400
    with pytest.raises(EmulatorError) as exc:
        emu.set_faults([{"servic": "rds"}])
    assert exc.value.status == 400
    with pytest.raises(EmulatorError) as exc:
        emu._call("GET", "nope")
    assert exc.value.status == 404


def test_table_statistics_requires_schema_and_table(emu: Any, dms: Any) -> None:
    arns = replication_setup(dms)
    create_task(dms, arns)
    with pytest.raises(EmulatorError) as exc:
        emu.set_table_statistics("m-task", [{"schema": "a"}])
    assert "tables[0]" in exc.value.message
    assert emu.set_table_statistics("m-task", [{"schema": "a", "table": "b"}]) == {"task": "m-task", "tables": 1}


def test_force_status_fails_a_task_with_a_message_and_it_can_be_restarted(emu: Any, dms: Any) -> None:
    arns = replication_setup(dms)
    arn = create_task(dms, arns)["ReplicationTaskArn"]
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_for(lambda: dms.describe_replication_tasks()["ReplicationTasks"][0]["Status"], lambda s: s == "running")
    answer = emu.force_status("replication_task", arn, "failed", message="Last Error ODBC general error.")
    assert answer["status"] == "failed"
    failed = dms.describe_replication_tasks()["ReplicationTasks"][0]
    assert failed["Status"] == "failed"
    assert failed["LastFailureMessage"] == "Last Error ODBC general error."
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    wait_for(lambda: dms.describe_replication_tasks()["ReplicationTasks"][0]["Status"], lambda s: s == "running")


def test_force_status_pins_a_snapshot_so_copies_of_it_are_refused(emu: Any, rds: Any) -> None:
    create_instance(rds, "src")
    rds.create_db_snapshot(DBInstanceIdentifier="src", DBSnapshotIdentifier="snap")
    emu.force_status("db_snapshot", "snap", "failed")
    assert snapshot_status(rds, "snap")["Status"] == "failed"
    with pytest.raises(ClientError) as exc:
        rds.copy_db_snapshot(SourceDBSnapshotIdentifier="snap", TargetDBSnapshotIdentifier="copy")
    assert exc.value.response["Error"]["Code"] == "InvalidDBSnapshotState"
    emu.force_status("db_instance", "src", "storage-full")
    assert rds.describe_db_instances(DBInstanceIdentifier="src")["DBInstances"][0]["DBInstanceStatus"] == "storage-full"
    with pytest.raises(EmulatorError) as bad:
        emu.force_status("volume", "x", "failed")
    assert bad.value.status == 400


def test_one_aws_call_is_answered_at_one_instant_of_the_clock() -> None:
    # Statuses are derived from the clock whenever read; moto reads one several times while it
    # builds a response, so the clock must stand still for the call (and only for its thread).
    import threading

    from rdsemu.state import EmulatorState

    st = EmulatorState()
    st.set_time_scale(0.001)
    other: list[float] = []
    with st.one_instant():
        first = st.aws_now()
        time.sleep(0.02)
        assert st.aws_now() == first
        reader = threading.Thread(target=lambda: other.append(st.aws_now()))
        reader.start()
        reader.join()
    assert other and other[0] >= first + 15, "another thread's clock kept running"
    time.sleep(0.02)
    assert st.aws_now() >= first + 35, "the clock runs again after the call"
