"""run_case itself, driven with Terraform's built-in `terraform_data` (no rdsenc provider needed)."""

from __future__ import annotations

import pytest

from rig import Step, Terraform, attr, attr_absent, output, output_null, run_case

ADDR = "terraform_data.a"


def config(value: str) -> str:
    return f"""
resource "terraform_data" "a" {{
  input = "{value}"
}}

output "o" {{
  value = terraform_data.a.output
}}

output "nothing" {{
  value = null
}}
"""


def nothing_in_state(tf: Terraform) -> None:
    assert tf.resources() == {}, f"left in state after destroy: {sorted(tf.resources())}"


def test_a_case_applies_updates_plans_expects_errors_and_destroys(tf: Terraform) -> None:
    run_case(
        tf,
        [
            Step(config=config("x"), checks=[attr(ADDR, "input", "x"), output("o", "x"), output_null("nothing")]),
            Step(config=config("y"), checks=[attr(ADDR, "output", "y"), attr_absent(ADDR, "no_such")]),
            Step(config=config("z"), plan_only=True, expect_non_empty_plan=True),
            Step(
                config=config("y") + 'output "bad" {\n  value = nosuch.thing\n}\n',
                expect_error=r"Reference to undeclared resource",
            ),
        ],
        check_destroy=nothing_in_state,
        add_required_providers=False,
    )
    commands = [r.args[0] for r in tf.history]
    assert commands.count("init") == 1, commands
    refreshes = [r for r in tf.history if r.args[:2] == ["apply", "-refresh-only"]]
    assert len(refreshes) == 2, "each applied step refreshes once"
    destroys = [r for r in tf.history if r.args[0] == "destroy"]
    assert len(destroys) == 1 and destroys[0].returncode == 0, "destroy ran once, with the last good config"


def test_a_perpetual_diff_fails_the_step_with_terraforms_plan(tf: Terraform) -> None:
    drifting = 'resource "terraform_data" "a" {\n  input = timestamp()\n}\n'
    with pytest.raises(
        AssertionError, match=r"(?s)step 1 of 1: plan after apply: expected no changes.*terraform_data\.a"
    ):
        run_case(tf, [Step(config=drifting, skip_refresh=True)], add_required_providers=False)
    # The case still destroyed what it created.
    assert tf.history[-1].args[0] == "destroy" and tf.history[-1].returncode == 0


def test_a_failing_check_names_the_step_attribute_and_value(tf: Terraform) -> None:
    with pytest.raises(
        AssertionError,
        match=r"step 1 of 1: check failed after apply: terraform_data\.a\.input: expected 'q', found 'x'",
    ):
        run_case(tf, [Step(config=config("x"), checks=[attr(ADDR, "input", "q")])], add_required_providers=False)


def test_an_expected_error_that_does_not_happen_fails_the_case(tf: Terraform) -> None:
    with pytest.raises(AssertionError, match=r"expected an error matching /boom/"):
        run_case(tf, [Step(config=config("x"), expect_error="boom")], add_required_providers=False)


def test_a_secret_in_the_state_fails_the_case(tf: Terraform) -> None:
    with pytest.raises(AssertionError, match=r"a secret leaked into (output of terraform|.*terraform.tfstate)"):
        run_case(tf, [Step(config=config("hunter2-secret"))], secrets=["hunter2-secret"], add_required_providers=False)


def test_an_import_step_imports_into_a_fresh_directory_and_compares_with_the_applied_state(tf: Terraform) -> None:
    # terraform_data imports only its id; input/output come back null, so they are ignored here.
    run_case(
        tf,
        [
            Step(config=config("x")),
            Step(
                config=config("x"),
                import_state=True,
                resource_name=ADDR,
                import_state_verify_ignore=["input", "output"],
            ),
        ],
        add_required_providers=False,
    )
    imports = [r for r in tf.history if r.args[0] == "import"]
    assert len(imports) == 1 and imports[0].args[-2] == ADDR, [r.args for r in imports]
    assert tf.workdir.joinpath("import-step-2", "terraform.tfstate").is_file()


def test_an_import_that_differs_from_the_applied_state_fails_naming_the_attribute(tf: Terraform) -> None:
    with pytest.raises(AssertionError, match=r"(?s)differs from the applied state.*  input: applied='x' imported=None"):
        run_case(
            tf,
            [Step(config=config("x")), Step(config=config("x"), import_state=True, resource_name=ADDR)],
            add_required_providers=False,
        )
