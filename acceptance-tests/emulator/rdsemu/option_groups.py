"""RDS default option groups: AWS has one per engine and major version (`default:mysql-8-0`)
and accepts it wherever an option group name goes; moto has none, so restoring an instance
with its source's (default) option group failed with OptionGroupNotFoundFault.
"""

from __future__ import annotations

import re
from typing import Any

_DEFAULT = re.compile(r"^default:(?P<engine>[a-z0-9-]+?)-(?P<version>\d+(?:-\d+)?)$")


def ensure_default_option_group(backend: Any, name: str | None) -> None:
    """Create `name` in `backend` when it is a default group AWS would have."""
    if not name or name in backend.option_groups:
        return
    m = _DEFAULT.match(name)
    if not m:
        return
    from moto.rds.models import OptionGroup

    backend.option_groups[name] = OptionGroup(
        backend,
        option_group_name=name,
        engine_name=m["engine"],
        major_engine_version=m["version"].replace("-", "."),
        option_group_description=f"Default option group for {m['engine']} {m['version'].replace('-', '.')}",
    )


def apply() -> None:
    """Create default option groups on first use by an instance."""
    from moto.rds.models import DBInstance

    original = DBInstance.__init__

    def init(self: Any, backend: Any, *args: Any, **kwargs: Any) -> None:
        ensure_default_option_group(backend, kwargs.get("option_group_name"))
        original(self, backend, *args, **kwargs)

    DBInstance.__init__ = init  # type: ignore[method-assign]
