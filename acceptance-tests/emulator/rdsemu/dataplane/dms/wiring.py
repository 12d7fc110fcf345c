"""Glue between moto's DMS models (``dms_patch``) and the data-plane runner.

Everything here is a no-op unless the emulator runs with ``--data-plane``.
"""

from __future__ import annotations

import ipaddress
import threading
from typing import Any

from ...state import STATE
from .config import (
    TaskConfigError,
    after_connect,
    parse_date,
    parse_mappings,
    parse_settings,
    parse_start,
    parse_stop,
    slot_name,
)
from .runner import Carry, Endpoint, TaskRun
from .sides import Dsn, side_for

_LOCK = threading.RLock()
RUNS: dict[str, TaskRun] = {}  # task ARN -> current/last run
CARRY: dict[str, Carry] = {}  # task ARN -> what a resume-processing continues from
APPLY_DELAY: dict[str, float] = {}  # task ARN -> AWS seconds per applied transaction
_RI_ADDRESSES: dict[str, str] = {}  # replication instance ARN -> 127.20.x.y
_NEXT_RI = [0]


def enabled() -> bool:
    """True when the emulator runs with ``--data-plane``."""
    try:
        from .. import DATAPLANE  # type: ignore[attr-defined]
    except ImportError:
        return False
    return bool(getattr(DATAPLANE, "enabled", False))


def allocate_ri_address(arn: str) -> str:
    """The next 127.20.x.y (kept for the replication instance's life)."""
    with _LOCK:
        if arn not in _RI_ADDRESSES:
            _NEXT_RI[0] += 1
            _RI_ADDRESSES[arn] = str(ipaddress.IPv4Address("127.20.0.0") + _NEXT_RI[0])
        return _RI_ADDRESSES[arn]


def _dial(endpoint: Any, ri_address: str | None, ri: Any = None) -> Dsn:
    """The one place DMS opens a route to an endpoint's server: resolve ``ServerName`` to
    the emulated instance and connect to where it listens (through dp-net's relay when
    present, so the instance's security groups judge the replication instance's address).
    """
    from .. import DATAPLANE  # type: ignore[attr-defined]

    server = DATAPLANE.servers.by_hostname(str(endpoint.server_name or ""))
    if server is None or not getattr(server, "running", True):
        raise ConnectionError(f"cannot connect to {endpoint.server_name}:{endpoint.port}: no server answers")
    if endpoint.port and int(endpoint.port) != int(server.port):
        raise ConnectionError(f"cannot connect to {endpoint.server_name}:{endpoint.port}: connection refused")
    host, port = server.internal_host, int(server.internal_port)
    net = _net()
    if net is not None and ri_address:
        # dp-net finds replication instances' addresses in their security groups itself.
        host, port = net.relay(ri_address, server.address, int(server.port))
    database = endpoint.database_name
    return Dsn(str(host), int(port), str(endpoint.username or ""), str(endpoint.password or ""), database)


def _net() -> Any:
    """dp-net's module once it is merged and its network runs, else None (direct dial)."""
    try:
        from .. import net  # type: ignore[attr-defined]
    except ImportError:
        return None
    if getattr(net, "NETWORK", None) is None or not hasattr(net, "relay"):
        return None
    return net


def _endpoint(ep: Any, ri_address: str | None, source: bool, ri: Any = None) -> Endpoint:
    side = side_for(str(ep.engine_name))
    database = ep.database_name if side.engine == "postgres" else None
    return Endpoint(
        side=side,
        dial=lambda: _dial(ep, ri_address, ri),
        after_connect=after_connect(ep),
        database=database,
        slot=slot_name(ep) if source else None,
    )


def check_start(backend: Any, task: Any, cdc_start_position: str | None, cdc_start_time: float | None) -> None:
    """Refuse at StartReplicationTask what DMS refuses: a date (CdcStartTime, or a date as
    CdcStartPosition) for a PostgreSQL source; a position that does not parse.
    """
    if not enabled():
        return
    source = _by_arn(backend, task.source_endpoint_arn)
    engine = side_for(str(source.engine_name)).engine
    if engine == "postgres" and cdc_start_time is not None:
        raise TaskConfigError("CdcStartTime is not supported for a PostgreSQL source endpoint.")
    if cdc_start_position:
        parse_start(cdc_start_position, engine)
    parse_stop(task.__dict__.get("_emu_cdc_stop_position"))
    parse_settings(task.replication_task_settings)


def _by_arn(backend: Any, arn: str) -> Any:
    return next(e for e in backend.endpoints.values() if e.endpoint_arn == arn)


def start(backend: Any, task: Any, start_type: str, run: dict[str, Any], cdc_start_time: float | None) -> None:
    """Start moving rows for a task that has just been started (``run`` is its API run)."""
    if not enabled():
        return
    with _LOCK:
        previous = RUNS.get(task.arn)
    if previous is not None:
        previous.stop(wait=30.0)
    ri = backend.replication_instances.get(task.replication_instance_arn)
    ri_address = allocate_ri_address(ri.arn) if ri is not None else None
    with _LOCK:
        carry = CARRY.get(task.arn) if start_type == "resume-processing" else None
        if carry is None:
            carry = Carry()
        CARRY[task.arn] = carry
    full = task.migration_type != "cdc" and not carry.load_done
    position = task.__dict__.get("_emu_cdc_start_position")
    if parse_date(position or "") is not None and cdc_start_time is None and task.migration_type == "cdc":
        cdc_start_time, position = parse_date(position or ""), None
    runner = TaskRun(
        task_id=task.id,
        migration_type=task.migration_type,
        source=_endpoint(_by_arn(backend, task.source_endpoint_arn), ri_address, True, ri),
        target=_endpoint(_by_arn(backend, task.target_endpoint_arn), ri_address, False, ri),
        selection=parse_mappings(task.table_mappings),
        settings=parse_settings(task.replication_task_settings),
        start_wall=float(run["running_wall"]),
        full_load=full,
        cdc_start=position if start_type != "resume-processing" else None,
        cdc_start_time=cdc_start_time if start_type != "resume-processing" else None,
        stop_at=parse_stop(task.__dict__.get("_emu_cdc_stop_position")),
        carry=carry,
        time_scale=lambda: STATE.time_scale,
        apply_delay=lambda: APPLY_DELAY.get(task.arn, 0.0),
    )
    with _LOCK:
        RUNS[task.arn] = runner
    runner.start()


def run_for(task: Any) -> TaskRun | None:
    """The task's data-plane run, if any."""
    with _LOCK:
        return RUNS.get(task.arn)


def stop(task: Any) -> None:
    """StopReplicationTask: the thread finishes the transaction it applies, then stops."""
    runner = run_for(task)
    if runner is not None:
        runner.stop_flag.set()


def forget(task: Any) -> None:
    """DeleteReplicationTask."""
    with _LOCK:
        runner = RUNS.pop(task.arn, None)
        CARRY.pop(task.arn, None)
        APPLY_DELAY.pop(task.arn, None)
    if runner is not None:
        runner.stop_flag.set()


def reset() -> None:
    """``POST /_emulator/reset``: stop every run."""
    with _LOCK:
        runs = list(RUNS.values())
        RUNS.clear()
        CARRY.clear()
        APPLY_DELAY.clear()
    for runner in runs:
        runner.stop(wait=10.0)


def set_apply_delay(task: Any, seconds: float) -> None:
    """Slow the task's apply: ``seconds`` (AWS, time-scaled) before each transaction."""
    with _LOCK:
        APPLY_DELAY[task.arn] = seconds
