"""DMS on top of moto: SDK-readable responses, realistic state machines, missing calls.

What this adds (see README.md for the full list):
- epoch-second timestamps (awsJson1_1), ``null`` members dropped, ``EndpointType`` upper-case;
- AWS-shaped ARNs (random resource ids for tasks and replication instances);
- replication instance ``creating -> available``; endpoints ``active`` at once;
- task ``creating -> ready``; start: ``starting -> running`` with full-load progress
  rising to 100 and then CDC (full-load-only tasks stop with ``FULL_LOAD_ONLY_FINISHED``);
  stop: ``stopping -> stopped``; modify: ``modifying`` -> previous state;
- modify_endpoint, modify_replication_task, describe_table_statistics, reload_tables,
  add_tags_to_resource / remove_tags_from_resource;
- the faults AWS raises: duplicate endpoint identifier, deleting endpoints or replication
  instances a task uses, starting/stopping/deleting tasks in the wrong state, describe
  with filters that match nothing (``ResourceNotFoundFault``), re-testing a connection.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dms import models as dms_models
from moto.dms.exceptions import (
    InvalidParameterCombinationException,
    InvalidResourceStateFault,
    ResourceAlreadyExistsFault,
    ResourceNotFoundFault,
)
from moto.dms.models import (
    DatabaseMigrationServiceBackend as Backend,
)
from moto.dms.models import (
    Endpoint,
    FakeConnection,
    FakeReplicationInstance,
    FakeReplicationTask,
)
from moto.dms.responses import DatabaseMigrationServiceResponse as Response
from moto.dms.utils import random_id
from moto.moto_api._internal.managed_state_model import ManagedState

from .dataplane.dms import wiring as dataplane
from .dataplane.dms.config import TaskConfigError
from .state import STATE, Timeline

BUSY_TASK_STATES = ("starting", "running", "stopping", "modifying", "deleting")
RUNNABLE_TASK_STATES = ("ready", "stopped", "failed")


class InvalidParameterValueException(JsonRESTError):
    """DMS ``InvalidParameterValueException`` (moto has no class for it)."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterValueException", message)


