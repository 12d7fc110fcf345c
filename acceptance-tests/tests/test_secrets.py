"""The DMS password reaches AWS only in the DMS endpoint calls that need it: never the state, a
saved plan (`terraform show -json` or the plan file itself), the provider's TRACE log, any other
AWS request, or a diagnostic. AWS requests are seen through a recording proxy in front of the
emulator (the emulator's own call log keeps no bodies).
"""

from __future__ import annotations

import http.client
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from rig import Terraform
from rig.aws import Aws
from rig.case import with_required_providers
from rig.configs import M, dms_block, migration, timeouts_block
from rig.emulator import Emulator
from rig.seeds import seed_source

PASSWORD = "Secret-Test-Pa55w0rd-9c1e"
# The only AWS calls allowed to carry the password: DMS needs it to reach the databases.
CARRIERS = {"AmazonDMSv20160101.CreateEndpoint", "AmazonDMSv20160101.ModifyEndpoint"}


@dataclass
class Recorded:
    """One HTTP request the recording proxy forwarded."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def target(self) -> str:
        """The AWS operation (`x-amz-target`) or, for query APIs, the path."""
        return self.headers.get("x-amz-target", "") or self.path

    def contains(self, needle: bytes) -> bool:
        """True if `needle` appears in the path, headers or body."""
        raw = self.path.encode() + json.dumps(self.headers).encode() + self.body
        return needle in raw


class RecordingProxy:
    """Forwards every request to the emulator and keeps method, path, headers and body."""

    def __init__(self, upstream: str) -> None:
        self.records: list[Recorded] = []
        up = urlsplit(upstream)
        host, port = up.hostname or "127.0.0.1", up.port or 80
        records = self.records
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _forward(self) -> None:
                body = self._body()
                headers = {k.lower(): v for k, v in self.headers.items()}
                with lock:
                    records.append(Recorded(self.command, self.path, headers, body))
                fwd = {k: v for k, v in self.headers.items() if k.lower() not in ("transfer-encoding", "connection")}
                fwd["Content-Length"] = str(len(body))
                conn = http.client.HTTPConnection(host, port, timeout=60)
                try:
                    conn.request(self.command, self.path, body=body, headers=fwd)
                    resp = conn.getresponse()
                    data = resp.read()
                    self.send_response(resp.status)
                    for k, v in resp.getheaders():
                        if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(emulator: Emulator) -> Iterator[RecordingProxy]:
    p = RecordingProxy(emulator.url)
    yield p
    p.close()


# Ephemeral (Terraform >= 1.10): the value is never written to a saved plan or state. Terraform
# itself stores plain variables' values in plan files, whatever the provider does.
EPHEMERAL_PASSWORD = """
variable "dms_password" {
  type      = string
  sensitive = true
  ephemeral = true
}
"""


def ephemeral_config(source: str, key: str, dms_extra: str) -> str:
    """A DMS migration whose password comes from the ephemeral variable `dms_password`."""
    blocks = (dms_block("var.dms_password", dms_extra), timeouts_block())
    return migration(source, key, blocks=blocks, preamble=EPHEMERAL_PASSWORD)


def traced(tf: Terraform, proxy: RecordingProxy) -> Terraform:
    tf.env["AWS_ENDPOINT_URL"] = proxy.url
    tf.env["TF_LOG"] = "trace"
    tf.env["TF_LOG_PATH"] = str(tf.workdir / "trace.log")
    tf.env["TF_VAR_dms_password"] = PASSWORD
    return tf


def assert_absent(what: str, text: str | bytes) -> None:
    needle = PASSWORD.encode() if isinstance(text, bytes) else PASSWORD
    assert needle not in text, f"the password appears in {what}"


def test_the_password_appears_nowhere_but_the_dms_endpoint_calls(
    tf: Terraform, aws: Aws, proxy: RecordingProxy
) -> None:
    _source, key = seed_source(aws, "mysql", "orders")
    traced(tf, proxy)
    tf.write(with_required_providers(ephemeral_config(source="orders", key=key["Arn"], dms_extra="")))
    tf.init()
    outputs = []
    outputs.append(tf.plan("-out=plan.tfplan"))
    plan_json = tf.run("show", "-json", "plan.tfplan").stdout
    assert '"rdsenc_migration"' in plan_json
    assert_absent("terraform show -json of the saved plan", plan_json)
    with zipfile.ZipFile(tf.workdir / "plan.tfplan") as z:
        for name in z.namelist():
            assert_absent(f"the saved plan file's {name}", z.read(name))
    outputs.append(tf.apply("plan.tfplan"))
    assert tf.resources()[M]["phase"] == "replicating"
    outputs.append(tf.refresh())
    outputs.append(tf.destroy())

    assert_absent("the state", (tf.workdir / "terraform.tfstate").read_text())
    backup = tf.workdir / "terraform.tfstate.backup"
    if backup.exists():
        assert_absent("the state backup", backup.read_text())
    trace = (tf.workdir / "trace.log").read_text(errors="replace")
    assert "TRACE" in trace and "rdsenc" in trace and len(trace) > 100_000, "the trace log was not written"
    assert_absent("the TF_LOG=trace log (Terraform and provider)", trace)
    for r in outputs:
        assert_absent(f"terraform {r.args[0]} output", r.stdout + r.stderr)

    carriers = [r for r in proxy.records if r.target in CARRIERS]
    others = [r for r in proxy.records if r.target not in CARRIERS]
    assert len(proxy.records) > 50 and others, "the proxy saw the provider's AWS calls"
    leaks = [f"{r.method} {r.target}" for r in others if r.contains(PASSWORD.encode())]
    assert leaks == [], f"AWS requests other than the DMS endpoint calls carry the password: {leaks}"
    # Positive control: the grep finds the password where it must be, so its absence elsewhere means something.
    assert carriers and all(r.contains(PASSWORD.encode()) for r in carriers if r.target.endswith("CreateEndpoint"))


def test_a_refused_configuration_never_echoes_the_password(tf: Terraform, aws: Aws, proxy: RecordingProxy) -> None:
    _source, key = seed_source(aws, "mysql", "orders")
    traced(tf, proxy)
    bad = (
        'secrets_manager_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"\n'
        '    secrets_manager_access_role_arn = "arn:aws:iam::123456789012:role/r"'
    )
    tf.write(with_required_providers(ephemeral_config(source="orders", key=key["Arn"], dms_extra=bad)))
    tf.init()
    result = tf.plan(check=False)
    assert result.returncode == 1 and "Conflicting Credentials" in result.stderr, result.describe()
    assert_absent("the diagnostics", result.stdout + result.stderr)
    assert_absent("the TF_LOG=trace log", (tf.workdir / "trace.log").read_text(errors="replace"))
    assert not any(r.contains(PASSWORD.encode()) for r in proxy.records)
