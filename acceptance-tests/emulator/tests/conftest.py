"""Fixtures: one emulator process per test session on a free 127.0.0.1 port.

Each test starts from a reset emulator (moto state, durations, time scale, lag,
tables, faults and the call log). Time runs 1000x faster than AWS (scale 0.001).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
EMULATOR_DIR = HERE.parent
sys.path.insert(0, str(EMULATOR_DIR))

from client import EmulatorClient  # noqa: E402
from emu_support import TIME_SCALE  # noqa: E402
from net_support import aws_client  # noqa: E402


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch_emulator(*extra: str, new_session: bool = False) -> tuple[subprocess.Popen[str], str]:
    """Start ``rdsenc_emulator.py`` on a free port; return the process and its URL once healthy
    (``new_session``: in a process group of its own, which a test may kill whole).
    """
    port = _free_port()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    proc = subprocess.Popen(
        [
            sys.executable,
            str(EMULATOR_DIR / "rdsenc_emulator.py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--time-scale",
            str(TIME_SCALE),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=new_session,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on" in line, f"emulator did not start: {line!r}"
        client = EmulatorClient(url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.health()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    except BaseException:
        stop_emulator(proc)
        raise
    return proc, url


def stop_emulator(proc: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL after 30 s (a data-plane emulator stops its servers first)."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    """Start ``rdsenc_emulator.py`` and stop it at the end of the session."""
    proc, url = launch_emulator()
    try:
        yield url
    finally:
        stop_emulator(proc)


@pytest.fixture(scope="session")
def dataplane_url() -> Iterator[str]:
    """A second emulator, started with ``--data-plane``, for tests marked ``dataplane``."""
    missing = dataplane_prerequisites_missing()
    if missing:
        pytest.fail(f"the data-plane tests need: {missing} (run .ci/run or install them; see README)")
    proc, url = launch_emulator("--data-plane")
    try:
        yield url
    finally:
        stop_emulator(proc)


def dataplane_prerequisites_missing() -> str:
    """What the data plane needs and this machine lacks (empty: nothing)."""
    missing = []
    for tool in ("mariadbd", "mariadb-install-db", "mariadb-dump", "mariadb"):
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
            missing.append(f"{tool} (Debian mariadb-server)")
    if not Path("/usr/lib/postgresql/15/bin/postgres").exists():
        missing.append("PostgreSQL 15 (Debian postgresql-15)")
    if os.geteuid() != 0:
        missing.append("root (servers run as the mysql and postgres users)")
    return ", ".join(missing)


@pytest.fixture()
def dp_emu(dataplane_url: str) -> EmulatorClient:
    """A control-API client on a freshly reset data-plane emulator (its servers destroyed)."""
    client = EmulatorClient(dataplane_url, timeout=120)
    client.reset()
    return client


@pytest.fixture()
def dp_rds(dp_emu: EmulatorClient) -> Any:
    """boto3 RDS client against the data-plane emulator."""
    return aws_client("rds", dp_emu.url)


@pytest.fixture()
def emu(emulator_url: str) -> EmulatorClient:
    """A control-API client on a freshly reset emulator."""
    client = EmulatorClient(emulator_url)
    client.reset()
    return client


def _service_fixture(service: str, note: str = "") -> Any:
    """A fixture named ``service``: a boto3 client for it against the (reset) emulator."""

    def fixture(emu: EmulatorClient) -> Any:
        return aws_client(service, emu.url)

    fixture.__doc__ = f"boto3 {service} client against the emulator{note}."
    return pytest.fixture(name=service)(fixture)


rds = _service_fixture("rds")
dms = _service_fixture("dms")
cloudwatch = _service_fixture("cloudwatch", " (boto3 1.44 speaks awsJson1.0 here)")
kms = _service_fixture("kms")
