"""Reaper: kill the data plane's servers and remove its root once the emulator is gone.

Started by ``DATAPLANE.enable()`` as ``python reaper.py ROOT`` with a pipe on stdin whose
only writer is the emulator. Reading EOF means the emulator exited, however it exited
(SIGKILL included: the kernel closes the pipe). Then every server recorded in a
``ROOT/*/server.pid`` file (pid plus the data directory its command line must mention,
so a recycled pid is never hit) is killed with its process group members, and ROOT is
removed. Standalone on purpose: it imports nothing from the emulator.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (PostgreSQL backends of a postmaster)."""
    out: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            out.append(int(entry.name))
    return out


def reap(root: Path) -> None:
    """Kill the servers recorded under ``root`` (and their children) and remove it."""
    victims: list[int] = []
    for pidfile in root.glob("*/server.pid"):
        try:
            pid_text, marker = pidfile.read_text().split("\n", 1)
            pid = int(pid_text)
        except (OSError, ValueError):
            continue
        if marker.strip() and marker.strip() in _cmdline(pid):
            victims.append(pid)
            victims.extend(_children(pid))
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in victims):
        time.sleep(0.05)
    shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    """Wait for EOF on stdin, then reap."""
    root = Path(sys.argv[1])
    # The emulator's process group may get SIGINT/SIGTERM/SIGHUP; the reaper must outlive it.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while sys.stdin.buffer.read(4096):
        pass
    reap(root)


if __name__ == "__main__":
    main()