def _epoch(value: datetime | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


# --- replication instance ---------------------------------------------------------------


def _ri_status(self: FakeReplicationInstance) -> str:
    timeline: Timeline | None = self.__dict__.get("_emu_tl")
    if timeline is not None:
        return timeline.status()
    return str(self.__dict__.get("_status", "available"))


def _ri_set_status(self: FakeReplicationInstance, value: str) -> None:
    self.__dict__["_emu_tl"] = None
    self.__dict__["_status"] = value


_orig_ri_to_dict = FakeReplicationInstance.to_dict


def _ri_to_dict(self: FakeReplicationInstance) -> dict[str, Any]:
    # Each replication instance has its own loopback address (DMS dials endpoints from it).
    self.private_ip_addresses = [dataplane.allocate_ri_address(self.arn)]
    data = _orig_ri_to_dict(self)
    data["InstanceCreateTime"] = _epoch(self.creation_date)
    return _compact(data)


# --- connection ---------------------------------------------------------------------------

_managed_status = ManagedState.status


def _conn_status(self: FakeConnection) -> str | None:
    status = _managed_status.fget(self)  # type: ignore[attr-defined]
    if status == "successful":
        with STATE.lock:
            if self.endpoint_arn in STATE.connection_failures:
                return "failed"
    return status  # type: ignore[no-any-return]


def _conn_set_status(self: FakeConnection, value: str) -> None:
    _managed_status.fset(self, value)  # type: ignore[attr-defined]


_orig_conn_to_dict = FakeConnection.to_dict


def _conn_to_dict(self: FakeConnection) -> dict[str, Any]:
    data = _orig_conn_to_dict(self)
    data["Status"] = self.status
    if data["Status"] == "failed":
        with STATE.lock:
            data["LastFailureMessage"] = STATE.connection_failures.get(self.endpoint_arn, "")
    return data


# --- endpoint ---------------------------------------------------------------------------

_orig_ep_to_dict = Endpoint.to_dict


def _ep_to_dict(self: Endpoint) -> dict[str, Any]:
    data = _orig_ep_to_dict(self)
    # AWS accepts "source"/"target" but answers "SOURCE"/"TARGET" (terraform-provider-aws
    # lower-cases it on read for this reason).
    data["EndpointType"] = str(self.endpoint_type).upper()
    return _compact(data)


# --- replication task -------------------------------------------------------------------


def _task_tables(task: FakeReplicationTask) -> list[dict[str, Any]]:
    with STATE.lock:
        return list(STATE.tables.get(task.id, []))


def _task_rows(task: FakeReplicationTask) -> int:
    return sum(int(t.get("rows", 0) or 0) for t in _task_tables(task))


def _run(task: FakeReplicationTask) -> dict[str, Any] | None:
    return task.__dict__.get("_emu_run")


def _load_progress(task: FakeReplicationTask) -> float:
    """Full-load percent (float) for the current or last run."""
    run = _run(task)
    if run is None:
        return 0.0
    if not run["full_load"]:
        # CDC-only, or resumed after a finished load (which still reports 100).
        return 100.0 if run.get("carried") else 0.0
    now = run.get("stopped_aws") or STATE.aws_now()
    if run["load_total"] <= 0:
        return 100.0 if now >= run["load_from"] else 0.0
    return max(0.0, min(100.0, (now - run["load_from"]) * 100.0 / run["load_total"]))


def _task_status(self: FakeReplicationTask) -> str:
    timeline: Timeline | None = self.__dict__.get("_emu_tl")
    status = timeline.status() if timeline is not None else str(self.__dict__.get("_emu_status", "creating"))
    dp = dataplane.run_for(self) if _run(self) is not None else None
    if dp is not None:
        if status == "running" and dp.outcome in ("stopped", "failed"):
            # The task stopped by itself (load finished, stop position, failure).
            if dp.outcome == "failed":
                self.__dict__["_emu_failure"] = dp.failure
            return dp.outcome
        if status == "running" and not dp.positioned.is_set():
            # Still connecting and fixing where CDC reads from (see TaskRun.positioned).
            return "starting"
        return status
    if status == "running" and self.migration_type == "full-load" and _load_progress(self) >= 100.0:
        return "stopped"
    return status


def _task_set_status(self: FakeReplicationTask, value: str) -> None:
    self.__dict__["_emu_tl"] = None
    self.__dict__["_emu_status"] = value


def _wall_of_aws(run: dict[str, Any], aws_t: float) -> float:
    """Wall-clock epoch of a virtual AWS instant within a run."""
    return float(run["wall_start"] + (aws_t - run["aws_start"]) * STATE.time_scale)


def _dp_task_stats(task: FakeReplicationTask, run: dict[str, Any], dp: Any) -> dict[str, Any]:
    """ReplicationTaskStats from the rows the data plane moved."""
    tables = dp.tables()
    n = len(tables)
    loaded = sum(1 for t in tables if t.state == "Table completed")
    loading = sum(1 for t in tables if t.state == "Full load")
    errored = sum(1 for t in tables if t.state == "Table error")
    carry = dp.carry
    stop_wall = dp.stopped_wall or (_wall_of_aws(run, run["stopped_aws"]) if run.get("stopped_aws") else None)
    end_wall = stop_wall or time.time()
    stats: dict[str, Any] = {
        "FullLoadProgressPercent": int(dp.progress()) if task.migration_type != "cdc" else 0,
        "ElapsedTimeMillis": int(max(0.0, end_wall - run["wall_start"]) * 1000),
        "TablesLoaded": loaded,
        "TablesLoading": loading,
        "TablesQueued": max(0, n - loaded - loading - errored),
        "TablesErrored": errored,
        "FreshStartDate": run["fresh_wall"],
        "StartDate": run["wall_start"],
        "StopDate": stop_wall,
        "FullLoadStartDate": carry.load_start,
        "FullLoadFinishDate": carry.load_end if carry.load_done else None,
    }
    return _compact(stats)


def _task_stats(task: FakeReplicationTask) -> dict[str, Any] | None:
    run = _run(task)
    if run is None:
        return None
    dp = dataplane.run_for(task)
    if dp is not None:
        return _dp_task_stats(task, run, dp)
    tables = _task_tables(task)
    n = max(1, len(tables))
    progress = _load_progress(task)
    full = run["full_load"]
    loaded = n if not full else int(n * progress / 100.0)
    loading = 1 if full and loaded < n and STATE.aws_now() >= run["load_from"] else 0
    errored = sum(1 for t in tables if t.get("table_state") == "Table error")
    end_aws = run.get("stopped_aws") or STATE.aws_now()
    stats: dict[str, Any] = {
        "FullLoadProgressPercent": int(progress) if full else 0,
        "ElapsedTimeMillis": int(max(0.0, end_aws - run["aws_start"]) * 1000),
        "TablesLoaded": loaded if full else 0,
        "TablesLoading": loading,
        "TablesQueued": max(0, n - loaded - loading) if full else 0,
        "TablesErrored": errored,
        "FreshStartDate": run["fresh_wall"],
        "StartDate": run["wall_start"],
        "StopDate": _wall_of_aws(run, run["stopped_aws"]) if run.get("stopped_aws") else None,
    }
    if full:
        stats["FullLoadStartDate"] = _wall_of_aws(run, run["load_from"])
        if progress >= 100.0:
            stats["FullLoadFinishDate"] = _wall_of_aws(run, run["load_from"] + run["load_total"])
            if task.migration_type == "full-load" and not run.get("stopped_aws"):
                stats["StopDate"] = stats["FullLoadFinishDate"]  # stopped by itself
    elif run.get("carried"):
        stats.update(run["carried"])
        stats["FullLoadProgressPercent"] = 100
        stats["TablesLoaded"] = n
    return _compact(stats)


def _task_to_dict(self: FakeReplicationTask) -> dict[str, Any]:
    run = _run(self)
    status = self.status
    data: dict[str, Any] = {
        "ReplicationTaskIdentifier": self.id,
        "SourceEndpointArn": self.source_endpoint_arn,
        "TargetEndpointArn": self.target_endpoint_arn,
        "ReplicationInstanceArn": self.replication_instance_arn,
        "MigrationType": self.migration_type,
        "TableMappings": self.table_mappings,
        "ReplicationTaskSettings": self.replication_task_settings,
        "Status": status,
        "ReplicationTaskCreationDate": _epoch(self.creation_date),
        "ReplicationTaskStartDate": run["wall_start"] if run else None,
        "ReplicationTaskArn": self.arn,
        "CdcStartPosition": self.__dict__.get("_emu_cdc_start_position"),
        "CdcStopPosition": self.__dict__.get("_emu_cdc_stop_position"),
        "ReplicationTaskStats": _task_stats(self),
        "LastFailureMessage": self.__dict__.get("_emu_failure") if status == "failed" else None,
    }
    dp = dataplane.run_for(self) if run else None
    if dp is not None:
        data["RecoveryCheckpoint"] = dp.checkpoint()
        if status == "stopped":
            data["StopReason"] = dp.stop_reason if run and run.get("stopped_aws") is None else "Stop Reason NORMAL"
        if status == "failed":
            data["LastFailureMessage"] = self.__dict__.get("_emu_failure") or dp.failure
        return _compact(data)
    if status == "stopped" and run:
        data["StopReason"] = (
            "Stop Reason FULL_LOAD_ONLY_FINISHED" if run.get("stopped_aws") is None else "Stop Reason NORMAL"
        )
    return _compact(data)


def _find_task(backend: Backend, arn: str | None) -> FakeReplicationTask:
    task = backend.replication_tasks.get(arn or "")
    if task is None:
        raise ResourceNotFoundFault("Replication task could not be found.")
    return task


def find_task_by_ref(ref: str) -> FakeReplicationTask | None:
    """A task in any account/region by identifier, ARN, or ARN resource id."""
    for _account, regions in list(dms_models.dms_backends.items()):
        for _region, backend in list(regions.items()):
            for task in list(backend.replication_tasks.values()):
                if ref in (task.id, task.arn, task.arn.rsplit(":", 1)[-1]):
                    return task
    return None


# --- backend methods ---------------------------------------------------------------------


def _create_replication_task(self: Backend, **kwargs: Any) -> FakeReplicationTask:
    ident = kwargs["replication_task_identifier"]
    if any(t.id == ident for t in self.replication_tasks.values()):
        raise ResourceAlreadyExistsFault(f"Replication task {ident} already exists.")
    if kwargs.get("migration_type") not in ("full-load", "cdc", "full-load-and-cdc"):
        raise InvalidParameterValueException("MigrationType must be one of full-load, cdc, full-load-and-cdc.")
    for key in ("table_mappings", "replication_task_settings"):
        text = kwargs.get(key)
        if text:
            try:
                json.loads(text)
            except ValueError as exc:
                raise InvalidParameterValueException(f"Invalid {key}: not valid JSON ({exc}).") from exc
    ri = self.replication_instances.get(kwargs["replication_instance_arn"])
    if ri is None:
        raise ResourceNotFoundFault("Replication instance could not be found.")
    if ri.status != "available":
        raise InvalidResourceStateFault(f"Replication instance {ri.id} is not available (it is {ri.status}).")
    for arn_key, kind in (("source_endpoint_arn", "source"), ("target_endpoint_arn", "target")):
        ep = _endpoint_by_arn(self, kwargs[arn_key])
        if ep is None:
            raise ResourceNotFoundFault(f"Endpoint {kwargs[arn_key]} could not be found.")
        if ep.endpoint_type != kind:
            raise InvalidParameterValueException(f"Endpoint {ep.endpoint_identifier} is not a {kind} endpoint.")
    cdc_start_time = kwargs.pop("cdc_start_time", None)
    cdc_start_position = kwargs.pop("cdc_start_position", None)
    cdc_stop_position = kwargs.pop("cdc_stop_position", None)
    if cdc_start_time and cdc_start_position:
        raise InvalidParameterCombinationException("Specify only one of CdcStartTime and CdcStartPosition.")
    task = _orig_create_task(self, **kwargs)
    # AWS task ARNs end in a random resource id, not the identifier.
    self.replication_tasks.pop(task.arn)
    self.tagger.delete_all_tags_for_resource(task.arn)
    task.arn = task.arn.rsplit(":", 1)[0] + ":" + random_id(True, 26)
    self.replication_tasks[task.arn] = task
    if kwargs.get("tags"):
        self.tagger.tag_resource(task.arn, kwargs["tags"])
    task.__dict__["_emu_cdc_start_position"] = cdc_start_position or (
        datetime.fromtimestamp(float(cdc_start_time), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") if cdc_start_time else None
    )
    task.__dict__["_emu_cdc_stop_position"] = cdc_stop_position
    task.__dict__["_emu_cdc_start_time"] = float(cdc_start_time) if cdc_start_time else None
    task.__dict__["_emu_tl"] = Timeline([("creating", STATE.duration("task_create"))], "ready")
    return task


def _start_replication_task(
    self: Backend,
    replication_task_arn: str,
    start_type: str | None = None,
    cdc_start_position: str | None = None,
    cdc_start_time: float | None = None,
    cdc_stop_position: str | None = None,
) -> FakeReplicationTask:
    task = _find_task(self, replication_task_arn)
    status = task.status
    if status not in RUNNABLE_TASK_STATES:
        raise InvalidResourceStateFault(f"Replication task {task.id} cannot be started: it is {status}.")
    start_type = start_type or "start-replication"
    previous = _run(task)
    if start_type == "start-replication" and previous is not None:
        raise InvalidParameterCombinationException(
            "Start Type : START_REPLICATION, valid only for tasks running for the first time"
        )
    if start_type not in ("start-replication", "resume-processing", "reload-target"):
        raise InvalidParameterValueException(f"Invalid StartReplicationTaskType {start_type}.")
    ri = self.replication_instances.get(task.replication_instance_arn)
    if ri is None or ri.status != "available":
        raise InvalidResourceStateFault("The replication instance of this task is not available.")
    if cdc_start_time is not None and cdc_start_position:
        raise InvalidParameterCombinationException("Specify only one of CdcStartTime and CdcStartPosition.")
    if cdc_stop_position:
        task.__dict__["_emu_cdc_stop_position"] = cdc_stop_position
    try:
        dataplane.check_start(self, task, cdc_start_position, cdc_start_time)
    except TaskConfigError as exc:
        raise InvalidParameterValueException(str(exc)) from exc
    starting = STATE.duration("task_start")
    now = STATE.aws_now()
    wall = time.time()
    resume = start_type == "resume-processing" and previous is not None
    loads = task.migration_type != "cdc" and not (resume and _load_progress(task) >= 100.0)
    carried = None
    if resume and previous is not None and not loads and previous["full_load"]:
        old_stats = _task_stats(task) or {}
        carried = {k: old_stats[k] for k in ("FullLoadStartDate", "FullLoadFinishDate") if k in old_stats}
    elif resume and previous is not None:
        carried = previous.get("carried")
    run = {
        "carried": carried,
        "aws_start": now,
        "wall_start": wall,
        "fresh_wall": previous["fresh_wall"] if resume and previous else wall,
        "full_load": loads,
        "load_from": now + starting,
        "load_total": STATE.duration("full_load", _task_rows(task)) if loads else 0.0,
        "running_wall": wall + starting * STATE.time_scale,
        "stopped_aws": None,
    }
    task.__dict__["_emu_run"] = run
    if cdc_start_position:
        task.__dict__["_emu_cdc_start_position"] = cdc_start_position
    task.__dict__["_emu_tl"] = Timeline([("starting", starting)], "running")
    task.__dict__.pop("_emu_failure", None)
    if start_type != "resume-processing" and cdc_start_time is None:
        cdc_start_time = task.__dict__.get("_emu_cdc_start_time")
    dataplane.start(self, task, start_type, run, cdc_start_time)
    return task


def _stop_replication_task(self: Backend, replication_task_arn: str) -> FakeReplicationTask:
    task = _find_task(self, replication_task_arn)
    status = task.status
    if status not in ("running", "starting"):
        raise InvalidResourceStateFault(f"Replication task {task.id} is not running (it is {status}).")
    run = _run(task)
    if run is not None:
        run["stopped_aws"] = STATE.aws_now()
    dataplane.stop(task)
    task.__dict__["_emu_tl"] = Timeline([("stopping", STATE.duration("task_stop"))], "stopped")
    return task


def _delete_replication_task(self: Backend, replication_task_arn: str) -> FakeReplicationTask:
    task = _find_task(self, replication_task_arn)
    if task.status in BUSY_TASK_STATES:
        raise InvalidResourceStateFault(f"Replication task {task.id} is {task.status}; stop it before deleting.")
    self.replication_tasks.pop(task.arn)
    dataplane.forget(task)
    task.status = "deleting"
    with STATE.lock:
        STATE.tables.pop(task.id, None)
    return task


def _modify_replication_task(self: Backend, params: dict[str, Any]) -> FakeReplicationTask:
    task = _find_task(self, params.get("ReplicationTaskArn"))
    status = task.status
    if status not in RUNNABLE_TASK_STATES:
        raise InvalidResourceStateFault(f"Replication task {task.id} cannot be modified while {status}; stop it first.")
    new_id = params.get("ReplicationTaskIdentifier")
    if new_id and new_id != task.id:
        if any(t.id == new_id for t in self.replication_tasks.values()):
            raise ResourceAlreadyExistsFault(f"Replication task {new_id} already exists.")
        with STATE.lock:
            if task.id in STATE.tables:
                STATE.tables[new_id] = STATE.tables.pop(task.id)
        task.id = new_id
    if "MigrationType" in params:
        if params["MigrationType"] not in ("full-load", "cdc", "full-load-and-cdc"):
            raise InvalidParameterValueException("MigrationType must be one of full-load, cdc, full-load-and-cdc.")
        task.migration_type = params["MigrationType"]
    for key, attr in (("TableMappings", "table_mappings"), ("ReplicationTaskSettings", "replication_task_settings")):
        if key in params:
            try:
                json.loads(params[key])
            except ValueError as exc:
                raise InvalidParameterValueException(f"Invalid {key}: not valid JSON ({exc}).") from exc
            setattr(task, attr, params[key])
    if params.get("CdcStartPosition"):
        task.__dict__["_emu_cdc_start_position"] = params["CdcStartPosition"]
    if params.get("CdcStopPosition"):
        task.__dict__["_emu_cdc_stop_position"] = params["CdcStopPosition"]
    task.__dict__["_emu_tl"] = Timeline([("modifying", STATE.duration("task_modify"))], status)
    return task


def _endpoint_by_arn(backend: Backend, arn: str) -> Endpoint | None:
    return next((e for e in backend.endpoints.values() if e.endpoint_arn == arn), None)


def _tasks_using(backend: Backend, arn: str) -> list[FakeReplicationTask]:
    return [
        t
        for t in backend.replication_tasks.values()
        if arn in (t.source_endpoint_arn, t.target_endpoint_arn, t.replication_instance_arn)
    ]


_orig_create_task = Backend.create_replication_task
_orig_create_endpoint = Backend.create_endpoint
_orig_delete_endpoint = Backend.delete_endpoint
_orig_create_ri = Backend.create_replication_instance
_orig_delete_ri = Backend.delete_replication_instance
_orig_describe_tasks = Backend.describe_replication_tasks
_orig_describe_endpoints = Backend.describe_endpoints
_orig_describe_ris = Backend.describe_replication_instances
_orig_test_connection = Backend.test_connection
_orig_delete_subnet_group = Backend.delete_replication_subnet_group


def _create_endpoint(self: Backend, **kwargs: Any) -> Endpoint:
    ident = kwargs["endpoint_identifier"]
    if ident in self.endpoints:
        raise ResourceAlreadyExistsFault(f"Endpoint with identifier {ident} already exists.")
    endpoint = _orig_create_endpoint(self, **kwargs)
    endpoint.status = "active"
    return endpoint


def _delete_endpoint(self: Backend, endpoint_arn: str) -> Endpoint:
    users = _tasks_using(self, endpoint_arn)
    if users:
        raise InvalidResourceStateFault(f"Endpoint {endpoint_arn} is in use by replication task {users[0].id}.")
    return _orig_delete_endpoint(self, endpoint_arn)


def _create_replication_instance(self: Backend, **kwargs: Any) -> FakeReplicationInstance:
    _purge_deleted_instances(self)
    ident = kwargs["replication_instance_identifier"]
    if any(ri.id == ident for ri in self.replication_instances.values()):
        raise ResourceAlreadyExistsFault(f"Replication instance {ident} already exists.")
    ri = _orig_create_ri(self, **kwargs)
    self.replication_instances.pop(ri.arn)
    tags = self.tagger.get_tag_dict_for_resource(ri.arn)
    self.tagger.delete_all_tags_for_resource(ri.arn)
    ri.arn = ri.arn.rsplit(":", 1)[0] + ":" + random_id(True, 26)
    self.replication_instances[ri.arn] = ri
    ri.private_ip_addresses = [dataplane.allocate_ri_address(ri.arn)]
    if tags:
        self.tagger.tag_resource(ri.arn, [{"Key": k, "Value": v} for k, v in tags.items()])
    ri.__dict__["_emu_tl"] = Timeline([("creating", STATE.duration("replication_instance"))], "available")
    return ri


def _delete_replication_instance(self: Backend, replication_instance_arn: str) -> FakeReplicationInstance:
    _purge_deleted_instances(self)
    users = _tasks_using(self, replication_instance_arn)
    if users:
        raise InvalidResourceStateFault(
            f"Replication instance {replication_instance_arn} is in use by replication task {users[0].id}."
        )
    current = self.replication_instances.get(replication_instance_arn)
    if current is not None and current.status == "deleting":
        raise InvalidResourceStateFault(f"Replication instance {current.id} is already being deleted.")
    ri = _orig_delete_ri(self, replication_instance_arn)
    # AWS keeps describing the instance as ``deleting`` for a while.
    ri.__dict__["_emu_tl"] = Timeline([("deleting", STATE.duration("replication_instance_delete"))], "deleted")
    if ri.status == "deleting":
        self.replication_instances[ri.arn] = ri
    return ri


def _delete_replication_subnet_group(self: Backend, replication_subnet_group_identifier: str) -> Any:
    users = [
        ri.id
        for ri in self.replication_instances.values()
        if ri.replication_subnet_group_identifier == replication_subnet_group_identifier and ri.status != "deleted"
    ]
    if users:
        raise InvalidResourceStateFault(
            f"Replication subnet group {replication_subnet_group_identifier} is in use by replication instance "
            f"{users[0]}."
        )
    return _orig_delete_subnet_group(self, replication_subnet_group_identifier)


def fail_task(task: FakeReplicationTask, message: str) -> None:
    """Put a task into ``failed`` (as AWS does on an unrecoverable error), keeping its stats."""
    run = _run(task)
    if run is not None and run.get("stopped_aws") is None:
        run["stopped_aws"] = STATE.aws_now()
    task.status = "failed"
    task.__dict__["_emu_failure"] = message


def _purge_deleted_instances(backend: Backend) -> None:
    """Forget replication instances whose ``deleting`` period is over."""
    for arn, ri in list(backend.replication_instances.items()):
        if ri.status == "deleted":
            backend.replication_instances.pop(arn, None)
            backend.tagger.delete_all_tags_for_resource(arn)


def _not_found_if_filtered(kind: str, filters: Any, found: list[Any]) -> list[Any]:
    if filters and not found:
        raise ResourceNotFoundFault(f"No {kind} found matching provided filters")
    return found


def _describe_tasks(self: Backend, filters: list[dict[str, Any]], max_records: int) -> list[Any]:
    return _not_found_if_filtered("Tasks", filters, list(_orig_describe_tasks(self, filters, max_records)))


def _describe_endpoints(
    self: Backend, filters: list[dict[str, Any]], max_records: int | None, marker: str | None
) -> list[Any]:
    return _not_found_if_filtered(
        "Endpoints", filters, list(_orig_describe_endpoints(self, filters, max_records, marker))
    )


def _describe_ris(
    self: Backend,
    filters: list[dict[str, Any]] | None = None,
    max_records: int | None = None,
    marker: str | None = None,
) -> list[Any]:
    _purge_deleted_instances(self)
    return _not_found_if_filtered(
        "Replication Instances", filters, list(_orig_describe_ris(self, filters, max_records, marker))
    )


def _test_connection(self: Backend, replication_instance_arn: str, endpoint_arn: str) -> FakeConnection:
    for conn in self.connections:
        if conn.replication_instance_arn == replication_instance_arn and conn.endpoint_arn == endpoint_arn:
            # Testing again restarts the test, as AWS does (moto raised a 500 here).
            conn.status = "testing"
            conn._tick = 0
            return conn
    return _orig_test_connection(self, replication_instance_arn, endpoint_arn)


# --- table statistics ---------------------------------------------------------------------


def table_statistics(task: FakeReplicationTask) -> list[dict[str, Any]]:
    """Per-table statistics derived from the task's progress and the injected tables (or,
    on the data plane, from the rows the task moved).
    """
    dp = dataplane.run_for(task)
    if dp is not None:
        return [_dp_table_stats(t) for t in dp.tables()]
    tables = _task_tables(task)
    run = _run(task)
    progress = _load_progress(task)
    n = len(tables)
    loaded = n if run is not None and not run["full_load"] else int(n * progress / 100.0)
    out = []
    now_wall = time.time()
    for index, spec in enumerate(tables):
        rows = int(spec.get("rows", 0) or 0)
        if run is None:
            state, load_rows = "Before load", 0
        elif index < loaded:
            state, load_rows = "Table completed", rows
        elif index == loaded and STATE.aws_now() >= run["load_from"]:
            fraction = (progress * n / 100.0) - loaded
            state, load_rows = "Full load", int(rows * max(0.0, min(1.0, fraction)))
        else:
            state, load_rows = "Before load", 0
        state = spec.get("table_state") or state
        stats: dict[str, Any] = {
            "SchemaName": spec["schema"],
            "TableName": spec["table"],
            "Inserts": int(spec.get("inserts", 0)),
            "Deletes": int(spec.get("deletes", 0)),
            "Updates": int(spec.get("updates", 0)),
            "Ddls": int(spec.get("ddls", 0)),
            "AppliedInserts": int(spec.get("inserts", 0)),
            "AppliedDeletes": int(spec.get("deletes", 0)),
            "AppliedUpdates": int(spec.get("updates", 0)),
            "AppliedDdls": int(spec.get("ddls", 0)),
            "FullLoadRows": load_rows,
            "FullLoadCondtnlChkFailedRows": 0,
            "FullLoadErrorRows": int(spec.get("full_load_error_rows", 0)),
            "FullLoadReloaded": False,
            "LastUpdateTime": now_wall,
            "TableState": state,
            "ValidationPendingRecords": int(spec.get("validation_pending", 0)),
            "ValidationFailedRecords": int(spec.get("validation_failed", 0)),
            "ValidationSuspendedRecords": int(spec.get("validation_suspended", 0)),
            "ValidationState": spec.get("validation_state", "Not enabled"),
            "ValidationStateDetails": spec.get("validation_state_details"),
        }
        if run is not None and run["full_load"] and state in ("Table completed", "Full load"):
            stats["FullLoadStartTime"] = _wall_of_aws(run, run["load_from"])
            if state == "Table completed":
                stats["FullLoadEndTime"] = _wall_of_aws(
                    run, run["load_from"] + run["load_total"] * (index + 1) / max(1, n)
                )
        out.append(_compact(stats))
    return out


def _dp_table_stats(t: Any) -> dict[str, Any]:
    return _compact(
        {
            "SchemaName": t.schema,
            "TableName": t.table,
            "Inserts": t.inserts,
            "Deletes": t.deletes,
            "Updates": t.updates,
            "Ddls": t.ddls,
            "AppliedInserts": t.inserts,
            "AppliedDeletes": t.deletes,
            "AppliedUpdates": t.updates,
            "AppliedDdls": t.ddls,
            "FullLoadRows": t.full_load_rows,
            "FullLoadCondtnlChkFailedRows": 0,
            "FullLoadErrorRows": t.error_rows,
            "FullLoadReloaded": False,
            "FullLoadStartTime": t.load_start,
            "FullLoadEndTime": t.load_end,
            "LastUpdateTime": t.last_update,
            "TableState": t.state,
            "ValidationPendingRecords": t.validation_pending,
            "ValidationFailedRecords": t.validation_failed,
            "ValidationSuspendedRecords": 0,
            "ValidationState": t.validation_state,
            "ValidationStateDetails": t.validation_details,
        }
    )


# --- response handlers ---------------------------------------------------------------------


def _params(self: Response) -> dict[str, Any]:
    return json.loads(self.body or "{}")


def _r_create_replication_task(self: Response) -> str:
    p = _params(self)
    task = _create_replication_task(
        self.dms_backend,
        replication_task_identifier=p.get("ReplicationTaskIdentifier"),
        source_endpoint_arn=p.get("SourceEndpointArn"),
        target_endpoint_arn=p.get("TargetEndpointArn"),
        replication_instance_arn=p.get("ReplicationInstanceArn"),
        migration_type=p.get("MigrationType"),
        table_mappings=p.get("TableMappings"),
        replication_task_settings=p.get("ReplicationTaskSettings"),
        tags=p.get("Tags"),
        cdc_start_time=p.get("CdcStartTime"),
        cdc_start_position=p.get("CdcStartPosition"),
        cdc_stop_position=p.get("CdcStopPosition"),
    )
    return json.dumps({"ReplicationTask": task.to_dict()})


def _r_start_replication_task(self: Response) -> str:
    p = _params(self)
    task = _start_replication_task(
        self.dms_backend,
        p.get("ReplicationTaskArn", ""),
        p.get("StartReplicationTaskType"),
        p.get("CdcStartPosition"),
        float(p["CdcStartTime"]) if p.get("CdcStartTime") is not None else None,
        p.get("CdcStopPosition"),
    )
    return json.dumps({"ReplicationTask": task.to_dict()})


def _r_modify_replication_task(self: Response) -> str:
    task = _modify_replication_task(self.dms_backend, _params(self))
    return json.dumps({"ReplicationTask": task.to_dict()})


def _r_describe_table_statistics(self: Response) -> str:
    p = _params(self)
    task = _find_task(self.dms_backend, p.get("ReplicationTaskArn"))
    rows = table_statistics(task)
    keys = {"schema-name": "SchemaName", "table-name": "TableName", "table-state": "TableState"}
    for flt in p.get("Filters") or []:
        key = keys.get(flt.get("Name", ""))
        if key is None:
            raise InvalidParameterValueException(f"Invalid filter name {flt.get('Name')}.")
        rows = [r for r in rows if r.get(key) in flt.get("Values", [])]
    return json.dumps({"ReplicationTaskArn": task.arn, "TableStatistics": rows})


def _r_reload_tables(self: Response) -> str:
    p = _params(self)
    task = _find_task(self.dms_backend, p.get("ReplicationTaskArn"))
    if task.status != "running":
        raise InvalidResourceStateFault(f"Replication task {task.id} is not running.")
    return json.dumps({"ReplicationTaskArn": task.arn})


def _r_modify_endpoint(self: Response) -> str:
    p = _params(self)
    backend = self.dms_backend
    endpoint = _endpoint_by_arn(backend, p.get("EndpointArn", ""))
    if endpoint is None:
        raise ResourceNotFoundFault("Endpoint could not be found.")
    new_id = p.get("EndpointIdentifier")
    if new_id and new_id != endpoint.endpoint_identifier:
        if new_id in backend.endpoints:
            raise ResourceAlreadyExistsFault(f"Endpoint with identifier {new_id} already exists.")
        backend.endpoints.pop(endpoint.endpoint_identifier)
        endpoint.endpoint_identifier = new_id
        backend.endpoints[new_id] = endpoint
    fields = {
        "EndpointType": "endpoint_type",
        "EngineName": "engine_name",
        "Username": "username",
        "Password": "password",
        "ServerName": "server_name",
        "Port": "port",
        "DatabaseName": "database_name",
        "ExtraConnectionAttributes": "extra_connection_attributes",
        "CertificateArn": "certificate_arn",
        "SslMode": "ssl_mode",
        "ServiceAccessRoleArn": "service_access_role_arn",
        "MySQLSettings": "my_sql_settings",
        "PostgreSQLSettings": "postgre_sql_settings",
    }
    if "EndpointType" in p and p["EndpointType"] not in ("source", "target"):
        raise InvalidParameterValueException("EndpointType must be source or target.")
    for key, attr in fields.items():
        if key in p:
            setattr(endpoint, attr, p[key])
    if "EngineName" in p:
        endpoint.engine_display_name = p["EngineName"]
    return json.dumps({"Endpoint": endpoint.to_dict()})


def _known_arn(backend: Backend, arn: str) -> bool:
    return (
        arn in backend.replication_tasks
        or arn in backend.replication_instances
        or _endpoint_by_arn(backend, arn) is not None
    )


def _tagged_resource(self: Response) -> tuple[dict[str, Any], str]:
    """A tagging request's parameters and its ResourceArn, which must name a known resource."""
    p = _params(self)
    arn = p.get("ResourceArn", "")
    if not _known_arn(self.dms_backend, arn):
        raise ResourceNotFoundFault(f"Resource {arn} could not be found.")
    return p, arn


def _r_add_tags_to_resource(self: Response) -> str:
    p, arn = _tagged_resource(self)
    self.dms_backend.tagger.tag_resource(arn, p.get("Tags") or [])
    return json.dumps({})


def _r_remove_tags_from_resource(self: Response) -> str:
    p, arn = _tagged_resource(self)
    self.dms_backend.tagger.untag_resource_using_names(arn, p.get("TagKeys") or [])
    return json.dumps({})


def apply() -> None:
    """Install every DMS patch."""
    FakeReplicationInstance.status = property(_ri_status, _ri_set_status)  # type: ignore[assignment,method-assign]
    FakeReplicationInstance.to_dict = _ri_to_dict  # type: ignore[method-assign]
    Endpoint.to_dict = _ep_to_dict  # type: ignore[method-assign]
    FakeConnection.status = property(_conn_status, _conn_set_status)  # type: ignore[assignment]
    FakeConnection.to_dict = _conn_to_dict  # type: ignore[method-assign]
    FakeReplicationTask.status = property(_task_status, _task_set_status)  # type: ignore[assignment]
    FakeReplicationTask.to_dict = _task_to_dict  # type: ignore[method-assign]

    Backend.create_replication_task = _create_replication_task  # type: ignore[method-assign,assignment]
    Backend.start_replication_task = _start_replication_task  # type: ignore[method-assign,assignment]
    Backend.stop_replication_task = _stop_replication_task  # type: ignore[method-assign]
    Backend.delete_replication_task = _delete_replication_task  # type: ignore[method-assign]
    Backend.describe_replication_tasks = _describe_tasks  # type: ignore[method-assign,assignment]
    Backend.create_endpoint = _create_endpoint  # type: ignore[method-assign,assignment]
    Backend.delete_endpoint = _delete_endpoint  # type: ignore[method-assign]
    Backend.describe_endpoints = _describe_endpoints  # type: ignore[method-assign]
    Backend.create_replication_instance = _create_replication_instance  # type: ignore[method-assign,assignment]
    Backend.delete_replication_instance = _delete_replication_instance  # type: ignore[method-assign]
    Backend.describe_replication_instances = _describe_ris  # type: ignore[method-assign]
    Backend.test_connection = _test_connection  # type: ignore[method-assign]
    Backend.delete_replication_subnet_group = _delete_replication_subnet_group  # type: ignore[method-assign]

    # Response handlers: operation ``x`` is served by ``_r_x`` (moto lacks some of them).
    for operation in (
        "create_replication_task",
        "start_replication_task",
        "modify_replication_task",
        "describe_table_statistics",
        "reload_tables",
        "modify_endpoint",
        "add_tags_to_resource",
        "remove_tags_from_resource",
    ):
        setattr(Response, operation, globals()[f"_r_{operation}"])
