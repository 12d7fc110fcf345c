"""RDS blue/green deployments with ``TargetResourceConfigurations`` (a target KMS key per member).

moto 5.2.5 creates one green instance for the source only, instantly, copies the blue encryption,
and renames at once on switchover. This module replaces its create/switchover/delete with a model
of what RDS does, as far as a client can observe it:

- one green instance per blue member (the source and each of its read replicas), named
  ``<blue-id>-green-<6 lowercase alnum>``, with blue's settings; a member with a
  ``TargetResourceConfiguration`` entry carrying ``TargetKmsKeyId`` gets encrypted storage with
  that key's ARN (aliases resolved), a member without one keeps blue's encryption;
- the green primary is a read replica of the blue primary (documented switchover guardrail), green
  replicas replicate from the green primary;
- statuses on the emulator clock: deployment ``PROVISIONING`` -> ``AVAILABLE`` (duration
  ``blue_green_provisioning`` + ``_per_gb`` x blue storage), green instances ``creating`` ->
  ``backing-up`` -> ``available`` over the same span, ``SwitchoverDetails[]`` per member and
  ``Tasks[]``; switchover ``SWITCHOVER_IN_PROGRESS`` (``blue_green_switchover``) ->
  ``SWITCHOVER_COMPLETED`` or, when that exceeds ``SwitchoverTimeout``, ``SWITCHOVER_FAILED`` with
  nothing renamed;
- on completion every blue member becomes ``<id>-old1`` and every green member takes its blue's
  identifier (ARN and endpoint follow the name, ``DbiResourceId`` stays with the instance); the new
  primary is promoted, the old replicas keep replicating from the old primary, the new replicas
  from the new primary;
- delete: ``DeleteTarget`` before switchover deletes the green instances, refused afterwards;
  without it the green instances stay (MySQL/MariaDB: still a replica of blue; PostgreSQL: promoted).

Nothing runs in the background: ``settle_all()`` applies a switchover whose time has come, and the
front (``control.EmulatorApp``) calls it before every request.
"""

from __future__ import annotations

import copy
import random
import re
import string
from typing import Any

from moto.rds.exceptions import (
    BlueGreenDeploymentAlreadyExistsFault,
    BlueGreenDeploymentNotFoundFault,
    DBParameterGroupNotFoundError,
    InvalidParameterCombination,
    InvalidParameterValue,
    KMSKeyNotAccessibleFault,
    RDSClientError,
)
from moto.rds.models import (
    BlueGreenDeployment,
    BlueGreenDeploymentTask,
    DBInstance,
    RDSBackend,
    SwitchoverDetails,
    rds_backends,
)

from .dataplane import rds_hooks
from .rds_patch import ENGINE_VERSIONS, _instance_phases, _set_timeline, family_of
from .state import STATE

#: Deployment statuses (API_BlueGreenDeployment) and member statuses (API_SwitchoverDetail).
PROVISIONING = "PROVISIONING"
AVAILABLE = "AVAILABLE"
SWITCHOVER_IN_PROGRESS = "SWITCHOVER_IN_PROGRESS"
SWITCHOVER_COMPLETED = "SWITCHOVER_COMPLETED"
SWITCHOVER_FAILED = "SWITCHOVER_FAILED"
INVALID_CONFIGURATION = "INVALID_CONFIGURATION"
DELETING = "DELETING"
DEPLOYMENT_STATUSES = (
    PROVISIONING,
    AVAILABLE,
    SWITCHOVER_IN_PROGRESS,
    SWITCHOVER_COMPLETED,
    INVALID_CONFIGURATION,
    SWITCHOVER_FAILED,
    DELETING,
)
SUPPORTED_ENGINES = ("mysql", "mariadb", "postgres")
#: Documented range of SwitchoverTimeout (seconds).
SWITCHOVER_TIMEOUT_RANGE = (30, 3600)
ARN_RE = re.compile(r"^arn:aws[a-z-]*:rds:([a-z0-9-]+):(\d{12}):db:([a-zA-Z][a-zA-Z0-9-]{0,62})$")


def _field(obj: Any, name: str) -> Any:
    """A request member by its API name, whatever the parser's key style."""
    if obj is None:
        return None
    snake = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name).lower()
    for key in (name, snake):
        try:
            value = obj.get(key)
        except AttributeError:
            return None
        if value is not None:
            return value
    return None


