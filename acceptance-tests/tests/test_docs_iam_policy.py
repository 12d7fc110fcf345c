"""The IAM policy in docs/guides/iam-policy.md, checked against what the provider really calls: every
AWS call the emulator logs while Terraform drives a migration through create, cutover (Route 53),
failback, cutover, finalize and destroy must be granted by the policy.

The Rust test `provider/tests/docs_iam_policy.rs` derives the same list from the source code and
also catches actions the policy grants but no code calls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from rig import Terraform
from rig.aws import Aws
from rig.case import with_required_providers
from rig.configs import blue_green_config, cutover_config
from rig.emulator import Emulator
from rig.seeds import seed_blue_green, seed_cutover, validated

POLICY = Path(__file__).resolve().parents[2] / "docs" / "guides" / "iam-policy.md"


def granted() -> set[str]:
    """The policy's actions, lower-cased (IAM compares action names case-insensitively)."""
    text = POLICY.read_text()
    block = re.search(r"```json\n(.*?)```", text, re.S)
    assert block, "iam-policy.md has no ```json block"
    policy = json.loads(block.group(1))
    actions: set[str] = set()
    for st in policy["Statement"]:
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        actions |= {a.lower() for a in acts}
    return actions


def recorder(tf: Terraform, emulator: Emulator, called: set[tuple[str, str]]) -> Callable[..., None]:
    """`terraform(config, *command)`: runs Terraform and adds the AWS calls it made to `called`."""

    def terraform(config: str | None, *command: str) -> None:
        # Only the calls made while Terraform runs: the test's own boto3 calls stay out.
        if config is not None:
            tf.write(with_required_providers(config))
        emulator.client.clear_calls()
        tf.run(*command, "-input=false", "-no-color", *(["-auto-approve"] if command[0] != "init" else []))
        called.update((c["service"], c["operation"]) for c in emulator.client.calls())

    return terraform


def assert_granted(called: set[tuple[str, str]], *must: str) -> None:
    """The run made each call of `must` (lower-case `service:operation`), and the policy grants every call made."""
    actions = {f"{service}:{operation}".lower() for service, operation in called}
    for action in must:
        assert action in actions, f"the run should have called {action}: {sorted(actions)}"
    missing = sorted(actions - granted())
    assert not missing, f"the provider called AWS operations docs/guides/iam-policy.md does not grant: {missing}"


def test_every_aws_call_of_a_full_migration_is_granted_by_the_documented_iam_policy(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    key, zone_id = seed_cutover(aws)
    k = key["Arn"]
    called: set[tuple[str, str]] = set()
    terraform = recorder(tf, emulator, called)

    terraform(cutover_config("route53", k, zone_id, cutover=False), "init")
    terraform(None, "apply")
    validated(emulator, aws)()
    terraform(cutover_config("route53", k, zone_id, cutover=True), "apply")
    validated(emulator, aws)()
    terraform(cutover_config("route53", k, zone_id, cutover=False), "apply")
    validated(emulator, aws)()
    terraform(cutover_config("route53", k, zone_id, cutover=True), "apply")
    terraform(cutover_config("route53", k, zone_id, cutover=True, finalize=True), "apply")
    terraform(None, "destroy")

    assert_granted(called, "rds:copydbsnapshot", "dms:createreplicationtask", "route53:changeresourcerecordsets")


def test_every_aws_call_of_a_blue_green_migration_is_granted_by_the_documented_iam_policy(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    key, replica_key = seed_blue_green(aws)
    called: set[tuple[str, str]] = set()
    terraform = recorder(tf, emulator, called)

    terraform(blue_green_config(key, replica_key, cutover=False), "init")
    terraform(None, "apply")
    terraform(blue_green_config(key, replica_key, cutover=True), "apply")
    terraform(blue_green_config(key, replica_key, cutover=True, finalize=True), "apply")
    terraform(None, "destroy")

    assert_granted(
        called, "rds:createbluegreendeployment", "rds:switchoverbluegreendeployment", "rds:deletebluegreendeployment"
    )
