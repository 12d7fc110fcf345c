"""The environment Terraform (and so the provider) runs in: mirror, emulator, fake credentials only."""

from __future__ import annotations

import os
from pathlib import Path

from rig.emulator import ACCESS_KEY, REGION, SECRET_KEY

# Passed through from the caller's environment; everything AWS_* or TF_* is dropped so that a
# developer's real profile, credentials or endpoints can never reach the provider under test.
_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "VIRTUAL_ENV", "PYTHONPATH", "TERM", "RDSENC_POLL_SCALE")
# Opt-in debugging: RDSENC_TF_LOG=debug sets TF_LOG and writes <workdir>/terraform.log.
_LOG_LEVEL_VAR = "RDSENC_TF_LOG"


def terraform_env(cli_config: Path, emulator_url: str | None, workdir: Path, aws_home: Path) -> dict[str, str]:
    """Build the environment for one Terraform working directory.

    `aws_home` holds empty AWS config/credentials files, so the SDK's default chain never reads
    `~/.aws`; `emulator_url=None` leaves AWS_ENDPOINT_URL unset (for tests using `endpoints {}`).
    """
    env = {k: os.environ[k] for k in _KEEP if k in os.environ}
    aws_home.mkdir(parents=True, exist_ok=True)
    (aws_home / "config").touch()
    (aws_home / "credentials").touch()
    env.update(
        TF_CLI_CONFIG_FILE=str(cli_config),
        CHECKPOINT_DISABLE="1",
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(aws_home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(aws_home / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    if emulator_url:
        env["AWS_ENDPOINT_URL"] = emulator_url
    level = os.environ.get(_LOG_LEVEL_VAR)
    if level:
        env["TF_LOG"] = level
        env["TF_LOG_PATH"] = str(workdir / "terraform.log")
    return env
