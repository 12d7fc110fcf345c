"""Start, probe, reset and stop the AWS emulator process for a test session."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# RDSENC_EMULATOR may point at another launcher (e.g. a work-in-progress checkout).
LAUNCHER = Path(
    os.environ.get("RDSENC_EMULATOR") or Path(__file__).resolve().parents[1] / "emulator" / "rdsenc_emulator.py"
)
START_TIMEOUT_S = 60.0

# Fake, static credentials: the emulator accepts anything, and real ones must never be read.
REGION = "us-east-1"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


class EmulatorError(RuntimeError):
    """The emulator did not start, answer, or reset; the message carries the end of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Emulator:
    """A running emulator: its URL, its process and its log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    time_scale: float | None
    _client: Any = field(default=None, repr=False)

    @property
    def client(self) -> Any:
        """The emulator's own control client (`emulator/client.py` `EmulatorClient`)."""
        if self._client is None:
            sys.path.insert(0, str(LAUNCHER.parent))
            try:
                from client import EmulatorClient  # type: ignore[import-not-found]
            finally:
                sys.path.remove(str(LAUNCHER.parent))
            self._client = EmulatorClient(self.url)
        return self._client

    def reset(self) -> None:
        """Forget every AWS object (between tests)."""
        route = "/_emulator/reset"
        try:
            post(self.url + route, {})
        except (OSError, urllib.error.URLError) as exc:
            raise EmulatorError(f"reset via {route} failed: {exc}\n{self.log_tail()}") from exc

    def log_tail(self, lines: int = 40) -> str:
        """The end of the emulator's log, for failure messages."""
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no emulator log)"
        return "--- emulator log (tail) ---\n" + "\n".join(text[-lines:])

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 10 s) and its children."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start(
    log: Path, time_scale: float | None = None, python: str = sys.executable, data_plane: bool = False
) -> Emulator:
    """Start the emulator on a free port and wait until it answers HTTP (``data_plane``: real
    database servers, fronts and DNS behind it, ``--data-plane``).
    """
    if not LAUNCHER.is_file():
        raise EmulatorError(f"no emulator launcher at {LAUNCHER} (RDSENC_EMULATOR or acceptance-tests/emulator)")
    port = free_port()
    argv = [python, str(LAUNCHER), "--host", "127.0.0.1", "--port", str(port)]
    if time_scale is not None:
        argv += ["--time-scale", repr(time_scale)]
    if data_plane:
        argv.append("--data-plane")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as log_file:
        # Own process group: stopping it never signals pytest, and the emulator's children go too.
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    emulator = Emulator(f"http://127.0.0.1:{port}", process, log, time_scale)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorError(f"{' '.join(argv)} exited {process.returncode}\n{emulator.log_tail()}")
        if answers(emulator.url):
            return emulator
        time.sleep(0.1)
    emulator.stop()
    raise EmulatorError(f"{' '.join(argv)} did not answer within {START_TIMEOUT_S:.0f}s\n{emulator.log_tail()}")


def answers(url: str) -> bool:
    """True once anything answers HTTP at `url` (any status counts: the server is up)."""
    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, urllib.error.URLError):
        return False


def post(url: str, body: dict[str, Any]) -> Any:
    """POST JSON, return the decoded JSON answer (or None for an empty body)."""
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        data = resp.read()
    return json.loads(data) if data.strip() else None
