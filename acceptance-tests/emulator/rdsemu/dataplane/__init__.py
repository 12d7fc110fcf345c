"""The data plane: real database servers behind the emulated RDS instances (opt-in).

``DATAPLANE`` is the process-wide singleton. Nothing starts unless the launcher was given
``--data-plane`` (``DATAPLANE.enable()``); without it every hook is a no-op and the
emulator behaves exactly as in API-only mode.

Clean-up: every server, template and snapshot lives under one root directory
(``DATAPLANE.root``). A reaper process (``reaper.py``) holds a pipe from the emulator and,
once the emulator is gone for any reason (SIGKILL included), kills the servers recorded
under the root and removes it. A normal exit stops the servers gracefully first.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .servers import DbServer, Registry, SnapshotStore

LOG = logging.getLogger("rdsemu.dataplane")
ROOT_PREFIX = "rdsemu-dp-"


class DataPlane:
    """Switch, root directory, server registry and listeners of the data plane."""

    def __init__(self) -> None:
        self.enabled = False
        self.root: Path | None = None
        self._listeners: list[Any] = []
        self._reaper: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._servers: Registry | None = None
        self._snapshots: SnapshotStore | None = None

    @property
    def servers(self) -> Registry:
        """The registry of servers (``by_resource_id``, ``by_identifier``, ``by_hostname``, ``all``)."""
        if self._servers is None:
            from .servers import Registry

            self._servers = Registry()
        return self._servers

    @property
    def snapshots(self) -> SnapshotStore:
        """Snapshot data by snapshot identifier (copies share the data)."""
        if self._snapshots is None:
            from .servers import SnapshotStore

            self._snapshots = SnapshotStore()
        return self._snapshots

    def enable(self, base: str | None = None) -> None:
        """Create the root directory, start the reaper and register the exit clean-up."""
        with self._lock:
            if self.enabled:
                return
            base_dir = Path(base or tempfile.gettempdir())
            _remove_stale_roots(base_dir)
            root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX, dir=base_dir))
            # Servers run as the unprivileged ``mysql`` / ``postgres`` users: they must traverse it.
            root.chmod(0o755)
            (root / "owner.pid").write_text(f"{os.getpid()}\n")
            self.root = root
            self._reaper = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("reaper.py")), str(root)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # Its own session: a SIGKILL of the emulator's whole process group (servers
                # included) leaves the reaper alive to remove the root.
                start_new_session=True,
            )
            self.enabled = True
            atexit.register(self.shutdown)

    def add_listener(self, listener: Any) -> None:
        """Register an object with any of ``server_up``, ``server_down``, ``server_renamed``."""
        self._listeners.append(listener)

    def notify(self, event: str, *args: Any) -> None:
        """Call ``event`` on every listener that has it; a failing listener is logged, not fatal."""
        for listener in list(self._listeners):
            method = getattr(listener, event, None)
            if method is None:
                continue
            try:
                method(*args)
            except Exception:
                LOG.exception("data-plane listener %r failed on %s", listener, event)

    def server_for(self, resource_id: str) -> DbServer | None:
        """The server of a DbiResourceId, if the data plane is on and has one."""
        if not self.enabled:
            return None
        return self.servers.by_resource_id(resource_id)

    def reset(self) -> None:
        """Destroy every server and snapshot (the control API's reset), in parallel."""
        if not self.enabled:
            return
        workers = [threading.Thread(target=_quietly_destroy, args=(s,)) for s in self.servers.all()]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        self.snapshots.clear()

    def describe(self) -> dict[str, Any]:
        """The control API's view: servers (with where and how to connect) and snapshot positions."""
        if not self.enabled:
            return {"enabled": False, "servers": [], "snapshots": {}}
        from .rds_hooks import busy

        servers = [
            {
                "identifier": s.identifier,
                "resource_id": s.resource_id,
                "engine": s.engine,
                "hostname": s.hostname,
                "address": s.address,
                "port": s.port,
                "internal_host": s.internal_host,
                "internal_port": s.internal_port,
                "master_user": s.master_user,
                "master_password": s.master_password,
                "db_name": s.db_name,
                "running": s.running,
                "ready": s.ready.is_set() and not busy(s),
                "error": s.error,
                "pid": s.pid,
                "data_dir": str(s.datadir),
                "is_replica": s.is_replica,
                "parameters": dict(s.parameters),
                "pending": dict(s.pending),
            }
            for s in self.servers.all()
        ]
        return {
            "enabled": True,
            "root": str(self.root),
            "reaper_pid": self._reaper.pid if self._reaper else None,
            "servers": servers,
            "snapshots": self.snapshots.positions(),
        }

    def shutdown(self) -> None:
        """Stop every server, remove the root, release the reaper (idempotent)."""
        with self._lock:
            if not self.enabled:
                return
            self.enabled = False
        for server in list(self.servers.all()):
            with contextlib.suppress(Exception):
                server.destroy()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
        if self._reaper is not None and self._reaper.stdin is not None:
            # EOF tells the reaper to sweep (nothing left by now) and exit.
            with contextlib.suppress(OSError):
                self._reaper.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._reaper.wait(timeout=15)


def _quietly_destroy(server: DbServer) -> None:
    try:
        server.destroy()
    except Exception:
        LOG.exception("destroying %s failed", server)


def _remove_stale_roots(base: Path) -> None:
    """Remove roots of emulators that died with their reaper (e.g. a SIGKILLed process group)."""
    for root in base.glob(ROOT_PREFIX + "*"):
        try:
            owner = int((root / "owner.pid").read_text().strip())
        except (OSError, ValueError):
            continue
        if not Path(f"/proc/{owner}").exists():
            from .reaper import reap

            reap(root)


DATAPLANE = DataPlane()