def _invalid_bgd_state(message: str) -> RDSClientError:
    return RDSClientError("InvalidBlueGreenDeploymentStateFault", message)


def _invalid_instance_state(message: str) -> RDSClientError:
    return RDSClientError("InvalidDBInstanceState", message)


def _not_supported(arn: str, why: str) -> RDSClientError:
    return RDSClientError(
        "SourceDatabaseNotSupportedFault",
        f"The source DB instance {arn} isn't supported for a blue/green deployment: {why}",
    )


def _green_suffix() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=6))


def _primary_arn(name: str, side: str, doc: str) -> Any:
    """Property ``name``: the ARN of the primary member's ``side`` (blue or green) instance;
    assigning it is an error (it follows the members, whose names change on switchover).
    """

    def get(self: EmuBlueGreenDeployment) -> str:
        return str(getattr(self.primary, side).db_instance_arn)

    def refuse(self: EmuBlueGreenDeployment, _value: str) -> None:
        raise AttributeError(f"{name} is derived from the members")

    return property(get, refuse, doc=doc)


class Member:
    """One blue instance and its green counterpart (object references: names change on switchover)."""

    def __init__(self, blue: DBInstance, green: DBInstance) -> None:
        self.blue = blue
        self.green = green


class EmuBlueGreenDeployment(BlueGreenDeployment):
    """A deployment whose statuses derive from the emulator clock (see module docs)."""

    resource_type = "deployment"

    def __init__(self, backend: RDSBackend, name: str, members: list[Member], tags: list[dict[str, str]]) -> None:
        # moto's own __init__ creates the green instance; everything is set here instead.
        super(BlueGreenDeployment, self).__init__(backend)
        self.blue_green_deployment_identifier = "bgd-" + "".join(
            random.choices(string.ascii_lowercase + string.digits, k=16)
        )
        self.blue_green_deployment_name = name
        self.members = members
        self.tags = tags
        self.create_time = self.created
        self.deletion_time: Any = None
        self.engine_upgrade = False
        self.provision_start = STATE.aws_now()
        self.provision_seconds = STATE.duration(
            "blue_green_provisioning", float(members[0].blue.allocated_storage or 0)
        )
        self.switch_start: float | None = None
        self.switch_seconds = 0.0
        self.switch_timeout = 300.0
        self.switched = False
        self.forced_status: str | None = None
        self.forced_details: str | None = None

    # --- derived view (what Describe returns) ---------------------------------------------
    @property
    def resource_id(self) -> str:
        """The ARN's last part: the deployment identifier."""
        return self.blue_green_deployment_identifier

    @property
    def primary(self) -> Member:
        """The member for the deployment's source."""
        return self.members[0]

    source = _primary_arn("source", "blue", "Blue primary ARN (``<id>-old1`` after switchover, as the name changed).")
    target = _primary_arn("target", "green", "Green primary ARN (the original identifier after switchover).")

    def _present(self, db: DBInstance) -> bool:
        current = self.backend.databases.get(db.db_instance_identifier)
        return current is db and db.status not in ("deleting", "deleted")

    def _phase(self) -> str:
        """The lifecycle phase from the clock alone (no side effects)."""
        now = STATE.aws_now()
        if self.switch_start is not None:
            if self.switch_seconds > self.switch_timeout:
                return SWITCHOVER_IN_PROGRESS if now < self.switch_start + self.switch_timeout else SWITCHOVER_FAILED
            return SWITCHOVER_IN_PROGRESS if now < self.switch_start + self.switch_seconds else SWITCHOVER_COMPLETED
        return PROVISIONING if now < self.provision_start + self.provision_seconds else AVAILABLE

    def settle(self) -> None:
        """Apply the switchover once its time has come (idempotent)."""
        if not self.switched and self._phase() == SWITCHOVER_COMPLETED:
            _switch(self.backend, self)
            self.switched = True

    @property
    def status(self) -> str:  # type: ignore[override]
        """Deployment status as RDS reports it."""
        self.settle()
        if self.forced_status:
            return self.forced_status
        phase = self._phase()
        if phase in (PROVISIONING, AVAILABLE, SWITCHOVER_FAILED) and self._missing():
            return INVALID_CONFIGURATION
        return phase

    @status.setter
    def status(self, value: str) -> None:
        self.forced_status = value

    def _missing(self) -> bool:
        return any(not self._present(m.blue) or not self._present(m.green) for m in self.members)

    @property
    def status_details(self) -> str | None:  # type: ignore[override]
        """Free text next to the status."""
        if self.forced_details:
            return self.forced_details
        status = self.status
        if status == SWITCHOVER_COMPLETED:
            return "Switchover completed"
        if status == SWITCHOVER_FAILED:
            return (
                f"Switchover did not complete within the switchover timeout ({int(self.switch_timeout)} seconds). "
                "Changes were rolled back."
            )
        if status == INVALID_CONFIGURATION:
            return "A resource in the blue/green deployment is missing."
        return None

    @status_details.setter
    def status_details(self, value: str | None) -> None:
        self.forced_details = value

    @property
    def switchover_details(self) -> list[SwitchoverDetails]:
        """One entry per member, ``{SourceMember, TargetMember, Status}``."""
        status = self.status
        member_status = {
            PROVISIONING: PROVISIONING,
            AVAILABLE: AVAILABLE,
            SWITCHOVER_IN_PROGRESS: SWITCHOVER_IN_PROGRESS,
            SWITCHOVER_COMPLETED: SWITCHOVER_COMPLETED,
            SWITCHOVER_FAILED: SWITCHOVER_FAILED,
            DELETING: AVAILABLE,
            INVALID_CONFIGURATION: AVAILABLE,
        }[status]
        details: list[SwitchoverDetails] = []
        for m in self.members:
            state = member_status
            if status not in (SWITCHOVER_COMPLETED,) and not self._present(m.blue):
                state = "MISSING_SOURCE"
            elif status not in (SWITCHOVER_COMPLETED,) and not self._present(m.green):
                state = "MISSING_TARGET"
            details.append(SwitchoverDetails(m.blue.db_instance_arn, m.green.db_instance_arn, state))
        return details

    @switchover_details.setter
    def switchover_details(self, _value: Any) -> None:
        pass  # moto's set_status writes it; the view is derived.

    @property
    def tasks(self) -> list[BlueGreenDeploymentTask]:
        """The provisioning tasks RDS lists, each PENDING -> IN_PROGRESS -> COMPLETED."""
        total = self.provision_seconds
        done = 1.0 if total <= 0 else min(1.0, (STATE.aws_now() - self.provision_start) / total)
        plan: list[tuple[str, float, float]] = [("CREATING_READ_REPLICA_OF_SOURCE", 0.0, 0.6)]
        if self.engine_upgrade:
            plan.append(("DB_ENGINE_VERSION_UPGRADE", 0.6, 0.75))
        if len(self.members) > 1:
            plan.append(("CREATING_TOPOLOGY_OF_SOURCE", 0.6, 0.9))
        plan.append(("CONFIGURE_BACKUPS", 0.9, 1.0))
        out: list[BlueGreenDeploymentTask] = []
        for name, start, end in plan:
            state = "COMPLETED" if done >= end else "IN_PROGRESS" if done >= start else "PENDING"
            out.append(BlueGreenDeploymentTask(name, state))
        return out

    @tasks.setter
    def tasks(self, _value: Any) -> None:
        pass

    def set_status(self, value: Any) -> None:
        """Called by moto with its enum: pin the status by name."""
        self.forced_status = getattr(value, "name", str(value))

    def response_copy(self, status: str) -> EmuBlueGreenDeployment:
        """A copy that reports ``status`` (what a mutating call answers)."""
        dup = copy.copy(self)
        dup.forced_status = status
        dup.switched = True  # a response copy never applies the switchover itself
        return dup


