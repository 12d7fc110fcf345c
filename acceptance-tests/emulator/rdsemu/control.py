"""The WSGI front of the emulator: the ``/_emulator/`` control API, the CloudWatch
CBOR routes, fault injection and the AWS call log, in front of moto's dispatcher.

Routes (JSON in, JSON out; documented in README.md):
``POST /_emulator/reset``, ``POST /_emulator/lag``, ``POST /_emulator/table-statistics``,
``GET|POST /_emulator/durations``, ``GET|POST /_emulator/time-scale``, ``GET /_emulator/clock``,
``GET|POST|DELETE /_emulator/faults``, ``GET|DELETE /_emulator/calls``,
``GET /_emulator/inventory``, ``POST /_emulator/force-status``, ``GET /_emulator/health``,
``GET /_emulator/dataplane``, ``GET /_emulator/dns``, ``GET /_emulator/network`` (``--data-plane``).
"""

from __future__ import annotations

import io
import json
import random
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from moto.dms.models import dms_backends
from moto.moto_api._internal import moto_api_backend
from moto.rds.models import rds_backends

from . import blue_green, cloudwatch_patch, dms_patch
from .dataplane import DATAPLANE
from .dataplane.dms import wiring as dms_dataplane
from .state import STATE, FaultRule

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

#: Signing names to the service names used in the call log and fault rules.
SERVICE_ALIASES = {"monitoring": "cloudwatch", "database-migration-service": "dms"}
ROUTE53_OPERATIONS = [
    ("POST", r"/2013-04-01/hostedzone/[^/]+/rrset/?$", "ChangeResourceRecordSets"),
    ("GET", r"/2013-04-01/hostedzone/[^/]+/rrset/?$", "ListResourceRecordSets"),
    ("GET", r"/2013-04-01/hostedzonesbyname/?$", "ListHostedZonesByName"),
    ("GET", r"/2013-04-01/hostedzone/[^/]+/?$", "GetHostedZone"),
    ("DELETE", r"/2013-04-01/hostedzone/[^/]+/?$", "DeleteHostedZone"),
    ("GET", r"/2013-04-01/hostedzone/?$", "ListHostedZones"),
    ("POST", r"/2013-04-01/hostedzone/?$", "CreateHostedZone"),
    ("GET", r"/2013-04-01/change/[^/]+/?$", "GetChange"),
]


class BadRequest(Exception):
    """A control-API request the emulator refuses (400 with a JSON message)."""


def _service_and_region(environ: dict[str, Any]) -> tuple[str, str]:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/", auth)
    if not match:
        return "unknown", "us-east-1"
    region, service = match.group(1), match.group(2).lower()
    return SERVICE_ALIASES.get(service, service), region


def _operation(environ: dict[str, Any], service: str, body: bytes) -> str:
    path = environ.get("PATH_INFO", "")
    if path.startswith(cloudwatch_patch.PATH_PREFIX):
        return path[len(cloudwatch_patch.PATH_PREFIX) :]
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target.rsplit(".", 1)[-1])
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not action and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    if action:
        return str(action[0])
    method = environ.get("REQUEST_METHOD", "GET")
    if service == "route53":
        for verb, pattern, name in ROUTE53_OPERATIONS:
            if verb == method and re.search(pattern, path):
                return name
    return f"{method} {path}"


def _protocol(environ: dict[str, Any]) -> str:
    """``cbor``, ``json`` or ``xml``: how the request was sent, hence how to answer."""
    if environ.get("PATH_INFO", "").startswith(cloudwatch_patch.PATH_PREFIX):
        return "cbor"
    if environ.get("CONTENT_TYPE", "").startswith("application/x-amz-json"):
        return "json"
    return "xml"


