"""A tiny client for the emulator's ``/_emulator/`` control API (standard library only).

    from client import EmulatorClient
    emu = EmulatorClient("http://127.0.0.1:5000")
    emu.reset()
    emu.set_durations(db_snapshot=120)
    emu.set_lag("my-task", source_seconds=3, target_seconds=5)

Every method raises ``EmulatorError`` on a non-2xx answer.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class EmulatorError(RuntimeError):
    """The control API refused a request (status and message from the emulator)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"emulator answered {status}: {message}")
        self.status = status
        self.message = message


class EmulatorClient:
    """Methods map one-to-one onto the routes documented in README.md."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_emulator/{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            text = err.read().decode("utf-8", "replace")
            try:
                text = json.loads(text).get("error", text)
            except (ValueError, AttributeError):
                pass
            raise EmulatorError(err.code, text) from None

    def clock(self) -> dict[str, Any]:
        """``GET /_emulator/clock``: ``{"aws_now", "wall", "time_scale"}`` read at one instant."""
        return dict(self._call("GET", "clock"))

    def health(self) -> dict[str, Any]:
        """``GET /_emulator/health``."""
        return dict(self._call("GET", "health"))

    def dataplane(self) -> dict[str, Any]:
        """``GET /_emulator/dataplane``: whether the data plane is on, its servers and snapshots."""
        return dict(self._call("GET", "dataplane"))

    def dns(self) -> dict[str, Any]:
        """``GET /_emulator/dns``: ``{"host", "port"}`` of the data plane's DNS server (UDP)."""
        return dict(self._call("GET", "dns"))

    def network(self) -> dict[str, Any]:
        """``GET /_emulator/network``: the data plane's fronts, bind errors and relays."""
        return dict(self._call("GET", "network"))

    def reset(self) -> dict[str, Any]:
        """``POST /_emulator/reset``: all AWS state and emulator settings back to launch."""
        return dict(self._call("POST", "reset", {}))

    def set_lag(self, task: str, source_seconds: float = 0.0, target_seconds: float = 0.0) -> dict[str, Any]:
        """``POST /_emulator/lag``: CDCLatencySource/Target of a task (identifier or ARN)."""
        return dict(
            self._call(
                "POST", "lag", {"task": task, "source_seconds": source_seconds, "target_seconds": target_seconds}
            )
        )

    def set_apply_delay(self, task: str, seconds: float) -> dict[str, Any]:
        """``POST /_emulator/dms-apply-delay``: data plane only; slow a task's apply by ``seconds``
        (AWS seconds) before each source transaction.
        """
        return dict(self._call("POST", "dms-apply-delay", {"task": task, "seconds": seconds}))

    def set_table_statistics(self, task: str, tables: list[dict[str, Any]]) -> dict[str, Any]:
        """``POST /_emulator/table-statistics``: the tables a task replicates and their counters."""
        return dict(self._call("POST", "table-statistics", {"task": task, "tables": tables}))

    def durations(self) -> dict[str, Any]:
        """``GET /_emulator/durations``: ``{"time_scale": F, "durations": {...}}``."""
        return dict(self._call("GET", "durations"))

    def set_durations(self, **seconds: float) -> dict[str, Any]:
        """``POST /_emulator/durations``: override step durations in AWS seconds."""
        return dict(self._call("POST", "durations", {"durations": seconds}))

    def time_scale(self) -> float:
        """``GET /_emulator/time-scale``."""
        return float(self._call("GET", "time-scale")["time_scale"])

    def set_time_scale(self, scale: float) -> float:
        """``POST /_emulator/time-scale``: real seconds per AWS second."""
        return float(self._call("POST", "time-scale", {"time_scale": scale})["time_scale"])

    def faults(self) -> list[dict[str, Any]]:
        """``GET /_emulator/faults``: current rules with their hit counts."""
        return list(self._call("GET", "faults")["rules"])

    def set_faults(self, rules: list[dict[str, Any]], append: bool = False) -> list[dict[str, Any]]:
        """``POST /_emulator/faults``: replace (or append to) the fault rules."""
        return list(self._call("POST", "faults", {"rules": rules, "append": append})["rules"])

    def clear_faults(self) -> None:
        """``DELETE /_emulator/faults``."""
        self._call("DELETE", "faults")

    def calls(self, service: str | None = None, operation: str | None = None) -> list[dict[str, Any]]:
        """``GET /_emulator/calls``, optionally filtered here by service/operation."""
        entries = list(self._call("GET", "calls"))
        return [
            c
            for c in entries
            if (service is None or c["service"] == service) and (operation is None or c["operation"] == operation)
        ]

    def clear_calls(self) -> None:
        """``DELETE /_emulator/calls``."""
        self._call("DELETE", "calls")

    def inventory(self) -> dict[str, Any]:
        """``GET /_emulator/inventory``: ``{kind: {count, ids, status}}``."""
        return dict(self._call("GET", "inventory"))

    def force_status(self, kind: str, ident: str, status: str, message: str | None = None) -> dict[str, Any]:
        """``POST /_emulator/force-status``: pin a resource's status (fault testing)."""
        body: dict[str, Any] = {"kind": kind, "id": ident, "status": status}
        if message is not None:
            body["message"] = message
        return dict(self._call("POST", "force-status", body))
