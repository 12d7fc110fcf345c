"""Route 53: changes are ``PENDING`` for a (scaled) while before ``INSYNC``, as on AWS.

Stock moto answers every ``ChangeResourceRecordSets`` with the same change id and
``INSYNC``, and ``GetChange`` with ``INSYNC`` for any id, so a client's INSYNC waiter is
never exercised. Here each change gets its own id and a timeline of ``route53_change``
AWS seconds; ``GetChange`` of an unknown id fails with ``NoSuchChange`` (404).
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from .state import STATE, Timeline

_ID_ALPHABET = string.ascii_uppercase + string.digits


def _new_change_id() -> str:
    return "C" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(13))


def _zone_ids_start_with_z() -> None:
    """AWS hosted zone ids start with ``Z`` (``Z1RWWTK7Y8UDDQ``); moto draws all 22 characters at
    random, so ids that a validator rightly refuses came back one time in two.
    """
    import moto.route53.models as models

    original = models.create_route53_zone_id

    def zone_id(*args: Any, **kwargs: Any) -> str:
        return "Z" + str(original(*args, **kwargs))[1:]

    models.create_route53_zone_id = zone_id


def apply() -> None:
    """Patch moto's Route 53 responses."""
    _zone_ids_start_with_z()
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.route53.exceptions import Route53ClientError
    from moto.route53.responses import Route53

    class NoSuchChange(Route53ClientError):
        """The change id is unknown (HTTP 404 from the service model)."""

        def __init__(self, change_id: str) -> None:
            super().__init__("NoSuchChange", f"A change with the specified change ID does not exist: {change_id}")

    original = Route53.change_resource_record_sets

    def change_resource_record_sets(self: Any) -> ActionResult:
        original(self)  # validates and applies the batch
        change_id = _new_change_id()
        with STATE.lock:
            STATE.changes[change_id] = Timeline([("PENDING", STATE.duration("route53_change"))], "INSYNC")
            status = STATE.changes[change_id].status()
        return ActionResult({"ChangeInfo": {"Id": f"/change/{change_id}", "Status": status, "SubmittedAt": utcnow()}})

    def get_change(self: Any) -> ActionResult:
        raw = str(self._get_param("Id"))
        change_id = raw.rsplit("/", 1)[-1]
        with STATE.lock:
            timeline = STATE.changes.get(change_id)
        if timeline is None:
            raise NoSuchChange(change_id)
        return ActionResult(
            {"ChangeInfo": {"Id": f"/change/{change_id}", "Status": timeline.status(), "SubmittedAt": utcnow()}}
        )

    Route53.change_resource_record_sets = change_resource_record_sets  # type: ignore[method-assign]
    Route53.get_change = get_change  # type: ignore[method-assign]
