"""Clocks for the ledger: real time (``time.monotonic``) and the emulator's virtual AWS time.

A writer stamps each acknowledged write with ``time.monotonic()`` and the wall clock. Emulated
seconds come afterwards from clock samples: ``EmulatorClock`` reads ``GET /_emulator/clock``
(``aws_now`` and ``time_scale``) from a sampler thread while the workload runs, and converts a
monotonic instant to virtual AWS seconds from the nearest earlier sample (so a time-scale change
during the run is followed, to within one sampling interval).
"""

from __future__ import annotations

import bisect
import json
import threading
import time
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class ClockSample:
    """One reading: local monotonic instant, virtual AWS seconds and the scale then in force."""

    mono: float
    aws: float
    time_scale: float


class Clock:
    """Converts local monotonic instants to emulated (virtual AWS) seconds."""

    def sample(self) -> None:
        """Take one reading (no-op for clocks that need none)."""

    def aws_at(self, mono: float) -> float:
        """Virtual AWS seconds at local monotonic instant ``mono``."""
        raise NotImplementedError


class LocalClock(Clock):
    """No emulator: AWS seconds = real seconds / ``time_scale`` (1 = real time)."""

    def __init__(self, time_scale: float = 1.0) -> None:
        if not time_scale > 0:
            raise ValueError("time_scale must be > 0")
        self.time_scale = time_scale

    def aws_at(self, mono: float) -> float:
        """Real seconds scaled."""
        return mono / self.time_scale


class EmulatorClock(Clock):
    """The emulator's virtual clock, read through ``GET /_emulator/clock``."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._lock = threading.Lock()
        self._samples: list[ClockSample] = []

    def sample(self) -> None:
        """Read the emulator's clock once; the local instant is the middle of the round trip."""
        before = time.monotonic()
        with urllib.request.urlopen(f"{self.url}/_emulator/clock", timeout=self.timeout) as response:
            data = json.loads(response.read())
        after = time.monotonic()
        reading = ClockSample((before + after) / 2, float(data["aws_now"]), float(data["time_scale"]))
        with self._lock:
            bisect.insort(self._samples, reading, key=lambda s: s.mono)

    @property
    def samples(self) -> list[ClockSample]:
        """Every reading so far, oldest first."""
        with self._lock:
            return list(self._samples)

    def aws_at(self, mono: float) -> float:
        """Virtual AWS seconds at ``mono``, from the latest reading at or before it (else the first)."""
        with self._lock:
            if not self._samples:
                raise RuntimeError("EmulatorClock has no sample: call sample() first")
            index = bisect.bisect_right([s.mono for s in self._samples], mono) - 1
            ref = self._samples[max(index, 0)]
        return ref.aws + (mono - ref.mono) / ref.time_scale


class ClockSampler:
    """Samples a clock every ``interval`` seconds in a daemon thread until stopped."""

    def __init__(self, clock: Clock, interval: float = 0.5) -> None:
        self.clock = clock
        self.interval = interval
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ledger-clock", daemon=True)

    def start(self) -> None:
        """Take a first sample now (failures raise), then keep sampling in the background."""
        self.clock.sample()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.clock.sample()
            except OSError:
                # A missed sample only widens the interpolation step; the next one catches up.
                self.errors += 1

    def stop(self) -> None:
        """Take a last sample and stop the thread (bounded)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 10)
        try:
            self.clock.sample()
        except OSError:
            self.errors += 1