# --- create -------------------------------------------------------------------------------------


def _members_of(backend: RDSBackend, source: DBInstance) -> list[DBInstance]:
    """The blue topology: the source, then its same-region read replicas."""
    out = [source]
    for ident in list(source.replicas):
        replica = backend.databases.get(ident)
        if replica is not None and replica.status not in ("deleting", "deleted"):
            out.append(replica)
    return out


def _resolve_key(backend: RDSBackend, key_id: str) -> str:
    """A key id, ARN, alias or alias ARN -> the key ARN; unknown or not enabled -> KMSKeyNotAccessibleFault."""
    match = re.match(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):", key_id)
    if match and match.group(1) != backend.region_name:
        raise KMSKeyNotAccessibleFault(key_id)  # RDS needs a key in the instance's region
    try:
        key = backend.kms.describe_key(key_id)
    except Exception as exc:  # moto raises KeyError / AttributeError / NotFound for unknown keys and aliases
        raise KMSKeyNotAccessibleFault(key_id) from exc
    if getattr(key, "key_state", "Enabled") != "Enabled":
        raise KMSKeyNotAccessibleFault(key_id)
    return str(key.arn)


def _in_deployment(backend: RDSBackend, db: DBInstance) -> bool:
    """True while any deployment (even a switched-over one not yet deleted) holds ``db``."""
    for bgd in backend.blue_green_deployments.values():
        if isinstance(bgd, EmuBlueGreenDeployment) and any(m.blue is db or m.green is db for m in bgd.members):
            return True
    return False


