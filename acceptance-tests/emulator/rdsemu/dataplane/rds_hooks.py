"""Glue between the RDS patches (``rds_patch.py``, ``blue_green.py``) and the servers.

Every function is a no-op unless the data plane is enabled. Server work that takes
seconds (provisioning, restarts) runs in a background thread so the API call returns at
once; the instance's status stays at its last transitional value until the server is up
(``gate_status``): ``available`` is shown only once the AWS timeline is over AND the
server accepts connections. A server that could not be provisioned shows ``failed``.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from . import DATAPLANE
from .servers import DbServer, SnapshotData, relevant_parameters, server_engine

LOG = logging.getLogger("rdsemu.dataplane.rds")

#: Set by blue/green while it creates a green instance: the DBInstance it must replicate from.
_replica_of: contextvars.ContextVar[Any] = contextvars.ContextVar("replica_of", default=None)
#: Set while moto builds a restored instance or a read replica (it may call create_db_instance).
_suppress_create: contextvars.ContextVar[bool] = contextvars.ContextVar("suppress_create", default=False)
_busy_lock = threading.Lock()
#: DbiResourceId -> server operations in flight (start, stop, reboot, rename, promote, delete).
_busy: dict[str, list[str]] = {}
#: The status an operation shows when no AWS timeline supplies one (e.g. blue/green renames).
_OP_STATUS = {
    "start": "starting",
    "stop": "stopping",
    "reboot": "rebooting",
    "rename": "renaming",
    "promote": "modifying",
    "delete": "deleting",
}


def enabled() -> bool:
    """Whether the data plane is on."""
    return DATAPLANE.enabled


@contextlib.contextmanager
def green_of(blue: Any) -> Iterator[None]:
    """Within this block, a created instance is provisioned as a native replica of ``blue``."""
    token = _replica_of.set(blue)
    try:
        yield
    finally:
        _replica_of.reset(token)


@contextlib.contextmanager
def not_a_new_instance() -> Iterator[None]:
    """Within this block ``on_create`` does nothing (the caller provisions the server itself)."""
    token = _suppress_create.set(True)
    try:
        yield
    finally:
        _suppress_create.reset(token)


def _server(db: Any) -> DbServer | None:
    if not DATAPLANE.enabled:
        return None
    return DATAPLANE.servers.by_resource_id(db.dbi_resource_id)


def _in_background(server: DbServer, name: str, work: Callable[[], None]) -> None:
    """Run ``work`` in a thread; the instance counts as busy until it ends."""
    with _busy_lock:
        _busy.setdefault(server.resource_id, []).append(name)

    def run() -> None:
        try:
            server.ready.wait(timeout=300)
            work()
        except Exception as exc:
            LOG.exception("%s on %s failed", name, server)
            server.error = f"{name}: {exc}"
        finally:
            with _busy_lock:
                _busy[server.resource_id].remove(name)

    threading.Thread(target=run, name=f"dp-{name}-{server.identifier}", daemon=True).start()


def busy(server: DbServer) -> bool:
    """Whether a server operation is still in flight (or provisioning is not finished)."""
    return _operation(server) is not None


def _operation(server: DbServer) -> str | None:
    """The operation in flight (``provision`` until the first start is done), if any."""
    with _busy_lock:
        ops = list(_busy.get(server.resource_id, []))
    if not server.ready.is_set():
        return "provision"
    return ops[0] if ops else None


def _group_values(db: Any) -> dict[str, str]:
    """The instance's parameter-group values the server honours (user values only; defaults
    are the engine defaults the server starts with).
    """
    name = db.db_parameter_group_name
    if not name:
        return {}
    group = db.backend.db_parameter_groups.get(name.lower()) or db.backend.db_parameter_groups.get(name)
    if group is None:
        return {}
    known = relevant_parameters(server_engine(db.engine))
    out: dict[str, str] = {}
    for pname, param in group.parameters.items():
        value = param.get("ParameterValue")
        if pname in known and value is not None:
            out[pname] = str(value)
    return out


def _new_server(db: Any, *, user: str, password: str, db_name: str | None) -> DbServer:
    return DbServer(
        rds_engine=db.engine,
        identifier=db.db_instance_identifier,
        resource_id=db.dbi_resource_id,
        port=int(db.port),
        master_user=user,
        master_password=password,
        db_name=db_name,
        parameters=_group_values(db),
        hostname=db.address,
    )


def _provision(server: DbServer, **kwargs: Any) -> None:
    threading.Thread(
        target=server.provision, kwargs=kwargs, name=f"dp-provision-{server.identifier}", daemon=True
    ).start()


# --------------------------------------------------------------------------- creation


def on_create(db: Any) -> None:
    """CreateDBInstance (and blue/green greens): a new, empty server with the master user."""
    if not DATAPLANE.enabled or _suppress_create.get():
        return
    blue = _replica_of.get()
    server = _new_server(
        db,
        user=db.master_username,
        password=getattr(db, "_master_user_password", None) or db.master_user_password or "",
        db_name=db.db_name,
    )
    if blue is not None:
        source = _server(blue)
        if source is not None:
            _provision_replica(server, source)
            return
    _provision(server)


def _provision_replica(server: DbServer, source: DbServer) -> None:
    def work() -> None:
        if not source.ready.wait(timeout=300) or source.error:
            server.error = f"source {source.identifier} is not up"
            server.ready.set()
            return
        server.provision(source=source)

    threading.Thread(target=work, name=f"dp-replica-{server.identifier}", daemon=True).start()


def on_read_replica(replica: Any, source_db: Any) -> None:
    """CreateDBInstanceReadReplica: a server replicating natively from the primary's."""
    if not DATAPLANE.enabled:
        return
    source = _server(source_db)
    server = _new_server(
        replica,
        user=source_db.master_username,
        password=getattr(source_db, "_master_user_password", None) or source_db.master_user_password or "",
        db_name=source_db.db_name,
    )
    if source is None:
        server.error = "the source instance has no server"
        server.ready.set()
        return
    _provision_replica(server, source)


