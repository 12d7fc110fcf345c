"""What a DMS task is told: table mappings, task settings, endpoint attributes, positions.

Each rule follows the DMS User Guide page cited next to it (see the emulator README).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PREP_MODES = ("DROP_AND_CREATE", "TRUNCATE_BEFORE_LOAD", "DO_NOTHING")


class TaskConfigError(ValueError):
    """A task setting, mapping or position DMS would refuse."""


def _like(pattern: str, name: str) -> bool:
    """DMS object-locator match: ``%`` is any run of characters, ``_`` one character
    (Table mapping: selection rules and actions).
    """
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name, flags=re.IGNORECASE) is not None


@dataclass
class Selection:
    """The selection rules of a task's TableMappings."""

    includes: list[tuple[str, str]] = field(default_factory=list)
    excludes: list[tuple[str, str]] = field(default_factory=list)

    def selects(self, schema: str, table: str) -> bool:
        """True when an include rule matches and no exclude rule does."""
        hit = any(_like(s, schema) and _like(t, table) for s, t in self.includes)
        return hit and not any(_like(s, schema) and _like(t, table) for s, t in self.excludes)


def parse_mappings(text: str | None) -> Selection:
    """Selection rules (``rule-type`` ``selection``, ``rule-action`` include/explicit/exclude).
    Transformation rules are not modelled.
    """
    sel = Selection()
    try:
        doc = json.loads(text or "{}")
    except ValueError as exc:
        raise TaskConfigError(f"TableMappings is not valid JSON: {exc}") from exc
    for rule in doc.get("rules", []):
        if rule.get("rule-type") != "selection":
            continue
        loc = rule.get("object-locator") or {}
        pair = (str(loc.get("schema-name", "%")), str(loc.get("table-name", "%")))
        action = rule.get("rule-action", "include")
        if action in ("include", "explicit"):
            sel.includes.append(pair)
        elif action == "exclude":
            sel.excludes.append(pair)
    return sel


@dataclass
class TaskSettings:
    """The ReplicationTaskSettings this emulator honours, with DMS's documented defaults."""

    prep_mode: str = "DROP_AND_CREATE"
    table_error_policy: str = "SUSPEND_TABLE"
    apply_error_insert_policy: str = "LOG_ERROR"
    apply_error_update_policy: str = "LOG_ERROR"
    apply_error_delete_policy: str = "IGNORE_RECORD"
    validation: bool = False
    recoverable_error_count: int = -1
    recoverable_error_interval: float = 5.0
    # Transactional apply (BatchApplyEnabled false): source transactions are grouped into one
    # target transaction of at least MinTransactionSize changes or CommitTimeout seconds.
    min_transaction_size: int = 1000
    commit_timeout: float = 1.0


def parse_settings(text: str | None) -> TaskSettings:
    """Read FullLoadSettings.TargetTablePrepMode, ErrorBehavior.*, ValidationSettings and
    ChangeProcessingTuning.MinTransactionSize / CommitTimeout.
    """
    try:
        doc: dict[str, Any] = json.loads(text or "{}") or {}
    except ValueError as exc:
        raise TaskConfigError(f"ReplicationTaskSettings is not valid JSON: {exc}") from exc
    out = TaskSettings()
    full = doc.get("FullLoadSettings") or {}
    out.prep_mode = str(full.get("TargetTablePrepMode") or out.prep_mode)
    if out.prep_mode not in PREP_MODES:
        raise TaskConfigError(f"Invalid TargetTablePrepMode {out.prep_mode}.")
    err = doc.get("ErrorBehavior") or {}
    out.table_error_policy = str(err.get("TableErrorPolicy") or out.table_error_policy)
    out.apply_error_insert_policy = str(err.get("ApplyErrorInsertPolicy") or out.apply_error_insert_policy)
    out.apply_error_update_policy = str(err.get("ApplyErrorUpdatePolicy") or out.apply_error_update_policy)
    out.apply_error_delete_policy = str(err.get("ApplyErrorDeletePolicy") or out.apply_error_delete_policy)
    out.recoverable_error_count = int(err.get("RecoverableErrorCount", out.recoverable_error_count))
    out.recoverable_error_interval = float(err.get("RecoverableErrorInterval", out.recoverable_error_interval))
    out.validation = bool((doc.get("ValidationSettings") or {}).get("EnableValidation", False))
    tuning = doc.get("ChangeProcessingTuning") or {}
    out.min_transaction_size = max(1, int(tuning.get("MinTransactionSize", out.min_transaction_size)))
    out.commit_timeout = max(0.0, float(tuning.get("CommitTimeout", out.commit_timeout)))
    return out


def parse_eca(text: str | None) -> dict[str, str]:
    """ExtraConnectionAttributes ``key=value;key=value``, keys lower-cased (DMS treats
    ``initstmt`` and ``Initstmt`` alike).
    """
    out: dict[str, str] = {}
    for part in (text or "").split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            out[key.strip().lower()] = value.strip()
    return out


