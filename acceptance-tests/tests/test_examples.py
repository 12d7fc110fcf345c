"""The shipped examples stay valid against the provider's real schema."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rig import Terraform
from rig.case import with_required_providers

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DIRS = sorted(p.parent for p in EXAMPLES.rglob("*.tf"))


def test_the_examples_directory_has_the_documented_examples() -> None:
    names = {str(d.relative_to(EXAMPLES)) for d in DIRS}
    assert {"quickstart", "provider", "data-sources/rdsenc_db_instance"} <= names, names


@pytest.mark.parametrize("example", sorted(set(DIRS)), ids=lambda d: str(d.relative_to(EXAMPLES)))
def test_example_passes_terraform_validate(tf: Terraform, example: Path) -> None:
    for source in example.glob("*.tf"):
        shutil.copy(source, tf.workdir / source.name)
    main = tf.workdir / "main.tf"
    if not any("required_providers" in p.read_text() for p in tf.workdir.glob("*.tf")):
        main.write_text(with_required_providers(main.read_text() if main.exists() else ""))
    tf.init()
    result = tf.run("validate", "-no-color")
    assert "Success" in result.stdout, result.describe()