def on_restore(db: Any, snapshot_id: str) -> None:
    """RestoreDBInstanceFromDBSnapshot: a server loaded with the snapshot's data; for MySQL and
    MariaDB an event on the new instance reports the binlog position (see ``restore_event``).
    """
    if not DATAPLANE.enabled:
        return
    data = DATAPLANE.snapshots.get(snapshot_id.lower())
    if data is None:
        server = _new_server(db, user=db.master_username, password="", db_name=db.db_name)
        server.error = f"snapshot {snapshot_id} carries no data (taken without the data plane?)"
        server.ready.set()
        return
    # RDS: a restored instance keeps the snapshot's master user name and password.
    server = _new_server(db, user=data.master_user, password=data.master_password, db_name=data.db_name)

    def work() -> None:
        server.provision(snapshot=data)
        if server.error is None and data.engine == "mysql" and data.binlog_file:
            restore_event(db, data)

    threading.Thread(target=work, name=f"dp-restore-{server.identifier}", daemon=True).start()


def restore_event(db: Any, data: SnapshotData) -> None:
    """Record the event RDS shows on an instance restored from a MySQL-family snapshot.

    Format from the Amazon Aurora User Guide, "Upgrading to Aurora MySQL version 3"
    (describe-events output: ``Binlog position from crash recovery is
    mysql-bin-changelog.000001 154``, EventCategories empty, SourceType db-instance).
    """
    from .events import add_instance_event

    add_instance_event(db, f"Binlog position from crash recovery is {data.binlog_file} {data.binlog_position}", [])


# --------------------------------------------------------------------------- snapshots


def on_snapshot(db: Any, snap: Any) -> None:
    """CreateDBSnapshot (manual, and final snapshots at deletion): a consistent copy now."""
    if not DATAPLANE.enabled or snap.snapshot_type == "automated":
        return
    server = _server(db)
    if server is None or not server.running:
        return
    assert DATAPLANE.root is not None
    path = DATAPLANE.root / "snapshots" / f"{snap.db_snapshot_identifier}-{server.seq}-{id(snap):x}"
    DATAPLANE.snapshots.put(snap.db_snapshot_identifier.lower(), server.snapshot(path))


def on_copy_snapshot(source_id: str, target_id: str) -> None:
    """CopyDBSnapshot: the copy carries the same data and position."""
    if DATAPLANE.enabled:
        DATAPLANE.snapshots.copy(source_id.lower(), target_id.lower())


def on_delete_snapshot(snapshot_id: str) -> None:
    """DeleteDBSnapshot: drop its data once no copy shares it."""
    if DATAPLANE.enabled:
        DATAPLANE.snapshots.delete(snapshot_id.lower())


