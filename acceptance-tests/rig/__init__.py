"""The rdsenc acceptance-test rig: real Terraform, the real provider binary, the AWS emulator.

A scenario is a list of `Step`s run by `run_case` against a `Terraform` working directory
(the `tf` fixture), with checks on state (`checks.py`) and on the emulator through boto3
(the `aws` fixture). See `acceptance-tests/README.md` for a worked example.
"""

from rig.case import Step, run_case
from rig.checks import (
    attr,
    attr_absent,
    attr_matches,
    attr_null,
    output,
    output_null,
)
from rig.terraform import Terraform, TerraformError, TerraformInstall

__all__ = [
    "Step",
    "Terraform",
    "TerraformError",
    "TerraformInstall",
    "attr",
    "attr_absent",
    "attr_matches",
    "attr_null",
    "output",
    "output_null",
    "run_case",
]
