"""Emulator-wide state that moto does not keep: the scaled clock, step durations,
injected CDC lag, injected table statistics, forced connection failures, the AWS call log
and fault rules.

Everything here is process-global (like moto's backends) and guarded by one lock,
because the server is threaded.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

#: Default durations in *AWS seconds* (real seconds = AWS seconds x time scale).
#: Keys ending in ``_per_gb`` / ``_per_row`` scale with allocated storage / rows;
#: the matching base key is a fixed overhead. A 500 GB instance therefore takes
#: ~41 min to snapshot, ~61 min to copy-encrypt and ~25 min to restore.
DEFAULT_DURATIONS: dict[str, float] = {
    "db_create": 300.0,  # create_db_instance / read replica: creating -> backing-up -> available
    "db_create_per_gb": 0.6,
    "db_snapshot": 60.0,  # create_db_snapshot: creating (PercentProgress) -> available
    "db_snapshot_per_gb": 4.8,
    "db_snapshot_copy": 60.0,  # copy_db_snapshot (e.g. KMS re-encryption)
    "db_snapshot_copy_per_gb": 7.2,
    "db_restore": 300.0,  # restore_db_instance_from_db_snapshot
    "db_restore_per_gb": 1.8,
    "rename": 60.0,  # modify_db_instance NewDBInstanceIdentifier: renaming -> available
    "db_modify": 30.0,  # other modify_db_instance with ApplyImmediately: modifying -> available
    "db_delete": 120.0,  # delete_db_instance: deleting, then gone
    "db_stop": 120.0,  # stop_db_instance: stopping -> stopped
    "db_start": 300.0,  # start_db_instance: starting -> available
    "db_reboot": 60.0,  # reboot_db_instance: rebooting -> available
    "replication_instance": 600.0,  # creating -> available
    "replication_instance_delete": 60.0,  # deleting, then gone
    "task_create": 30.0,  # creating -> ready
    "task_modify": 15.0,  # modifying -> previous state
    "task_start": 60.0,  # starting -> running
    "full_load": 60.0,  # full-load phase fixed part (FullLoadProgressPercent 0 -> 100)
    "full_load_per_row": 0.001,  # plus this per table row (from /_emulator/table-statistics)
    "task_stop": 30.0,  # stopping -> stopped
    "route53_change": 40.0,  # change_resource_record_sets: PENDING -> INSYNC
    # create_blue_green_deployment: PROVISIONING -> AVAILABLE; green members creating -> available
    # (a green environment is a read replica of blue plus its topology: scales with blue's storage).
    "blue_green_provisioning": 900.0,
    "blue_green_provisioning_per_gb": 0.6,
    "blue_green_switchover": 60.0,  # SWITCHOVER_IN_PROGRESS -> SWITCHOVER_COMPLETED ("typically under a minute")
}

#: The call log keeps at most this many entries (a long ``make emulator`` session stays small).
MAX_CALLS = 100_000

#: Fraction of a restore/create spent in ``creating`` before ``backing-up``.
CREATING_FRACTION = 0.7


@dataclass
class FaultRule:
    """One fault-injection rule, matched on service and operation ("*" = any)."""

    service: str = "*"
    operation: str = "*"
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    delay_seconds: float = 0.0
    delay_rate: float = 0.0
    times: int | None = None  # apply to at most this many matching calls, then expire
    hits: int = 0

    def matches(self, service: str, operation: str) -> bool:
        """True when this rule applies to the call and has not expired."""
        if self.times is not None and self.hits >= self.times:
            return False
        return self.service in ("*", service) and self.operation in ("*", operation)

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``GET /_emulator/faults``."""
        return {
            "service": self.service,
            "operation": self.operation,
            "throttle_rate": self.throttle_rate,
            "error_rate": self.error_rate,
            "delay_seconds": self.delay_seconds,
            "delay_rate": self.delay_rate,
            "times": self.times,
            "hits": self.hits,
        }


@dataclass
class LagPoint:
    """A CDC latency setting for one task, effective from wall time ``since``."""

    since: float
    source_seconds: float
    target_seconds: float


# The instant the AWS call this thread is serving began (see EmulatorState.one_instant).
_INSTANT = threading.local()


