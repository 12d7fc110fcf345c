"""The shipped examples stay valid against the provider's real schema."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rig import Terraform
from rig.case import with_required_providers

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DIRS = sorted({p.parent for p in EXAMPLES.rglob("*.tf")})


def test_every_documented_resource_and_data_source_has_an_example_that_ci_validates() -> None:
    names = {str(d.relative_to(EXAMPLES)) for d in DIRS}
    documented = {f"resources/rdsenc_{p.stem}" for p in (ROOT / "docs" / "resources").glob("*.md")}
    documented |= {f"data-sources/rdsenc_{p.stem}" for p in (ROOT / "docs" / "data-sources").glob("*.md")}
    assert "resources/rdsenc_migration" in documented, documented
    assert {"quickstart", "provider"} | documented <= names, sorted(({"quickstart", "provider"} | documented) - names)


def test_the_migration_example_shows_a_cutover_and_the_quickstart_drives_one() -> None:
    example = (EXAMPLES / "resources" / "rdsenc_migration" / "resource.tf").read_text()
    quickstart = (EXAMPLES / "quickstart" / "main.tf").read_text()
    assert re.search(r'cutover_strategy\s*=\s*"route53"', example) and "route53 {" in example
    for needed in (
        r'cutover_strategy\s*=\s*"route53"',
        r"\bcutover\s*=\s*var\.cutover",
        r"\bfinalize\s*=\s*var\.finalize",
        r"route53 \{",
    ):
        assert re.search(needed, quickstart), needed


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