def _target_keys(backend: RDSBackend, configs: Any, blue: list[DBInstance], source_arn: str) -> dict[str, str | None]:
    """Validate ``TargetResourceConfigurations``; return blue ARN -> key ARN (None: keep blue's)."""
    by_arn = {db.db_instance_arn: db for db in blue}
    keys: dict[str, str | None] = {}
    for i, entry in enumerate(configs or [], start=1):
        arn = _field(entry, "SourceArn")
        where = f"TargetResourceConfigurations.member.{i}"
        if not arn or not isinstance(arn, str):
            raise InvalidParameterValue(f"{where}.SourceArn is required.")
        if not ARN_RE.match(arn):
            raise InvalidParameterValue(f"{where}.SourceArn {arn} is not a valid DB instance ARN.")
        if arn in keys:
            raise InvalidParameterValue(f"You can't specify the same SourceArn in more than one entry: {arn}.")
        if arn not in by_arn:
            raise InvalidParameterValue(
                f"{where}.SourceArn {arn} isn't a DB instance in the blue environment of {source_arn} "
                "(the source or one of its read replicas)."
            )
        key = _field(entry, "TargetKmsKeyId")
        keys[arn] = _resolve_key(backend, key) if key else None
    return keys


def _green_kwargs(blue: DBInstance, ident: str, version: str, param_group: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "db_instance_identifier": ident,
        "engine": blue.engine,
        "engine_version": version,
        "db_instance_class": blue.db_instance_class,
        "allocated_storage": blue.allocated_storage,
        "max_allocated_storage": blue.max_allocated_storage,
        "storage_type": blue.storage_type,
        "iops": blue.iops,
        "storage_throughput": blue.storage_throughput or None,
        "port": blue.port,
        "backup_retention_period": blue.backup_retention_period,
        "character_set_name": blue.character_set_name,
        "auto_minor_version_upgrade": blue.auto_minor_version_upgrade,
        "copy_tags_to_snapshot": blue.copy_tags_to_snapshot,
        "master_username": blue.master_username,
        "master_user_password": blue._master_user_password,
        "multi_az": blue.multi_az,
        "license_model": blue.license_model,
        "preferred_backup_window": blue.preferred_backup_window,
        "preferred_maintenance_window": blue.preferred_maintenance_window,
        "storage_encrypted": blue.storage_encrypted,
        "kms_key_id": blue.kms_key_id,
        "tags": copy.deepcopy(blue.tags),
        "deletion_protection": blue.deletion_protection,
        "enable_cloudwatch_logs_exports": list(blue.enabled_cloudwatch_logs_exports or []),
        "db_security_groups": list(blue.db_security_groups or []),
        "publicly_accessible": blue.publicly_accessible,
        "vpc_security_group_ids": list(blue.vpc_security_group_ids or []),
        "ca_certificate_identifier": blue.ca_certificate_identifier,
        "availability_zone": blue.availability_zone,
        "db_subnet_group_name": blue._db_subnet_group_name,
        "db_name": blue.db_name,
        "option_group_name": blue.option_group_name,
    }
    if param_group:
        kwargs["db_parameter_group_name"] = param_group
    return kwargs


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def create_blue_green_deployment(self: RDSBackend, bg_kwargs: Any) -> EmuBlueGreenDeployment:
    """CreateBlueGreenDeployment with TargetResourceConfigurations (see module docs)."""
    name = _field(bg_kwargs, "BlueGreenDeploymentName") or ""
    for existing in self.blue_green_deployments.values():
        if existing.blue_green_deployment_name == name:
            raise BlueGreenDeploymentAlreadyExistsFault(name)
    source_arn = _field(bg_kwargs, "Source") or ""
    if not re.match(r"^arn:[A-Za-z][0-9A-Za-z-:._]*", source_arn):
        raise InvalidParameterValue("Provided string is not a valid arn")
    if ":cluster:" in source_arn:
        raise RDSClientError(
            "SourceClusterNotSupportedFault", f"The source DB cluster {source_arn} isn't supported by the emulator."
        )
    source = self.find_db_from_id(source_arn)
    arn = source.db_instance_arn
    if source.engine not in SUPPORTED_ENGINES:
        raise _not_supported(arn, f"engine {source.engine} is not RDS for MySQL, MariaDB or PostgreSQL.")
    if getattr(source, "master_user_secret", None) is not None or source.manage_master_user_password:
        raise _not_supported(
            arn, "Blue/green deployments don't support managing master user passwords with Secrets Manager."
        )
    if source.is_replica:
        raise _not_supported(arn, "the source must not be a read replica.")
    if source.status != "available":
        raise _invalid_instance_state(f"DB instance {source.db_instance_identifier} is not in available state.")
    if not source.backup_retention_period:
        raise _invalid_instance_state("Automated backups must be enabled on the source DB instance.")
    blue = _members_of(self, source)
    for db in blue:
        if _in_deployment(self, db):
            raise _invalid_instance_state(
                f"DB instance {db.db_instance_identifier} is already part of a blue/green deployment."
            )
        if db.status != "available":
            raise _invalid_instance_state(f"DB instance {db.db_instance_identifier} is not in available state.")

    version = _field(bg_kwargs, "TargetEngineVersion") or source.engine_version
    if version != source.engine_version:
        if version not in ENGINE_VERSIONS.get(source.engine, []):
            raise InvalidParameterValue(f"Cannot find version {version} for {source.engine}")
        if _version_key(version) < _version_key(source.engine_version):
            raise InvalidParameterCombination(
                f"The target engine version {version} is lower than the source engine version {source.engine_version}."
            )
    param_group = _field(bg_kwargs, "TargetDBParameterGroupName")
    if param_group:
        group = self.db_parameter_groups.get(param_group)
        if group is None and not param_group.startswith("default."):
            raise DBParameterGroupNotFoundError(param_group)
        family = group.family if group is not None else param_group[len("default.") :]
        if family != family_of(source.engine, version):
            raise InvalidParameterCombination(
                f"The parameter group {param_group} with DBParameterGroupFamily {family} can't be used for "
                f"engine {source.engine} {version}."
            )

    keys = _target_keys(self, _field(bg_kwargs, "TargetResourceConfigurations"), blue, arn)
    # RDS keeps a replica's encryption in step with its primary's: an encrypted green primary
    # needs encrypted green replicas ("to encrypt read replicas, include a separate entry for each").
    encrypted = {db.db_instance_arn: bool(keys.get(db.db_instance_arn) or db.storage_encrypted) for db in blue}
    for db in blue[1:]:
        if encrypted[db.db_instance_arn] != encrypted[arn]:
            replica_state = "encrypted" if encrypted[db.db_instance_arn] else "unencrypted"
            source_state = "encrypted" if encrypted[arn] else "unencrypted"
            raise InvalidParameterCombination(
                f"Read replica {db.db_instance_arn} would be {replica_state} "
                f"in the green environment while its source is {source_state}: "
                "to encrypt read replicas, include a separate TargetResourceConfiguration entry with a "
                "TargetKmsKeyId for each one."
            )

    members: list[Member] = []
    total = STATE.duration("blue_green_provisioning", float(source.allocated_storage or 0))
    for db in blue:
        ident = f"{db.db_instance_identifier}-green-{_green_suffix()}"
        while ident in self.databases:
            ident = f"{db.db_instance_identifier}-green-{_green_suffix()}"
        own_group = param_group or db.db_parameter_group_name
        if own_group and not param_group and version != db.engine_version and own_group.startswith("default."):
            own_group = f"default.{family_of(db.engine, version)}"
        kwargs = _green_kwargs(db, ident, version, own_group)
        if db is not source:
            kwargs["allocated_storage"] = source.allocated_storage  # documented: replicas match the green primary
        key = keys.get(db.db_instance_arn)
        if key:
            kwargs["storage_encrypted"] = True
            kwargs["kms_key_id"] = key
        # Data plane: the green primary replicates from blue's primary, green replicas from it.
        upstream = members[0].green if members else db
        with rds_hooks.green_of(upstream):
            green = self.create_db_instance(kwargs)
        _set_timeline(green, _instance_phases(total))
        members.append(Member(db, green))

    # Replication inside the deployment: green primary <- blue primary, green replicas <- green primary.
    green_primary = members[0].green
    green_primary.is_replica = True
    green_primary.source_db_instance_identifier = source.db_instance_identifier
    source.replicas.append(green_primary.db_instance_identifier)
    for m in members[1:]:
        m.green.is_replica = True
        m.green.source_db_instance_identifier = green_primary.db_instance_identifier
        green_primary.replicas.append(m.green.db_instance_identifier)

    tags = [{"Key": _field(t, "Key"), "Value": _field(t, "Value") or ""} for t in (_field(bg_kwargs, "Tags") or [])]
    bgd = EmuBlueGreenDeployment(self, name, members, tags)
    bgd.engine_upgrade = version != source.engine_version
    self.blue_green_deployments[bgd.blue_green_deployment_identifier] = bgd
    return bgd