@dataclass
class EmulatorState:
    """All state the emulator adds on top of moto."""

    launch_time_scale: float = 1.0
    time_scale: float = 1.0
    durations: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_DURATIONS))
    # Virtual AWS clock: aws_now = aws_base + (monotonic - real_base) / time_scale.
    real_base: float = field(default_factory=time.monotonic)
    aws_base: float = 0.0
    lag: dict[str, list[LagPoint]] = field(default_factory=dict)  # task id -> history
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # task id -> tables
    connection_failures: dict[str, str] = field(default_factory=dict)  # endpoint ARN -> message
    calls: list[dict[str, Any]] = field(default_factory=list)
    faults: list[FaultRule] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)  # Route 53 change id -> Timeline
    lock: threading.RLock = field(default_factory=threading.RLock)

    # --- clock -----------------------------------------------------------------
    def aws_now(self) -> float:
        """Current virtual AWS time in seconds (only differences are meaningful). Inside
        :meth:`one_instant`, the instant it began.
        """
        at: float | None = getattr(_INSTANT, "at", None)
        return at if at is not None else self._live_now()

    def _live_now(self) -> float:
        with self.lock:
            return self.aws_base + (time.monotonic() - self.real_base) / self.time_scale

    @contextmanager
    def one_instant(self) -> Iterator[None]:
        """Serve one AWS call at one instant of the virtual clock (this thread only). Statuses
        are derived from the clock when read, and moto reads one several times while it builds
        a response: without this a deletion finishing mid-call could be answered as
        ``deleted``, a status AWS never shows.
        """
        _INSTANT.at = self._live_now()
        try:
            yield
        finally:
            _INSTANT.at = None

    def set_time_scale(self, scale: float) -> None:
        """Change the scale without making elapsed AWS time jump."""
        if not scale > 0:
            raise ValueError("time scale must be > 0")
        with self.lock:
            self.aws_base = self._live_now()
            self.real_base = time.monotonic()
            self.time_scale = scale

    # --- durations -------------------------------------------------------------
    def duration(self, step: str, size: float = 0.0) -> float:
        """AWS seconds for ``step``: base plus ``<step>_per_gb``/``_per_row`` x size."""
        with self.lock:
            base = self.durations.get(step, 0.0)
            per = self.durations.get(f"{step}_per_gb", self.durations.get(f"{step}_per_row", 0.0))
            return max(0.0, base + per * size)

    def set_durations(self, overrides: dict[str, Any]) -> None:
        """Override some step durations; unknown step names are rejected."""
        unknown = sorted(set(overrides) - set(DEFAULT_DURATIONS))
        if unknown:
            raise ValueError(f"unknown duration keys: {', '.join(unknown)}")
        for key, value in overrides.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"duration {key} must be a number >= 0")
        with self.lock:
            self.durations.update({k: float(v) for k, v in overrides.items()})

    # --- lag -------------------------------------------------------------------
    def set_lag(self, task_id: str, source: float, target: float) -> None:
        """Record a new CDC latency for a task, effective now."""
        with self.lock:
            self.lag.setdefault(task_id, []).append(LagPoint(time.time(), source, target))

    def lag_at(self, task_id: str, wall: float) -> LagPoint:
        """The latency in effect for ``task_id`` at wall time ``wall`` (default 0/0)."""
        with self.lock:
            chosen = LagPoint(0.0, 0.0, 0.0)
            for point in self.lag.get(task_id, []):
                if point.since <= wall:
                    chosen = point
            return chosen

    # --- calls and faults ------------------------------------------------------
    def record_call(self, entry: dict[str, Any]) -> None:
        """Append one AWS call to the log (the oldest entries go beyond ``MAX_CALLS``)."""
        with self.lock:
            self.calls.append(entry)
            if len(self.calls) > MAX_CALLS:
                del self.calls[: len(self.calls) - MAX_CALLS]

    def reset(self) -> None:
        """Back to the state right after launch (moto state is reset separately)."""
        with self.lock:
            self.durations = dict(DEFAULT_DURATIONS)
            self.set_time_scale(self.launch_time_scale)
            self.lag.clear()
            self.tables.clear()
            self.connection_failures.clear()
            self.calls.clear()
            self.faults.clear()
            self.changes.clear()

    def snapshot_durations(self) -> dict[str, float]:
        """A copy of the current durations."""
        with self.lock:
            return copy.deepcopy(self.durations)


STATE = EmulatorState()


class Timeline:
    """A status sequence that advances with the virtual AWS clock.

    ``phases`` is a list of (status, AWS seconds); after them the status is ``final``.
    Nothing runs in the background: callers ask for the status when they describe.
    """

    def __init__(self, phases: list[tuple[str, float]], final: str) -> None:
        self.start = STATE.aws_now()
        self.phases = phases
        self.final = final

    @property
    def total(self) -> float:
        """Total AWS seconds until ``final``."""
        return sum(d for _, d in self.phases)

    def elapsed(self) -> float:
        """AWS seconds since the timeline started."""
        return STATE.aws_now() - self.start

    def status(self) -> str:
        """The current status."""
        left = self.elapsed()
        for name, dur in self.phases:
            if left < dur:
                return name
            left -= dur
        return self.final

    def done(self) -> bool:
        """True once the final status is reached."""
        return self.elapsed() >= self.total

    def progress(self) -> int:
        """Whole percent of the total, 0..100."""
        if self.total <= 0:
            return 100
        return max(0, min(100, int(self.elapsed() * 100 / self.total)))
