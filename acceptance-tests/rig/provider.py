"""Build the provider once and install it into a filesystem mirror that `terraform init` uses offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "rdsenc"
TYPE = "rdsenc"
VERSION = "0.1.0"
SOURCE = f"registry.terraform.io/{NAMESPACE}/{TYPE}"
BINARY = "terraform-provider-rdsenc"
PLATFORM = "linux_amd64"


class ProviderBuildError(RuntimeError):
    """`cargo build` failed or did not produce the provider binary."""


@dataclass(frozen=True)
class ProviderInstall:
    """The provider binary, the mirror holding it, and the CLI config pointing Terraform at it."""

    binary: Path
    mirror: Path
    cli_config: Path


def build() -> Path:
    """Return the provider binary: `RDSENC_PROVIDER_BIN` if set, else `cargo build -p ...` (debug)."""
    preset = os.environ.get("RDSENC_PROVIDER_BIN")
    if preset:
        path = Path(preset).resolve()
        if not path.is_file() or not os.access(path, os.X_OK):
            raise ProviderBuildError(f"RDSENC_PROVIDER_BIN={preset} is not an executable file")
        return path
    proc = subprocess.run(
        # `--all-targets`, as `make build` does: the same dependency features as `cargo test`, so
        # the AWS SDK is not compiled a second time with a different feature set.
        ["cargo", "build", "-p", BINARY, "--all-targets", "--message-format=json-render-diagnostics"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise ProviderBuildError(f"cargo build failed (exit {proc.returncode}):\n{proc.stderr[-6000:]}")
    # Cargo names the executable it produced; this honours CARGO_TARGET_DIR and profiles.
    for line in proc.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        target = msg.get("target", {})
        is_binary = target.get("name") == BINARY and "bin" in target.get("kind", [])
        # --all-targets also reports the binary's unit-test harness: skip it (profile.test).
        if msg.get("reason") == "compiler-artifact" and is_binary and not msg.get("profile", {}).get("test"):
            exe = msg.get("executable")
            if exe:
                return Path(exe)
    raise ProviderBuildError("cargo build succeeded but reported no terraform-provider-rdsenc executable")


def install(binary: Path, root: Path) -> ProviderInstall:
    """Copy `binary` into `<root>/mirror/...` and write `<root>/terraformrc` (filesystem mirror only).

    A copy, not a symlink: Terraform hashes the file into `.terraform.lock.hcl`, and a later rebuild
    must not change what an already-initialised directory sees mid-test.
    """
    mirror = root / "mirror"
    target_dir = mirror / SOURCE / VERSION / PLATFORM
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{BINARY}_v{VERSION}"
    shutil.copy2(binary, target)
    target.chmod(0o755)
    cli_config = root / "terraformrc"
    cli_config.write_text(cli_config_text(mirror))
    return ProviderInstall(binary=target, mirror=mirror, cli_config=cli_config)


def cli_config_text(mirror: Path) -> str:
    """A CLI config that installs rdsenc from `mirror` and never asks a registry for it."""
    return f"""# Written by the rdsenc acceptance-test rig.
disable_checkpoint = true
provider_installation {{
  filesystem_mirror {{
    path    = {json.dumps(str(mirror))}
    include = ["{SOURCE}"]
  }}
  direct {{
    exclude = ["registry.terraform.io/{NAMESPACE}/*"]
  }}
}}
"""


def required_providers_block() -> str:
    """The `terraform { required_providers { ... } }` block every test config starts with."""
    return f"""terraform {{
  required_providers {{
    rdsenc = {{
      source  = "{NAMESPACE}/{TYPE}"
      version = "{VERSION}"
    }}
  }}
}}
"""