# --- switchover ----------------------------------------------------------------------------------


def _rename(backend: RDSBackend, db: DBInstance, new: str) -> None:
    """Rename in place; replica links (identifiers) follow."""
    old = db.db_instance_identifier
    backend.databases.pop(old, None)
    db.db_instance_identifier = new
    backend.databases[new] = db
    for other in backend.databases.values():
        if other.source_db_instance_identifier == old:
            other.source_db_instance_identifier = new
        if old in other.replicas:
            other.replicas = [new if r == old else r for r in other.replicas]


def _old_name(backend: RDSBackend, ident: str) -> str:
    n = 1
    while f"{ident}-old{n}" in backend.databases:
        n += 1
    return f"{ident}-old{n}"


def _switch(backend: RDSBackend, bgd: EmuBlueGreenDeployment) -> None:
    """Rename blue -> ``-old1`` and green -> blue's names, promote the new primary."""
    originals = [m.blue.db_instance_identifier for m in bgd.members]
    for m in bgd.members:
        _rename(backend, m.blue, _old_name(backend, m.blue.db_instance_identifier))
    for m, name in zip(bgd.members, originals, strict=True):
        _rename(backend, m.green, name)
    new_primary = bgd.primary.green
    old_primary = bgd.primary.blue
    if new_primary.db_instance_identifier in old_primary.replicas:
        old_primary.replicas.remove(new_primary.db_instance_identifier)
    new_primary.is_replica = False
    new_primary.source_db_instance_identifier = None
    for m in bgd.members:
        for db in (m.blue, m.green):
            db.status = "available"
    # Data plane: renamed endpoints drop their connections; the new primary stops replicating.
    for m in bgd.members:
        rds_hooks.on_rename(m.blue)
        rds_hooks.on_rename(m.green, promote=m is bgd.primary)


