"""RDS on top of moto: durations, AWS-like identifiers, and the errors moto misses.

What this adds (see README.md for the full list):
- instance ``creating -> backing-up -> available`` (create, read replica, restore),
  ``renaming`` / ``modifying`` after modify, ``deleting`` for a while after delete,
  ``stopping -> stopped`` and ``starting -> available``;
- snapshot ``creating`` with rising ``PercentProgress``; copies ``pending -> copying``;
- preconditions: snapshot/copy/restore need an ``available`` source;
- rename onto an existing identifier -> ``DBInstanceAlreadyExists``;
- delete without a final-snapshot choice -> ``InvalidParameterCombination``;
- unique ``DbiResourceId`` per instance, ``<id>.<random12>.<region>.rds.amazonaws.com``;
- current default engine versions (mariadb without a version works);
- ``default.*`` parameter groups, engine-default parameters, describe_db_engine_versions;
- CopyDBParameterGroup of a custom or a ``default.*`` group (moto's own copy breaks on the
  patched ModifyDBParameterGroup and knows no default group).
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import string
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.rds import responses as rds_responses
from moto.rds.exceptions import (
    DBInstanceAlreadyExists,
    DBInstanceNotFoundError,
    DBParameterGroupAlreadyExistsError,
    DBParameterGroupNotFoundError,
    InvalidParameterCombination,
    InvalidParameterValue,
    RDSClientError,
)
from moto.rds.models import DBInstance, DBParameterGroup, DBSnapshot, RDSBackend

from .dataplane import rds_hooks
from .state import CREATING_FRACTION, STATE, Timeline

DEFAULT_ENGINE_VERSIONS = {"mysql": "8.0.40", "postgres": "16.6", "mariadb": "10.11.10"}

# Engine defaults for the parameters the provider checks, per family prefix.
# (name, value, apply type, data type, allowed values)
ENGINE_DEFAULTS: dict[str, list[tuple[str, str, str, str, str]]] = {
    "mysql": [
        ("binlog_format", "MIXED", "dynamic", "string", "ROW,STATEMENT,MIXED"),
        ("binlog_row_image", "full", "dynamic", "string", "full,minimal,noblob"),
        ("binlog_checksum", "CRC32", "dynamic", "string", "NONE,CRC32"),
        ("read_only", "{TrueIfReplica}", "dynamic", "boolean", "0,1"),
    ],
    "mariadb": [
        ("binlog_format", "MIXED", "dynamic", "string", "ROW,STATEMENT,MIXED"),
        ("binlog_row_image", "FULL", "dynamic", "string", "FULL,MINIMAL,NOBLOB"),
        ("binlog_checksum", "CRC32", "dynamic", "string", "NONE,CRC32"),
        ("read_only", "{TrueIfReplica}", "dynamic", "boolean", "0,1"),
    ],
    "postgres": [
        ("rds.logical_replication", "0", "static", "boolean", "0,1"),
        ("max_replication_slots", "20", "static", "integer", "5-8388607"),
        ("max_wal_senders", "20", "static", "integer", "5-8388607"),
        ("wal_sender_timeout", "60000", "dynamic", "integer", "0-3600000"),
        ("default_transaction_read_only", "off", "dynamic", "boolean", "0,1"),
    ],
}


# describe_db_engine_versions catalogue: a realistic subset. DEFAULT_ENGINE_VERSIONS marks the
# default of each engine (DefaultOnly=true).
ENGINE_VERSIONS: dict[str, list[str]] = {
    "mysql": ["5.7.44", "8.0.35", "8.0.36", "8.0.39", "8.0.40", "8.4.3"],
    "postgres": ["14.13", "15.8", "16.3", "16.4", "16.6", "17.2"],
    "mariadb": ["10.6.19", "10.11.9", "10.11.10", "11.4.4"],
}


def family_of(engine: str, version: str) -> str:
    """The parameter group family of an engine version (``mysql8.0``, ``postgres16``)."""
    parts = version.split(".")
    major = parts[0] if engine == "postgres" and int(parts[0]) >= 10 else ".".join(parts[:2])
    return f"{engine}{major}"


def engine_versions(
    engine: str | None, version: str | None, family: str | None, default_only: bool
) -> list[dict[str, Any]]:
    """Rows for describe_db_engine_versions."""
    rows = []
    for eng, versions in ENGINE_VERSIONS.items():
        if engine and engine != eng:
            continue
        for ver in versions:
            fam = family_of(eng, ver)
            if (version and not ver.startswith(version)) or (family and family != fam):
                continue
            if default_only and ver != DEFAULT_ENGINE_VERSIONS[eng]:
                continue
            rows.append(
                {
                    "Engine": eng,
                    "EngineVersion": ver,
                    "DBParameterGroupFamily": fam,
                    "DBEngineDescription": {
                        "mysql": "MySQL Community Edition",
                        "postgres": "PostgreSQL",
                        "mariadb": "MariaDb Community Edition",
                    }[eng],
                    "DBEngineVersionDescription": f"{eng} {ver}",
                    "SupportsReadReplica": True,
                    "SupportsLogExportsToCloudwatchLogs": True,
                    "Status": "available",
                }
            )
    return rows


def _engine_of_family(family: str) -> str | None:
    for engine in ("postgres", "mariadb", "mysql"):
        if family.startswith(engine):
            return engine
    return None


def engine_default_parameters(family: str) -> list[dict[str, Any]]:
    """The engine-default parameters of a family such as ``mysql8.0`` or ``postgres16``."""
    engine = _engine_of_family(family)
    return [
        {
            "ParameterName": name,
            "ParameterValue": value,
            "Description": f"{name} (engine default, emulated)",
            "Source": "engine-default",
            "ApplyType": apply_type,
            "DataType": data_type,
            "AllowedValues": allowed,
            "IsModifiable": True,
            "ApplyMethod": "pending-reboot" if apply_type == "static" else "immediate",
        }
        for name, value, apply_type, data_type, allowed in ENGINE_DEFAULTS.get(engine or "", [])
    ]


def _invalid_instance_state(message: str) -> RDSClientError:
    return RDSClientError("InvalidDBInstanceState", message)


def _invalid_snapshot_state(message: str) -> RDSClientError:
    return RDSClientError("InvalidDBSnapshotState", message)


# --- lazily derived status ----------------------------------------------------------


def _status_get(self: Any) -> str:
    timeline: Timeline | None = self.__dict__.get("_emu_tl")
    if timeline is not None:
        status = timeline.status()
        last = timeline.phases[-1][0] if timeline.phases else None
    else:
        status, last = str(self.__dict__.get("_emu_status", "available")), None
    if rds_hooks.enabled() and isinstance(self, DBInstance):
        # Data plane: ``available`` only once the server is up too (see rds_hooks.gate_status).
        return rds_hooks.gate_status(self, status, last)
    return status


def _status_set(self: Any, value: str) -> None:
    self.__dict__["_emu_tl"] = None
    self.__dict__["_emu_status"] = value


def _percent_get(self: Any) -> int:
    timeline: Timeline | None = self.__dict__.get("_emu_tl")
    return 100 if timeline is None else timeline.progress()


def _set_timeline(obj: Any, phases: list[tuple[str, float]], final: str = "available") -> None:
    obj.__dict__["_emu_tl"] = Timeline([(name, d) for name, d in phases if d > 0], final)


def _instance_phases(total: float) -> list[tuple[str, float]]:
    return [("creating", total * CREATING_FRACTION), ("backing-up", total * (1 - CREATING_FRACTION))]


def _endpoint_suffix(account_id: str, region: str) -> str:
    """AWS uses one random-looking 12-character label per account and region."""
    digest = hashlib.sha256(f"{account_id}/{region}".encode()).digest()
    alphabet = string.ascii_lowercase + string.digits
    return "c" + "".join(alphabet[b % len(alphabet)] for b in digest[:11])


def _address(self: DBInstance) -> str:
    suffix = _endpoint_suffix(self.account_id, self.region)
    return f"{self.db_instance_identifier}.{suffix}.{self.region}.rds.amazonaws.com"


def _new_dbi_resource_id() -> str:
    alphabet = string.ascii_uppercase + "234567"
    return "db-" + "".join(secrets.choice(alphabet) for _ in range(26))


# --- backend wrappers -----------------------------------------------------------------


def _purge_deleted(backend: RDSBackend) -> None:
    """Drop instances whose ``deleting`` period is over."""
    for ident, db in list(backend.databases.items()):
        if db.status == "deleted":
            backend.databases.pop(ident, None)


def _name_taken(backend: RDSBackend, name: str) -> bool:
    """An identifier in use, or still held by an instance that is being renamed away from it."""
    name = name.lower()
    if name in backend.databases:
        return True
    return any(
        db.__dict__.get("_emu_old_name") == name and db.status == "renaming" for db in backend.databases.values()
    )


def _wrap(name: str, build: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(RDSBackend, name)
    setattr(RDSBackend, name, build(original))


def _patch_backend() -> None:
    def create_db_instance(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
            _purge_deleted(self)
            if _name_taken(self, str(db_kwargs.get("db_instance_identifier", ""))):
                raise DBInstanceAlreadyExists()
            engine = db_kwargs.get("engine")
            if engine in DEFAULT_ENGINE_VERSIONS and not db_kwargs.get("engine_version"):
                db_kwargs["engine_version"] = DEFAULT_ENGINE_VERSIONS[engine]
            db = orig(self, db_kwargs)
            db.dbi_resource_id = _new_dbi_resource_id()
            _set_timeline(db, _instance_phases(STATE.duration("db_create", db.allocated_storage or 0)))
            rds_hooks.on_create(db)
            return db

        return inner

    def create_db_instance_read_replica(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
            _purge_deleted(self)
            if _name_taken(self, db_kwargs["db_instance_identifier"]):
                raise DBInstanceAlreadyExists()
            source = self.find_db_from_id(db_kwargs["source_db_instance_identifier"])
            if source.status != "available":
                raise _invalid_instance_state(f"DB Instance {source.db_instance_identifier} is not in available state.")
            if not source.backup_retention_period:
                raise _invalid_instance_state("Automated backups are not enabled for this database instance.")
            with rds_hooks.not_a_new_instance():
                replica = orig(self, db_kwargs)
            replica.dbi_resource_id = _new_dbi_resource_id()
            # moto copies the primary shallowly; give the replica its own lists.
            replica.tags = copy.deepcopy(db_kwargs.get("tags") or [])
            replica.replicas = []
            _set_timeline(replica, _instance_phases(STATE.duration("db_create", replica.allocated_storage or 0)))
            rds_hooks.on_read_replica(replica, source)
            return replica

        return inner

    def create_db_snapshot(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(
            self: RDSBackend, db_instance_identifier: str, db_snapshot_identifier: str, *args: Any, **kwargs: Any
        ) -> DBSnapshot:
            snapshot_type = kwargs.get("snapshot_type", args[0] if args else "manual")
            db = self.databases.get(db_instance_identifier)
            if db is not None and snapshot_type != "automated" and db.status != "available":
                raise _invalid_instance_state(
                    f"Cannot create a snapshot because the database instance {db_instance_identifier} "
                    f"is not currently in the available state (it is {db.status})."
                )
            snap = orig(self, db_instance_identifier, db_snapshot_identifier, *args, **kwargs)
            if snap.snapshot_type != "automated":
                _set_timeline(snap, [("creating", STATE.duration("db_snapshot", snap.allocated_storage or 0))])
            if db is not None:
                # Data plane: the data is copied at the call's instant (the status timeline is AWS's).
                rds_hooks.on_snapshot(db, snap)
            return snap

        return inner

    def copy_db_snapshot(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(
            self: RDSBackend,
            source_db_snapshot_identifier: str,
            target_db_snapshot_identifier: str,
            *args: Any,
            **kwargs: Any,
        ) -> DBSnapshot:
            source_id = source_db_snapshot_identifier
            if source_id.startswith("arn:"):
                source_id = self.extract_snapshot_name_from_arn(source_id)
            source = self.database_snapshots.get(source_id.lower())
            if source is not None and source.status != "available":
                raise _invalid_snapshot_state(
                    f"Snapshot {source_id} is not in available state (it is {source.status})."
                )
            snap = orig(self, source_id, target_db_snapshot_identifier, *args, **kwargs)
            rds_hooks.on_copy_snapshot(source_id, target_db_snapshot_identifier)
            total = STATE.duration("db_snapshot_copy", snap.allocated_storage or 0)
            _set_timeline(snap, [("pending", total * 0.02), ("copying", total * 0.98)])
            return snap

        return inner

    def restore(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(self: RDSBackend, from_snapshot_id: str, overrides: dict[str, Any]) -> DBInstance:
            _purge_deleted(self)
            snap_id = from_snapshot_id
            if snap_id.startswith("arn:"):
                snap_id = self.extract_snapshot_name_from_arn(snap_id)
            snap = self.database_snapshots.get(snap_id.lower())
            if snap is not None and snap.status != "available":
                raise _invalid_snapshot_state(f"Snapshot {snap_id} is not in available state (it is {snap.status}).")
            with rds_hooks.not_a_new_instance():
                db = orig(self, snap_id, overrides)
            db.dbi_resource_id = _new_dbi_resource_id()
            _set_timeline(db, _instance_phases(STATE.duration("db_restore", db.allocated_storage or 0)))
            rds_hooks.on_restore(db, snap_id)
            return db

        return inner

    def modify_db_instance(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(self: RDSBackend, db_instance_identifier: str, db_kwargs: dict[str, Any]) -> DBInstance:
            _purge_deleted(self)
            new_id = db_kwargs.get("new_db_instance_identifier")
            current = self.databases.get(db_instance_identifier)
            if new_id and current is not None:
                if new_id.lower() != db_instance_identifier.lower() and _name_taken(self, new_id):
                    # Includes a name another instance is still renaming away from: AWS frees
                    # the old identifier only when that rename completes.
                    raise DBInstanceAlreadyExists()
                if current.status != "available":
                    raise _invalid_instance_state(
                        f"Database instance is not in available state (it is {current.status})."
                    )
            db = orig(self, db_instance_identifier, db_kwargs)
            changes = set(db_kwargs) - {"db_instance_identifier", "apply_immediately"}
            if db_kwargs.get("db_parameter_group_name"):
                rds_hooks.on_parameter_group_changed(db)
            if new_id:
                db.__dict__["_emu_old_name"] = db_instance_identifier.lower()
                _set_timeline(db, [("renaming", STATE.duration("rename"))])
                rds_hooks.on_rename(db)
            elif db_kwargs.get("apply_immediately") and changes:
                _set_timeline(db, [("modifying", STATE.duration("db_modify"))])
            return db

        return inner

    def delete_db_instance(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(
            self: RDSBackend,
            db_instance_identifier: str,
            final_db_snapshot_identifier: str | None = None,
            skip_final_snapshot: bool | None = False,
            delete_automated_backups: bool | None = True,
        ) -> DBInstance:
            _purge_deleted(self)
            db = self.databases.get(db_instance_identifier)
            if db is not None and db.status == "deleting":
                raise _invalid_instance_state(f"Instance {db_instance_identifier} is already being deleted.")
            if db is not None and not db.is_replica:
                if not skip_final_snapshot and not final_db_snapshot_identifier:
                    raise InvalidParameterCombination(
                        "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified."
                    )
                if skip_final_snapshot and final_db_snapshot_identifier:
                    raise InvalidParameterCombination(
                        "Cannot specify both SkipFinalSnapshot and FinalDBSnapshotIdentifier."
                    )
            if db is not None and db.is_replica and final_db_snapshot_identifier:
                raise InvalidParameterCombination(
                    "FinalDBSnapshotIdentifier can not be specified when deleting a replica instance"
                )
            if db is not None and final_db_snapshot_identifier and db.status != "available":
                raise _invalid_instance_state(
                    f"Cannot take a final snapshot: instance {db_instance_identifier} is {db.status}."
                )
            gone = orig(
                self,
                db_instance_identifier,
                final_db_snapshot_identifier,
                skip_final_snapshot,
                delete_automated_backups,
            )
            # AWS keeps showing the instance as ``deleting`` for a while.
            _set_timeline(gone, [("deleting", STATE.duration("db_delete"))], final="deleted")
            rds_hooks.on_delete(gone)
            if gone.status == "deleting":
                self.databases[gone.db_instance_identifier] = gone
            return gone

        return inner

    def stop_db_instance(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(
            self: RDSBackend, db_instance_identifier: str, db_snapshot_identifier: str | None = None
        ) -> DBInstance:
            _purge_deleted(self)
            db = orig(self, db_instance_identifier, db_snapshot_identifier)
            _set_timeline(db, [("stopping", STATE.duration("db_stop"))], final="stopped")
            rds_hooks.on_stop(db)
            return db

        return inner

    def start_db_instance(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(self: RDSBackend, db_instance_identifier: str) -> DBInstance:
            db = orig(self, db_instance_identifier)
            _set_timeline(db, [("starting", STATE.duration("db_start"))])
            rds_hooks.on_start(db)
            return db

        return inner

    def describe_db_instances(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(self: RDSBackend, *args: Any, **kwargs: Any) -> list[DBInstance]:
            _purge_deleted(self)
            # A deletion can finish while moto describes: never answer "deleted" (AWS has no
            # such status; the instance is simply gone).
            found = [db for db in orig(self, *args, **kwargs) if db.status != "deleted"]
            ident = kwargs.get("db_instance_identifier", args[0] if args else None)
            if ident and not found:
                raise DBInstanceNotFoundError(ident)
            return found

        return inner

    def describe_db_parameter_groups(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(self: RDSBackend, kwargs: dict[str, Any]) -> list[DBParameterGroup]:
            name = kwargs.get("db_parameter_group_name")
            if name:
                _ensure_default_group(self, name)
            return list(orig(self, kwargs))

        return inner

    def reboot_db_instance(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(self: RDSBackend, db_instance_identifier: str, *args: Any, **kwargs: Any) -> DBInstance:
            _purge_deleted(self)
            db = self.databases.get(db_instance_identifier)
            if db is not None and db.status != "available":
                raise _invalid_instance_state(f"DB instance {db_instance_identifier} is not in available state.")
            db = orig(self, db_instance_identifier, *args, **kwargs)
            # RDS shows ``rebooting`` until the instance is back (RDS User Guide, "Rebooting a DB instance").
            _set_timeline(db, [("rebooting", STATE.duration("db_reboot"))])
            rds_hooks.on_reboot(db)
            return db

        return inner

    def promote_read_replica(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
            db = self.databases.get(db_kwargs.get("db_instance_identifier", ""))
            was_replica = db is not None and db.is_replica
            db = orig(self, db_kwargs)
            if was_replica:
                rds_hooks.on_promote(db)
            return db

        return inner

    def modify_db_parameter_group(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(self: RDSBackend, db_parameter_group_name: str, parameters: Any) -> DBParameterGroup:
            params = [dict(p) for p in (parameters or [])]
            if db_parameter_group_name.lower().startswith("default."):
                # Modifying parameters in a DB parameter group (RDS User Guide): "You can't
                # change values in a default parameter group" (the error text is a guess).
                raise InvalidParameterValue(f"cannot modify the default DB parameter group {db_parameter_group_name}")
            existing = self.db_parameter_groups.get(db_parameter_group_name)
            if existing is not None:
                static = {
                    p["ParameterName"]
                    for p in engine_default_parameters(existing.family or "")
                    if p.get("ApplyType") == "static"
                }
                for param in params:
                    if param.get("ApplyMethod") == "immediate" and param.get("ParameterName") in static:
                        # ModifyDBParameterGroup (RDS API reference): "You can use the immediate
                        # value with dynamic parameters only." (the error text is a guess).
                        raise InvalidParameterCombination(
                            f"cannot use immediate apply method for static parameter {param['ParameterName']}"
                        )
            group = orig(self, db_parameter_group_name, parameters)
            rds_hooks.on_modify_parameter_group(self, db_parameter_group_name, params)
            return group

        return inner

    def copy_db_parameter_group(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(
            self: RDSBackend,
            source_db_parameter_group_identifier: str,
            target_db_parameter_group_identifier: str,
            target_db_parameter_group_description: str,
            tags: list[dict[str, str]] | None = None,
        ) -> DBParameterGroup:
            # CopyDBParameterGroup (RDS API reference): the source is a group name or ARN; the
            # copy has the source's family and the values the source sets.
            name = source_db_parameter_group_identifier.split(":")[-1]
            source = _ensure_default_group(self, name) or self.db_parameter_groups.get(name)
            if source is None:
                raise DBParameterGroupNotFoundError(name)
            target = target_db_parameter_group_identifier
            if target in self.db_parameter_groups:
                raise DBParameterGroupAlreadyExistsError(target)
            group = DBParameterGroup(  # type: ignore[abstract]
                backend=self,
                db_parameter_group_name=target,
                db_parameter_group_family=source.family,
                description=target_db_parameter_group_description,
                tags=tags or [],
            )
            group.parameters.update(copy.deepcopy(dict(source.parameters)))
            self.db_parameter_groups[target] = group
            return group

        return inner

    def delete_db_snapshot(orig: Callable[..., Any]) -> Callable[..., Any]:
        def inner(self: RDSBackend, db_snapshot_identifier: str) -> DBSnapshot:
            snap = orig(self, db_snapshot_identifier)
            rds_hooks.on_delete_snapshot(db_snapshot_identifier)
            return snap

        return inner

    _wrap("create_db_instance", create_db_instance)
    _wrap("reboot_db_instance", reboot_db_instance)
    _wrap("promote_read_replica", promote_read_replica)
    _wrap("modify_db_parameter_group", modify_db_parameter_group)
    _wrap("copy_db_parameter_group", copy_db_parameter_group)
    _wrap("delete_db_snapshot", delete_db_snapshot)
    _wrap("create_db_instance_read_replica", create_db_instance_read_replica)
    _wrap("create_db_snapshot", create_db_snapshot)
    _wrap("copy_db_snapshot", copy_db_snapshot)
    _wrap("restore_db_instance_from_db_snapshot", restore)
    _wrap("modify_db_instance", modify_db_instance)
    _wrap("delete_db_instance", delete_db_instance)
    _wrap("stop_db_instance", stop_db_instance)
    _wrap("start_db_instance", start_db_instance)
    _wrap("describe_db_instances", describe_db_instances)
    _wrap("describe_db_parameter_groups", describe_db_parameter_groups)


def _ensure_default_group(backend: RDSBackend, name: str) -> DBParameterGroup | None:
    """Materialise ``default.<family>`` groups the way AWS always has them."""
    lowered = name.lower()
    if lowered in backend.db_parameter_groups:
        return backend.db_parameter_groups[lowered]
    if not lowered.startswith("default.") or _engine_of_family(lowered[len("default.") :]) is None:
        return None
    family = lowered[len("default.") :]
    group = DBParameterGroup(  # type: ignore[abstract]
        backend=backend,
        db_parameter_group_name=lowered,
        db_parameter_group_family=family,
        description=f"Default parameter group for {family}",
        tags=[],
    )
    backend.db_parameter_groups[lowered] = group
    return group


def _patch_responses() -> None:
    def describe_db_parameters(self: Any) -> ActionResult:
        name = self.params.get("DBParameterGroupName")
        group = _ensure_default_group(self.backend, name or "")
        if group is None:
            groups = self.backend.describe_db_parameter_groups({"db_parameter_group_name": name})
            if not groups:
                raise DBParameterGroupNotFoundError(name)
            group = groups[0]
        merged = {p["ParameterName"]: p for p in engine_default_parameters(group.family or "")}
        for pname, param in group.parameters.items():
            base = dict(merged.get(pname, {"ParameterName": pname, "IsModifiable": True}))
            base.update(param)
            base["Source"] = "user"
            merged[pname] = base
        source = self.params.get("Source")
        params = [p for p in merged.values() if not source or p.get("Source") == source]
        return ActionResult({"Parameters": params})

    def describe_engine_default_parameters(self: Any) -> ActionResult:
        family = self.params.get("DBParameterGroupFamily", "")
        return ActionResult(
            {"EngineDefaults": {"DBParameterGroupFamily": family, "Parameters": engine_default_parameters(family)}}
        )

    def describe_db_engine_versions(self: Any) -> ActionResult:
        p = self.params
        rows = engine_versions(
            p.get("Engine"), p.get("EngineVersion"), p.get("DBParameterGroupFamily"), bool(p.get("DefaultOnly"))
        )
        return ActionResult({"DBEngineVersions": rows})

    rds_responses.RDSResponse.describe_db_engine_versions = describe_db_engine_versions  # type: ignore[attr-defined]
    rds_responses.RDSResponse.describe_db_parameters = describe_db_parameters  # type: ignore[method-assign]
    rds_responses.RDSResponse.describe_engine_default_parameters = describe_engine_default_parameters  # type: ignore[attr-defined]


def apply() -> None:
    """Install every RDS patch (idempotent enough to call once at start-up)."""
    DBInstance.default_engine_versions.update(DEFAULT_ENGINE_VERSIONS)
    for cls in (DBInstance, DBSnapshot):
        cls.status = property(_status_get, _status_set)  # type: ignore[attr-defined,assignment]
    DBSnapshot.percent_progress = property(_percent_get)  # type: ignore[attr-defined]
    DBInstance.address = property(_address)  # type: ignore[method-assign,assignment]
    original_groups = DBInstance.db_parameter_group_status_list

    def parameter_group_status(self: DBInstance) -> Any:
        groups = original_groups.fget(self)  # type: ignore[attr-defined]
        status = rds_hooks.parameter_apply_status(self)
        if status is not None:
            for group in groups:
                group.ParameterApplyStatus = status
        return groups

    DBInstance.db_parameter_group_status_list = property(parameter_group_status)  # type: ignore[method-assign,assignment]
    from .dataplane import events

    events.apply()
    _patch_backend()
    _patch_responses()