def _error_response(protocol: str, code: str, status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """An AWS error in the protocol the request used."""
    request_id = str(uuid.uuid4())
    if protocol == "cbor":
        import cbor2

        body = cbor2.dumps({"__type": f"com.amazonaws.cloudwatch#{code}", "message": message})
        return (
            status,
            [
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
                ("x-amzn-query-error", f"{code};{'Sender' if status < 500 else 'Receiver'}"),
            ],
            body,
        )
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        return (
            status,
            [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("x-amzn-ErrorType", code),
                ("x-amzn-RequestId", request_id),
            ],
            body,
        )
    kind = "Sender" if status < 500 else "Receiver"
    xml = (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], xml.encode()


def _throttle_code(service: str) -> str:
    """The throttling code each service really returns."""
    return "Throttling" if service in ("rds", "cloudwatch", "route53", "ec2", "sts", "iam") else "ThrottlingException"


class EmulatorApp:
    """WSGI application: control API + CloudWatch CBOR + faults + call log around moto."""

    def __init__(self, moto_app: WsgiApp) -> None:
        self.moto_app = moto_app
        self.moto_lock = threading.RLock()
        self.rng = random.Random()

    # --- WSGI entry ------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Route one request: control API, injected fault, CloudWatch CBOR, or moto."""
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emulator/") or path == "/_emulator":
            return self._control(environ, start_response)
        body = self._read_body(environ)
        service, region = _service_and_region(environ)
        if path.startswith(cloudwatch_patch.PATH_PREFIX):
            service = "cloudwatch"
        operation = _operation(environ, service, body)
        fault = self._fault_for(service, operation)
        if fault is not None:
            status, headers, payload = _error_response(_protocol(environ), *fault)
            self._log(service, operation, region, status, injected=True)
            start_response(f"{status} Error", [*headers, ("Content-Length", str(len(payload)))])
            return [payload]
        if path.startswith(cloudwatch_patch.PATH_PREFIX):
            with self.moto_lock, STATE.one_instant():
                t0 = time.perf_counter()
                status, headers, payload = cloudwatch_patch.handle(operation, body, region)
                busy = time.perf_counter() - t0
            self._log(service, operation, region, status, busy=busy)
            start_response(
                f"{status} {'OK' if status == 200 else 'Error'}", [*headers, ("Content-Length", str(len(payload)))]
            )
            return [payload]
        captured: dict[str, int] = {}

        def recording_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        with self.moto_lock, STATE.one_instant():
            t0 = time.perf_counter()
            blue_green.settle_all()  # a switchover whose time has come renames before anyone looks
            chunks = list(self.moto_app(environ, recording_start_response))
            busy = time.perf_counter() - t0
        self._log(service, operation, region, captured.get("status", 0), busy=busy)
        return chunks

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > 0:
            body = environ["wsgi.input"].read(length)
        elif environ.get("wsgi.input_terminated"):  # chunked request: werkzeug ends the stream
            body = environ["wsgi.input"].read()
        else:
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        return bytes(body)

    def _log(
        self, service: str, operation: str, region: str, status: int, injected: bool = False, busy: float = 0.0
    ) -> None:
        """One entry of the call log; `busy` is the time the call held the emulator's one lock
        (calls are served one at a time, so the sum over a run is the emulator's busy time).
        """
        entry: dict[str, Any] = {
            "t": time.time(),
            "service": service,
            "operation": operation,
            "region": region,
            "status": status,
            "busy": round(busy, 6),
        }
        if injected:
            entry["injected_fault"] = True
        STATE.record_call(entry)

    def _fault_for(self, service: str, operation: str) -> tuple[str, int, str] | None:
        """Pick the fault for this call, sleeping first if a slow-response rule fires."""
        delay = 0.0
        outcome: tuple[str, int, str] | None = None
        with STATE.lock:
            for rule in STATE.faults:
                if not rule.matches(service, operation):
                    continue
                fired = False
                if outcome is None and rule.throttle_rate > 0 and self.rng.random() < rule.throttle_rate:
                    outcome = (_throttle_code(service), 400, "Rate exceeded")
                    fired = True
                elif outcome is None and rule.error_rate > 0 and self.rng.random() < rule.error_rate:
                    outcome = ("ServiceUnavailable", 503, "Service unavailable (injected by emulator)")
                    fired = True
                if rule.delay_seconds > 0 and self.rng.random() < (rule.delay_rate or 1.0):
                    delay = max(delay, rule.delay_seconds)
                    fired = True
                if fired:
                    rule.hits += 1
        if delay:
            time.sleep(delay)
        return outcome

    # --- control API -----------------------------------------------------------------
    def _control(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        route = environ.get("PATH_INFO", "")[len("/_emulator/") :].strip("/")
        raw = self._read_body(environ)
        try:
            data = json.loads(raw) if raw.strip() else {}
            if not isinstance(data, dict):
                raise BadRequest("request body must be a JSON object")
            handler = getattr(self, f"_{method.lower()}_{route.replace('-', '_')}", None)
            if handler is None:
                status, result = 404, {"error": f"no route {method} /_emulator/{route}"}
            else:
                with self.moto_lock:
                    blue_green.settle_all()
                    status, result = 200, handler(data)
        except (BadRequest, ValueError, KeyError, TypeError) as exc:
            status, result = 400, {"error": str(exc)}
        payload = json.dumps(result).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def _get_health(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "time_scale": STATE.time_scale}

    def _post_reset(self, _: dict[str, Any]) -> dict[str, Any]:
        dms_dataplane.reset()
        moto_api_backend.reset()
        STATE.reset()
        DATAPLANE.reset()
        # Only loaded with the data plane (dns needs dnspython): nothing to reset otherwise.
        net = sys.modules.get("rdsemu.dataplane.net")
        dns = sys.modules.get("rdsemu.dataplane.dns")
        if net is not None and net.NETWORK is not None:
            net.NETWORK.reset()
        if dns is not None and dns.DNS is not None:
            dns.DNS.route53.clear()
        return {"reset": True}

    def _get_dataplane(self, _: dict[str, Any]) -> dict[str, Any]:
        return DATAPLANE.describe()

    def _get_network(self, _: dict[str, Any]) -> dict[str, Any]:
        """The data plane's fronts and relays (``--data-plane`` only)."""
        from .dataplane import net

        if net.NETWORK is None:
            raise BadRequest("no network: the emulator was started without --data-plane")
        return net.NETWORK.describe()

    def _get_dns(self, _: dict[str, Any]) -> dict[str, Any]:
        """Where the data plane's DNS server listens (``--data-plane`` only)."""
        from .dataplane import dns

        if dns.DNS is None:
            raise BadRequest("no DNS server: the emulator was started without --data-plane")
        return dns.address()

    def _post_lag(self, data: dict[str, Any]) -> dict[str, Any]:
        task = self._task(data)
        source = float(data.get("source_seconds", 0))
        target = float(data.get("target_seconds", 0))
        if source < 0 or target < 0:
            raise BadRequest("source_seconds and target_seconds must be >= 0")
        STATE.set_lag(task.id, source, target)
        return {"task": task.id, "task_arn": task.arn, "source_seconds": source, "target_seconds": target}

    def _post_dms_apply_delay(self, data: dict[str, Any]) -> dict[str, Any]:
        """Data plane: slow a task's apply by ``seconds`` (AWS seconds, time-scaled) before
        each source transaction, so its CDC latency rises.
        """
        task = self._task(data)
        seconds = float(data.get("seconds", 0))
        if seconds < 0:
            raise BadRequest("seconds must be >= 0")
        dms_dataplane.set_apply_delay(task, seconds)
        return {"task": task.id, "task_arn": task.arn, "seconds": seconds}

    def _post_table_statistics(self, data: dict[str, Any]) -> dict[str, Any]:
        task = self._task(data)
        tables = data.get("tables")
        if not isinstance(tables, list):
            raise BadRequest("tables must be a list")
        clean = []
        for i, spec in enumerate(tables):
            if not isinstance(spec, dict) or not spec.get("schema") or not spec.get("table"):
                raise BadRequest(f"tables[{i}] needs schema and table")
            spec = dict(spec)
            if "rows" not in spec and "inserts" in spec and "full_load_rows" not in spec:
                spec.setdefault("rows", 0)
            if "full_load_rows" in spec:
                spec["rows"] = spec.pop("full_load_rows")
            clean.append(spec)
        with STATE.lock:
            STATE.tables[task.id] = clean
        return {"task": task.id, "tables": len(clean)}

    def _get_durations(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"time_scale": STATE.time_scale, "durations": STATE.snapshot_durations()}

    def _post_durations(self, data: dict[str, Any]) -> dict[str, Any]:
        overrides = data.get("durations", data)
        if not isinstance(overrides, dict):
            raise BadRequest("durations must be an object")
        STATE.set_durations(overrides)
        return self._get_durations({})

    def _get_time_scale(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"time_scale": STATE.time_scale}

    def _post_time_scale(self, data: dict[str, Any]) -> dict[str, Any]:
        STATE.set_time_scale(float(data["time_scale"]))
        return {"time_scale": STATE.time_scale}

    def _get_clock(self, _: dict[str, Any]) -> dict[str, Any]:
        """The virtual AWS clock beside the wall clock, read at one instant, so a client can
        turn its own timestamps into emulated seconds (only differences of ``aws_now`` mean anything).
        """
        with STATE.lock:
            return {"aws_now": STATE.aws_now(), "wall": time.time(), "time_scale": STATE.time_scale}

    def _get_faults(self, _: dict[str, Any]) -> dict[str, Any]:
        with STATE.lock:
            return {"rules": [r.to_json() for r in STATE.faults]}

    def _post_faults(self, data: dict[str, Any]) -> dict[str, Any]:
        rules = data.get("rules")
        if not isinstance(rules, list):
            raise BadRequest("rules must be a list")
        parsed = []
        allowed = {"service", "operation", "throttle_rate", "error_rate", "delay_seconds", "delay_rate", "times"}
        for i, raw in enumerate(rules):
            if not isinstance(raw, dict) or set(raw) - allowed:
                raise BadRequest(f"rules[{i}]: allowed keys are {sorted(allowed)}")
            rule = FaultRule(**raw)
            for name in ("throttle_rate", "error_rate", "delay_rate"):
                if not 0.0 <= float(getattr(rule, name)) <= 1.0:
                    raise BadRequest(f"rules[{i}].{name} must be within 0..1")
            if rule.delay_seconds < 0 or rule.delay_seconds > 60:
                raise BadRequest(f"rules[{i}].delay_seconds must be within 0..60")
            parsed.append(rule)
        with STATE.lock:
            if not data.get("append"):
                STATE.faults.clear()
            STATE.faults.extend(parsed)
        return self._get_faults({})

    def _delete_faults(self, _: dict[str, Any]) -> dict[str, Any]:
        with STATE.lock:
            STATE.faults.clear()
        return {"rules": []}

    def _get_calls(self, _: dict[str, Any]) -> list[dict[str, Any]]:  # type: ignore[override]
        with STATE.lock:
            return list(STATE.calls)

    def _delete_calls(self, _: dict[str, Any]) -> dict[str, Any]:
        with STATE.lock:
            STATE.calls.clear()
        return {"cleared": True}

    def _get_inventory(self, _: dict[str, Any]) -> dict[str, Any]:
        inv: dict[str, list[str]] = {
            "db_instances": [],
            "db_snapshots": [],
            "replication_instances": [],
            "endpoints": [],
            "replication_tasks": [],
            "blue_green_deployments": [],
        }
        statuses: dict[str, dict[str, str]] = {k: {} for k in inv}
        for _account, regions in list(rds_backends.items()):
            for _region, backend in list(regions.items()):
                for ident, db in list(backend.databases.items()):
                    status = db.status
                    if status != "deleted":
                        inv["db_instances"].append(ident)
                        statuses["db_instances"][ident] = status
                for ident, snap in list(backend.database_snapshots.items()):
                    if snap.snapshot_type == "manual":
                        inv["db_snapshots"].append(ident)
                        statuses["db_snapshots"][ident] = snap.status
                for ident, bgd in list(backend.blue_green_deployments.items()):
                    inv["blue_green_deployments"].append(ident)
                    statuses["blue_green_deployments"][ident] = str(bgd.status)
        for _account, dms_regions in list(dms_backends.items()):
            for _region, dms in list(dms_regions.items()):
                for ri in list(dms.replication_instances.values()):
                    if ri.status == "deleted":
                        continue
                    inv["replication_instances"].append(ri.id)
                    statuses["replication_instances"][ri.id] = str(ri.status)
                for ident, ep in list(dms.endpoints.items()):
                    inv["endpoints"].append(ident)
                    statuses["endpoints"][ident] = ep.status
                for task in list(dms.replication_tasks.values()):
                    inv["replication_tasks"].append(task.id)
                    statuses["replication_tasks"][task.id] = task.status
        return {kind: {"count": len(ids), "ids": sorted(ids), "status": statuses[kind]} for kind, ids in inv.items()}

    def _post_force_status(self, data: dict[str, Any]) -> dict[str, Any]:
        """Pin a resource to a status (e.g. a task ``failed``, a snapshot ``failed``)."""
        kind, ident, status = data.get("kind"), data.get("id"), data.get("status")
        if not isinstance(ident, str) or not isinstance(status, str) or not status:
            raise BadRequest("id and status are required strings")
        if kind == "connection":
            endpoint = self._find("endpoint", ident)
            with STATE.lock:
                if status == "failed":
                    STATE.connection_failures[endpoint.endpoint_arn] = str(
                        data.get("message", "Test connection failed (injected by emulator)")
                    )
                elif status == "successful":
                    STATE.connection_failures.pop(endpoint.endpoint_arn, None)
                else:
                    raise BadRequest("a connection can be forced to failed or successful")
            return {"kind": kind, "id": ident, "status": status}
        if kind == "blue_green_deployment":
            bgd = blue_green.find_deployment(ident)
            if bgd is None:
                raise BadRequest(f"no blue_green_deployment {ident}")
            if status == "auto":
                bgd.forced_status = None
                bgd.forced_details = None
            elif status in blue_green.DEPLOYMENT_STATUSES:
                bgd.forced_status = status
                bgd.forced_details = str(data["message"]) if data.get("message") else None
            else:
                raise BadRequest(
                    f"a blue_green_deployment status is one of {', '.join(blue_green.DEPLOYMENT_STATUSES)} or auto"
                )
            return {"kind": kind, "id": bgd.blue_green_deployment_identifier, "status": bgd.status}
        if kind == "replication_task":
            task = self._task({"task": ident})
            if status == "failed":
                dms_patch.fail_task(task, str(data.get("message", "Error encountered (injected by emulator)")))
            else:
                task.status = status
            return {"kind": kind, "id": task.id, "status": task.status}
        target = self._find(kind, ident)
        target.status = status
        return {"kind": kind, "id": ident, "status": target.status}

    @staticmethod
    def _find(kind: Any, ident: str) -> Any:
        """A db_instance or db_snapshot by identifier; a replication_instance or endpoint by identifier or ARN."""
        if kind in ("db_instance", "db_snapshot"):
            for _account, regions in list(rds_backends.items()):
                for _region, backend in list(regions.items()):
                    found = (backend.databases if kind == "db_instance" else backend.database_snapshots).get(ident)
                    if found is not None:
                        return found
        elif kind in ("replication_instance", "endpoint"):
            for _account, dms_regions in list(dms_backends.items()):
                for _region, dms in list(dms_regions.items()):
                    names: list[tuple[tuple[str, str], Any]] = (
                        [((ri.id, ri.arn), ri) for ri in dms.replication_instances.values()]
                        if kind == "replication_instance"
                        else [((ep.endpoint_identifier, ep.endpoint_arn), ep) for ep in dms.endpoints.values()]
                    )
                    for keys, item in names:
                        if ident in keys:
                            return item
        else:
            raise BadRequest(
                "kind must be one of db_instance, db_snapshot, replication_instance, endpoint, connection, "
                "replication_task, blue_green_deployment"
            )
        raise BadRequest(f"no {kind} {ident}")

    @staticmethod
    def _task(data: dict[str, Any]) -> Any:
        ref = data.get("task")
        if not ref or not isinstance(ref, str):
            raise BadRequest("task (identifier or ARN) is required")
        task = dms_patch.find_task_by_ref(ref)
        if task is None:
            raise BadRequest(f"no replication task {ref}")
        return task