def switchover_blue_green_deployment(
    self: RDSBackend, blue_green_deployment_identifier: str, switchover_timeout: int | None = 300
) -> EmuBlueGreenDeployment:
    """SwitchoverBlueGreenDeployment: only from AVAILABLE (or after a failed switchover)."""
    bgd = self.blue_green_deployments.get(blue_green_deployment_identifier)
    if not isinstance(bgd, EmuBlueGreenDeployment):
        raise BlueGreenDeploymentNotFoundFault(blue_green_deployment_identifier)
    timeout = 300 if switchover_timeout is None else int(switchover_timeout)
    low, high = SWITCHOVER_TIMEOUT_RANGE
    if not low <= timeout <= high:
        raise InvalidParameterValue(f"SwitchoverTimeout must be between {low} and {high} seconds.")
    status = bgd.status
    if status not in (AVAILABLE, SWITCHOVER_FAILED):
        raise _invalid_bgd_state(
            f"The blue/green deployment {blue_green_deployment_identifier} can't be switched over "
            f"because it is {status}."
        )
    bgd.forced_status = None
    bgd.forced_details = None
    bgd.switch_start = STATE.aws_now()
    bgd.switch_seconds = STATE.duration("blue_green_switchover")
    bgd.switch_timeout = float(timeout)
    if bgd.status == SWITCHOVER_COMPLETED:  # a zero duration completes at once
        return bgd
    return bgd.response_copy(SWITCHOVER_IN_PROGRESS)