def after_connect(endpoint: Any) -> list[str]:
    """Statements DMS runs on every connection it opens to an endpoint: MySQL ``initstmt``
    / MySQLSettings.AfterConnectScript, PostgreSQL ``afterConnectScript`` /
    PostgreSQLSettings.AfterConnectScript.
    """
    eca = parse_eca(getattr(endpoint, "extra_connection_attributes", None))
    stmts = []
    for key in ("initstmt", "afterconnectscript"):
        if eca.get(key):
            stmts.append(eca[key])
    for attr in ("my_sql_settings", "postgre_sql_settings"):
        settings = getattr(endpoint, attr, None) or {}
        if isinstance(settings, dict) and settings.get("AfterConnectScript"):
            stmts.append(str(settings["AfterConnectScript"]))
    return stmts


def slot_name(endpoint: Any) -> str | None:
    """The replication slot a PostgreSQL source endpoint names (``slotName`` or
    PostgreSQLSettings.SlotName), if any.
    """
    settings = getattr(endpoint, "postgre_sql_settings", None) or {}
    if isinstance(settings, dict) and settings.get("SlotName"):
        return str(settings["SlotName"])
    return parse_eca(getattr(endpoint, "extra_connection_attributes", None)).get("slotname")


# --- positions -------------------------------------------------------------------------------

_MYSQL_POS = re.compile(r"^(?P<file>[^:#\s]+\.\d+):(?P<pos>\d+)$")
_PG_LSN = re.compile(r"^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$")
_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d")


@dataclass
class StartPoint:
    """Where CDC starts: a native position (``("file", pos)`` or an LSN string) or a date."""

    native: tuple[str, int] | str | None = None
    date: float | None = None


def parse_date(text: str) -> float | None:
    """Epoch seconds of a DMS date (UTC), or None when ``text`` is no date."""
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    return None


def mysql_checkpoint(file: str, pos: int, seq: int) -> str:
    """A RecoveryCheckpoint in the shape DMS documents for MySQL
    (``checkpoint:V1#27#mysql-bin-changelog.157832:1975:-1:2002:...``).
    """
    return f"checkpoint:V1#{seq}#{file}:{pos}:-1:{pos}:0:{file}:{pos}#0#0#*#0#0"


def pg_checkpoint(lsn: str, seq: int) -> str:
    """A RecoveryCheckpoint for a PostgreSQL source (the LSN of the last applied commit)."""
    return f"checkpoint:V1#{seq}#{lsn}#0#0#*#0#0"


def parse_start(text: str, engine: str) -> StartPoint:
    """A CdcStartPosition: checkpoint, native position (MySQL ``file:pos``, PostgreSQL LSN)
    or, for MySQL only, a date. PostgreSQL sources refuse a date (custom CDC start time).
    """
    text = text.strip()
    if text.startswith("checkpoint:"):
        parts = text.split("#")
        if len(parts) < 3:
            raise TaskConfigError(f"Invalid checkpoint {text}.")
        body = parts[2]
        if engine == "postgres":
            if not _PG_LSN.match(body):
                raise TaskConfigError(f"Checkpoint {text} is not a PostgreSQL checkpoint.")
            return StartPoint(native=body.upper())
        fields = body.split(":")
        if len(fields) < 2 or not fields[1].isdigit():
            raise TaskConfigError(f"Checkpoint {text} is not a MySQL checkpoint.")
        return StartPoint(native=(fields[0], int(fields[1])))
    if engine == "postgres":
        if _PG_LSN.match(text):
            return StartPoint(native=text.upper())
        if parse_date(text) is not None:
            raise TaskConfigError("CDC start time is not supported for a PostgreSQL source endpoint.")
        raise TaskConfigError(f"Invalid CdcStartPosition {text} for a PostgreSQL source.")
    m = _MYSQL_POS.match(text)
    if m:
        return StartPoint(native=(m["file"], int(m["pos"])))
    date = parse_date(text)
    if date is not None:
        return StartPoint(date=date)
    raise TaskConfigError(f"Invalid CdcStartPosition {text}.")


@dataclass
class StopPoint:
    """CdcStopPosition: ``server_time:`` or ``commit_time:`` (UTC)."""

    kind: str  # "server_time" | "commit_time"
    at: float

    @property
    def reason(self) -> str:
        """The StopReason DMS reports when the task stops there."""
        return (
            "Stop Reason STOPPED_AT_SERVER_TIME" if self.kind == "server_time" else "Stop Reason STOPPED_AT_COMMIT_TIME"
        )


def parse_stop(text: str | None) -> StopPoint | None:
    """Parse ``server_time:2018-02-09T12:12:12`` / ``commit_time:...``."""
    if not text:
        return None
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    when = parse_date(rest.strip())
    if kind not in ("server_time", "commit_time") or when is None:
        raise TaskConfigError(f"Invalid CdcStopPosition {text}.")
    return StopPoint(kind, when)
