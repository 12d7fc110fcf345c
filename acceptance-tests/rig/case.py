"""Multi-step scenarios, modelled on terraform-plugin-testing's TestCase/TestStep.

    run_case(tf, [
        Step(config=CONFIG_V1, checks=[attr("rdsenc_migration.m", "phase", "syncing")]),
        Step(config=CONFIG_V1, import_state=True, resource_name="rdsenc_migration.m",
             import_state_verify_ignore=["timeouts"]),
        Step(config=BAD_CONFIG, expect_error=r"Invalid KMS Key ARN"),
    ], check_destroy=lambda tf: ...)

A config step runs: init (once), plan, apply, checks, refresh, checks again, then a second
`plan -detailed-exitcode` that must report no changes. After the last step (or a failure) the case
always runs `destroy` and then `check_destroy`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rig.checks import Check
from rig.provider import required_providers_block
from rig.terraform import Result, Terraform, TerraformError


@dataclass
class Step:
    """One step of a scenario. Exactly one of `config` (with or without `import_state`) must be given."""

    config: str = ""
    checks: Sequence[Check] = ()
    # The step must fail (at plan or apply) with stderr matching this regex; nothing else is checked.
    expect_error: str | None = None
    # Only plan; `expect_non_empty_plan` then says whether changes are expected.
    plan_only: bool = False
    # After apply, the follow-up plan may show changes (default: it must be empty).
    expect_non_empty_plan: bool = False
    # Skip the refresh + re-check part (e.g. when a refresh legitimately changes values).
    skip_refresh: bool = False
    # Runs before the step (e.g. change the emulator behind Terraform's back).
    pre_config: Callable[[], None] | None = None
    # Import: import `resource_name` into a fresh working directory with the same config and
    # compare it with the state of the case (minus `import_state_verify_ignore` attribute paths).
    import_state: bool = False
    resource_name: str = ""
    import_state_id: str | Callable[[Terraform], str] | None = None  # default: the resource's `id`
    import_state_verify: bool = True
    import_state_verify_ignore: Sequence[str] = ()
    # Strings that must never appear in Terraform's output or the state file (e.g. DB passwords).
    secrets: Sequence[str] = field(default_factory=tuple)


def run_case(
    tf: Terraform,
    steps: Sequence[Step],
    check_destroy: Callable[[Terraform], None] | None = None,
    secrets: Sequence[str] = (),
    add_required_providers: bool = True,
) -> None:
    """Run `steps` in order in `tf`'s working directory, then destroy and run `check_destroy`.

    Configs get the rdsenc `required_providers` block unless they declare their own or
    `add_required_providers` is False (configs using only Terraform's built-in providers).
    """
    prepare: Callable[[str], str] = with_required_providers if add_required_providers else (lambda c: c)
    initialised = False
    # Destroy runs with the last configuration that planned cleanly: a step expecting an error
    # leaves a broken one in place.
    last_good: str | None = None
    failure: BaseException | None = None
    try:
        for number, step in enumerate(steps, start=1):
            try:
                if step.pre_config:
                    step.pre_config()
                if step.import_state:
                    _import_step(tf, step, number, prepare)
                else:
                    if not step.config:
                        raise ValueError(f"step {number}: a config step needs `config`")
                    tf.write(prepare(step.config))
                    if not initialised:
                        tf.init()
                        initialised = True
                    _config_step(tf, step)
                    if step.expect_error is None:
                        last_good = prepare(step.config)
                _assert_no_secrets(tf, [*secrets, *step.secrets])
            except AssertionError as exc:
                raise AssertionError(
                    f"step {number} of {len(steps)}: {exc}\ncommands so far:\n{tf.transcript()}"
                ) from exc
    except BaseException as exc:
        failure = exc
        raise
    finally:
        if initialised:
            if last_good is not None:
                tf.write(last_good)
            destroyed = tf.destroy(check=False)
            if destroyed.returncode != 0:
                if failure is None:
                    raise TerraformError("destroy at the end of the case failed", destroyed)
                # Already failing: do not mask the first error, but show what may be left behind.
                print(f"rdsenc rig: destroy after the failure also failed:\n{destroyed.describe()}")
            if check_destroy and failure is None:
                check_destroy(tf)


def with_required_providers(config: str) -> str:
    """Prefix the rdsenc `required_providers` block unless the config declares its own."""
    return config if "required_providers" in config else required_providers_block() + "\n" + config


def _config_step(tf: Terraform, step: Step) -> None:
    if step.expect_error is not None:
        _expect_error(tf, step.expect_error)
        return
    planned = tf.plan()
    if step.plan_only:
        _expect_plan(planned, step.expect_non_empty_plan, "plan-only step")
        return
    tf.apply()
    _run_checks(tf, step.checks, "after apply")
    if not step.skip_refresh:
        tf.refresh()
        _run_checks(tf, step.checks, "after refresh")
    _expect_plan(tf.plan(), step.expect_non_empty_plan, "plan after apply")


def _expect_error(tf: Terraform, pattern: str) -> None:
    """Plan, and if plan passes apply; one of them must fail with stderr matching `pattern`."""
    result = tf.plan(check=False)
    if result.returncode in (0, 2):
        result = tf.apply(check=False)
    if result.returncode == 0:
        raise TerraformError(f"expected an error matching /{pattern}/, but plan and apply succeeded", result)
    # Terraform wraps long diagnostics and draws box edges: match against a flattened text too.
    flat = " ".join(re.sub(r"[│╷╵]", " ", result.stderr).split())
    if not (re.search(pattern, result.stderr) or re.search(pattern, flat)):
        raise TerraformError(f"the error did not match /{pattern}/", result)


def _expect_plan(result: Result, non_empty: bool, what: str) -> None:
    if non_empty and result.returncode != 2:
        raise TerraformError(f"{what}: expected changes, plan was empty", result)
    if not non_empty and result.returncode != 0:
        raise TerraformError(f"{what}: expected no changes (a perpetual diff?)", result)


def _run_checks(tf: Terraform, checks: Sequence[Check], when: str) -> None:
    for check in checks:
        try:
            check(tf)
        except AssertionError as exc:
            raise AssertionError(f"check failed {when}: {exc}") from exc


def _import_step(tf: Terraform, step: Step, number: int, prepare: Callable[[str], str]) -> None:
    if not step.resource_name:
        raise ValueError(f"step {number}: an import step needs `resource_name`")
    applied = tf.resources()
    if step.resource_name not in applied:
        raise AssertionError(f"import step: {step.resource_name} is not in the case's state; has {sorted(applied)}")
    if callable(step.import_state_id):
        import_id = step.import_state_id(tf)
    elif step.import_state_id is not None:
        import_id = step.import_state_id
    else:
        import_id = str(applied[step.resource_name].get("id"))
    # A fresh directory: the import must not see (or disturb) the case's own state.
    other = tf.clone(tf.workdir / f"import-step-{number}")
    if step.config:
        other.write(prepare(step.config))
    other.init()
    other.import_(step.resource_name, import_id)
    imported = other.resources().get(step.resource_name)
    if imported is None:
        raise AssertionError(f"import of {step.resource_name} ({import_id}) left nothing in state")
    if step.import_state_verify:
        diffs = diff_values(applied[step.resource_name], imported, step.import_state_verify_ignore)
        if diffs:
            raise AssertionError(
                f"imported {step.resource_name} ({import_id}) differs from the applied state "
                f"(ignoring {list(step.import_state_verify_ignore)}):\n" + "\n".join(diffs)
            )
    tf.history.extend(other.history)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": [1]}} -> {"a.b.0": 1}; empty containers stay as leaves."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}{key}."))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}{index}."))
        return out
    return {prefix.rstrip("."): value}


def diff_values(applied: dict[str, Any], imported: dict[str, Any], ignore: Sequence[str]) -> list[str]:
    """Lines `path: applied=... imported=...` for every differing attribute path not under `ignore`."""

    def ignored(path: str) -> bool:
        return any(path == p or path.startswith(p + ".") for p in ignore)

    left, right = flatten(applied), flatten(imported)
    return [
        f"  {path}: applied={left.get(path)!r} imported={right.get(path)!r}"
        for path in sorted(set(left) | set(right))
        if not ignored(path) and left.get(path) != right.get(path)
    ]


def _assert_no_secrets(tf: Terraform, secrets: Sequence[str]) -> None:
    secrets = [s for s in secrets if s]
    if not secrets:
        return
    texts = {f"output of terraform {' '.join(r.args)}": r.stdout + r.stderr for r in tf.history}
    for path in [tf.workdir / "terraform.tfstate", tf.workdir / "terraform.log"]:
        if path.is_file():
            texts[str(path)] = path.read_text(errors="replace")
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {where}"