# --- delete ---------------------------------------------------------------------------------------


def delete_blue_green_deployment(
    self: RDSBackend, blue_green_deployment_identifier: str, delete_target: bool | None = False
) -> EmuBlueGreenDeployment:
    """DeleteBlueGreenDeployment: DeleteTarget only before switchover; the blue side is never touched."""
    bgd = self.blue_green_deployments.get(blue_green_deployment_identifier)
    if not isinstance(bgd, EmuBlueGreenDeployment):
        raise BlueGreenDeploymentNotFoundFault(blue_green_deployment_identifier)
    status = bgd.status
    if status == SWITCHOVER_IN_PROGRESS:
        raise _invalid_bgd_state(
            f"The blue/green deployment {blue_green_deployment_identifier} can't be deleted while a switchover "
            "is in progress."
        )
    if delete_target and status == SWITCHOVER_COMPLETED:
        raise InvalidParameterCombination(
            "You can't specify DeleteTarget for a blue/green deployment whose status is SWITCHOVER_COMPLETED."
        )
    switched = status == SWITCHOVER_COMPLETED
    greens = [m.green for m in bgd.members if bgd._present(m.green)]
    if delete_target:
        protected = [db.db_instance_identifier for db in greens if db.deletion_protection]
        if protected:
            raise InvalidParameterCombination(
                f"Green DB instances {', '.join(protected)} have deletion protection turned on."
            )
        for db in reversed(greens):  # replicas first, then the green primary
            self.delete_db_instance(db.db_instance_identifier, None, True, True)
    elif not switched and bgd.primary.green.engine == "postgres":
        # Documented: PostgreSQL green environments are promoted to standalone; MySQL keeps replicating.
        green, blue = bgd.primary.green, bgd.primary.blue
        if green.db_instance_identifier in blue.replicas:
            blue.replicas.remove(green.db_instance_identifier)
        green.is_replica = False
        green.source_db_instance_identifier = None
    self.blue_green_deployments.pop(bgd.blue_green_deployment_identifier, None)
    return bgd.response_copy(DELETING)


# --- wiring ------------------------------------------------------------------------------------------


def settle_all() -> None:
    """Apply every switchover whose time has come (called before each request)."""
    for _account, regions in list(rds_backends.items()):
        for _region, backend in list(regions.items()):
            for bgd in list(backend.blue_green_deployments.values()):
                if isinstance(bgd, EmuBlueGreenDeployment):
                    bgd.settle()


def find_deployment(ident: str) -> EmuBlueGreenDeployment | None:
    """A deployment by identifier or ARN, in any account/region."""
    for _account, regions in list(rds_backends.items()):
        for _region, backend in list(regions.items()):
            for bgd in list(backend.blue_green_deployments.values()):
                if isinstance(bgd, EmuBlueGreenDeployment) and ident in (bgd.blue_green_deployment_identifier, bgd.arn):
                    return bgd
    return None


DEPLOYMENT_ARN_RE = re.compile(r"^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:deployment:([A-Za-z][0-9A-Za-z-]*)$")


def _wrap_tagging() -> None:
    """ListTagsForResource / AddTagsToResource / RemoveTagsFromResource on a deployment ARN."""
    original = RDSBackend._get_resource_for_tagging

    def inner(self: RDSBackend, arn: str) -> Any:
        match = DEPLOYMENT_ARN_RE.match(arn or "")
        if match is None:
            return original(self, arn)
        bgd = self.blue_green_deployments.get(match.group(1))
        if bgd is None:
            raise BlueGreenDeploymentNotFoundFault(match.group(1))
        return bgd

    RDSBackend._get_resource_for_tagging = inner  # type: ignore[method-assign]


def apply() -> None:
    """Replace moto's blue/green backend operations."""
    _wrap_tagging()
    RDSBackend.create_blue_green_deployment = create_blue_green_deployment  # type: ignore[method-assign,assignment]
    RDSBackend.switchover_blue_green_deployment = switchover_blue_green_deployment  # type: ignore[method-assign,assignment]
    RDSBackend.delete_blue_green_deployment = delete_blue_green_deployment  # type: ignore[method-assign,assignment]