def snapshot_position(snapshot_id: str) -> dict[str, Any] | None:
    """The log position a snapshot's data corresponds to (control API, tests)."""
    if not DATAPLANE.enabled:
        return None
    data = DATAPLANE.snapshots.get(snapshot_id.lower())
    return None if data is None else data.position()


# --------------------------------------------------------------------------- lifecycle


def on_delete(db: Any) -> None:
    """DeleteDBInstance: the server stops and its data directory is removed. Its read replicas'
    servers are promoted ("If you delete a source DB instance without deleting its read replicas
    in the same AWS Region, each read replica is promoted to a standalone DB instance": RDS User
    Guide, "Working with DB instance read replicas"). The API side still lists them as replicas.
    """
    server = _server(db)
    if server is None:
        return
    for replica in DATAPLANE.servers.all():
        if replica.source is server:
            _in_background(replica, "promote", replica.promote)
    _in_background(server, "delete", server.destroy)


def on_stop(db: Any) -> None:
    """StopDBInstance: the server shuts down."""
    server = _server(db)
    if server is not None:
        _in_background(server, "stop", server.stop)


def on_start(db: Any) -> None:
    """StartDBInstance: the server starts again (pending-reboot values applied)."""
    server = _server(db)
    if server is not None:
        _in_background(server, "start", server.start)


def on_reboot(db: Any) -> None:
    """RebootDBInstance: restart the process (pending-reboot values applied)."""
    server = _server(db)
    if server is not None:
        _in_background(server, "reboot", server.reboot)


def on_rename(db: Any, promote: bool = False) -> None:
    """ModifyDBInstance NewDBInstanceIdentifier (and blue/green switchover): new identifier and
    endpoint; the server restarts (then stops replicating with ``promote``).
    """
    server = _server(db)
    if server is None:
        return
    server.rename(db.db_instance_identifier, db.address)

    def work() -> None:
        server.restart()
        if promote:
            server.promote()

    _in_background(server, "rename", work)


def on_promote(db: Any) -> None:
    """PromoteReadReplica (and blue/green switchover): stop replicating, accept writes."""
    server = _server(db)
    if server is not None:
        _in_background(server, "promote", server.promote)


# --------------------------------------------------------------------------- parameters


def on_modify_parameter_group(backend: Any, group_name: str, parameters: list[dict[str, Any]]) -> None:
    """ModifyDBParameterGroup: dynamic values with ApplyMethod immediate reach running servers of
    every instance in the group at once; the rest wait for a reboot (``pending-reboot``).
    """
    if not DATAPLANE.enabled:
        return
    immediate: dict[str, str] = {}
    later: dict[str, str] = {}
    for param in parameters:
        name = param.get("ParameterName")
        value = param.get("ParameterValue")
        if not name or value is None:
            continue
        (immediate if param.get("ApplyMethod", "immediate") == "immediate" else later)[name] = str(value)
    for db in list(backend.databases.values()):
        if (db.db_parameter_group_name or "").lower() != group_name.lower():
            continue
        server = _server(db)
        if server is None:
            continue
        if later:
            server.apply_parameters(later, immediate=False)
        if immediate:
            server.apply_parameters(immediate, immediate=True)


def on_parameter_group_changed(db: Any) -> None:
    """ModifyDBInstance DBParameterGroupName: the new group's values wait for a reboot."""
    server = _server(db)
    if server is not None:
        server.associate_group(_group_values(db))


def parameter_apply_status(db: Any) -> str | None:
    """``pending-reboot`` while a value waits for a reboot, else ``in-sync`` (None: no server)."""
    server = _server(db)
    if server is None:
        return None
    return "pending-reboot" if server.pending_reboot else "in-sync"


# --------------------------------------------------------------------------- status


def gate_status(db: Any, status: str, last_phase: str | None) -> str:
    """The status to show, given what the AWS timeline says and what the server is doing."""
    server = _server(db)
    if server is None:
        return status
    if server.error:
        return "failed"
    operation = _operation(server)
    if status in ("available", "stopped") and operation is not None:
        return last_phase or _OP_STATUS.get(operation, "creating")
    if status == "available" and not server.running and not server.destroyed:
        # Up by the timeline but the process is not: still starting (e.g. a start in flight).
        return last_phase or status
    return status
