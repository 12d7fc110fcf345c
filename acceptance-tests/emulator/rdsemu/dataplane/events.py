"""RDS events the data plane adds (DescribeEvents), and DescribeEvents filtering.

Stock moto 5.2.5 passes DescribeEvents' CamelCase parameters to a backend method that
expects snake_case ones, so SourceIdentifier and SourceType were ignored; ``apply`` makes
the response honour them (RDS API reference, DescribeEvents).
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.rds import responses as rds_responses
from moto.rds.exceptions import InvalidParameterCombination
from moto.rds.models import Event


def add_instance_event(db: Any, message: str, categories: list[str]) -> None:
    """Append an event with ``message`` for a DB instance (SourceType ``db-instance``)."""
    event = Event.__new__(Event)
    event.source_identifier = db.db_instance_identifier
    event.source_type = "db-instance"
    event.message = message
    event.event_categories = list(categories)
    event.source_arn = db.arn
    event.date = utcnow()
    db.backend.events.append(event)


def apply() -> None:
    """Make DescribeEvents filter by SourceIdentifier and SourceType."""

    def describe_events(self: Any) -> ActionResult:
        source_id = self.params.get("SourceIdentifier")
        source_type = self.params.get("SourceType")
        if source_id is not None and source_type is None:
            raise InvalidParameterCombination("Cannot specify source identifier without source type")
        events = list(self.backend.events)
        if source_id is not None:
            events = [e for e in events if e.source_identifier == source_id]
        if source_type is not None:
            events = [e for e in events if e.source_type == source_type]
        return ActionResult({"Events": events})

    rds_responses.RDSResponse.describe_events = describe_events  # type: ignore[method-assign]
