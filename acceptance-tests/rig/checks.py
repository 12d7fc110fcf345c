"""State checks, in the spirit of terraform-plugin-testing's `TestCheckResourceAttr` family.

Each check is a callable taking the `Terraform` after a step; it raises AssertionError with the
address, the attribute and what was found. Attribute paths use dots for nesting and list indexes:
`tags.team`, `parameter_group_names.0`, `endpoints.0.rds`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rig.terraform import Terraform

Check = Callable[[Terraform], None]
_MISSING = object()


def lookup(values: Any, path: str) -> Any:
    """Follow a dotted path through dicts and lists; `_MISSING` if any part is absent."""
    current = values
    for part in path.split(".") if path else []:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _resource(tf: Terraform, address: str) -> dict[str, Any]:
    resources = tf.resources()
    if address not in resources:
        raise AssertionError(f"{address} is not in state; state has: {sorted(resources) or 'nothing'}")
    return resources[address]


def _get(tf: Terraform, address: str, path: str) -> Any:
    values = _resource(tf, address)
    found = lookup(values, path)
    if found is _MISSING:
        raise AssertionError(f"{address}: attribute {path!r} is absent; attributes: {sorted(values)}")
    return found


def attr(address: str, path: str, expected: Any) -> Check:
    """The attribute equals `expected` (compared as JSON values: 20 != "20")."""

    def check(tf: Terraform) -> None:
        found = _get(tf, address, path)
        assert found == expected, f"{address}.{path}: expected {expected!r}, found {found!r}"

    return check


def attr_matches(address: str, path: str, pattern: str) -> Check:
    """The attribute is a string matching the regular expression `pattern` (re.search)."""

    def check(tf: Terraform) -> None:
        found = _get(tf, address, path)
        assert isinstance(found, str) and re.search(pattern, found), (
            f"{address}.{path}: expected a string matching /{pattern}/, found {found!r}"
        )

    return check


def attr_null(address: str, path: str) -> Check:
    """The attribute is present in the schema and null."""

    def check(tf: Terraform) -> None:
        found = _get(tf, address, path)
        assert found is None, f"{address}.{path}: expected null, found {found!r}"

    return check


def attr_absent(address: str, path: str) -> Check:
    """The attribute path does not exist (e.g. a map key that must not be there)."""

    def check(tf: Terraform) -> None:
        found = lookup(_resource(tf, address), path)
        assert found is _MISSING, f"{address}.{path}: expected absent, found {found!r}"

    return check


def output(name: str, expected: Any) -> Check:
    """The root output `name` equals `expected`."""

    def check(tf: Terraform) -> None:
        outputs = tf.outputs()
        assert name in outputs, f"output {name!r} missing; outputs: {sorted(outputs)}"
        assert outputs[name] == expected, f"output {name}: expected {expected!r}, found {outputs[name]!r}"

    return check


def output_null(name: str) -> Check:
    """The root output `name` is null (Terraform omits null outputs from `output -json`)."""

    def check(tf: Terraform) -> None:
        outputs = tf.outputs()
        assert outputs.get(name) is None, f"output {name}: expected null, found {outputs[name]!r}"

    return check
