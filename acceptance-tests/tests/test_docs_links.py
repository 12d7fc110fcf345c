"""Every relative link in README.md and docs/ points at a file that exists, and every guide is
reachable from the provider page, so a renamed example or page cannot leave a dead link behind.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_relative_link_in_the_docs_resolves_to_a_file() -> None:
    dead = []
    checked = 0
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            checked += 1
            if not path.exists():
                dead.append(f"{page.relative_to(ROOT)} -> {target}")
    assert checked > 20, f"only {checked} links found: is the pattern still right?"
    assert not dead, "dead links:\n" + "\n".join(dead)


def test_the_provider_page_and_readme_link_every_guide_and_page() -> None:
    index = (ROOT / "docs" / "index.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for page in sorted((ROOT / "docs").rglob("*.md")):
        rel = page.relative_to(ROOT / "docs").as_posix()
        if rel == "index.md":
            continue
        assert f"]({rel})" in index, f"docs/index.md does not link {rel}"
        assert f"](docs/{rel})" in readme, f"README.md does not link docs/{rel}"
