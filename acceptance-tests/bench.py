#!/usr/bin/env python3
"""`make bench`: provider start-up cost as Terraform sees it.

For N runs: start the binary with the environment Terraform gives a plugin (magic cookie, protocol
versions, a P-521 client certificate like Terraform's), and time process start -> the handshake line on
stdout. Then the idle RSS of one provider process after its handshake, and the binary's size.
Prints only; nothing here feeds a test.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MAGIC_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
IDLE_S = 1.0


def client_cert_pem() -> str:
    """A self-signed P-521 CA certificate for `localhost`, as Terraform's plugin client makes one."""
    key = ec.generate_private_key(ec.SECP521R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp"), x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(seconds=30))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA512())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def start(binary: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], float, str]:
    """Start the provider; return it, the seconds until its handshake line, and the line."""
    started = time.perf_counter()
    proc = subprocess.Popen([str(binary)], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode(errors="replace").strip()
    elapsed = time.perf_counter() - started
    if not line.startswith("1|6|"):
        stop(proc)
        raise SystemExit(f"bench: {binary} printed no handshake line (got {line!r}, exit {proc.poll()})")
    return proc, elapsed, line


def stop(proc: subprocess.Popen[bytes]) -> None:
    # The provider ignores SIGINT by design (Terraform sends it to the whole group); use SIGTERM.
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit("bench: no VmRSS in /proc")


def main() -> int:
    if len(sys.argv) != 2:
        raise SystemExit("usage: bench.py PATH/TO/terraform-provider-rdsenc")
    binary = Path(sys.argv[1]).resolve()
    with tempfile.TemporaryDirectory(prefix="rdsenc-bench-") as tmp:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "TMPDIR": tmp,
            "TF_PLUGIN_MAGIC_COOKIE": MAGIC_COOKIE,
            "PLUGIN_PROTOCOL_VERSIONS": "5,6",
            "PLUGIN_CLIENT_CERT": client_cert_pem(),
        }
        times = []
        for _ in range(RUNS):
            proc, elapsed, _line = start(binary, env)
            times.append(elapsed * 1000)
            stop(proc)
        proc, _, line = start(binary, env)
        time.sleep(IDLE_S)
        rss = rss_kib(proc.pid)
        stop(proc)
    transport = line.split("|")[2]
    print(f"binary            {binary} ({binary.stat().st_size / 1048576:.1f} MiB)")
    print(f"start->handshake  {RUNS} runs, {transport}, TLS: min {min(times):.1f} ms, median {statistics.median(times):.1f} ms, max {max(times):.1f} ms")
    print(f"idle RSS          {rss / 1024:.1f} MiB ({IDLE_S:.0f} s after the handshake)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
