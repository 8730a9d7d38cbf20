"""Building envelopes for outgoing events."""

from __future__ import annotations

import uuid

from carethread.events.envelope import CloudEvent
from carethread.events.registry import EventData
from carethread.observability.tracing import current_traceparent


def new_event(
    data: EventData,
    *,
    subject: str,
    person_id: uuid.UUID | None,
    neighbourhood: str | None = None,
    sequence: int | None = None,
    source_service: str | None = None,
) -> CloudEvent:
    """Wrap ``data`` in a CloudEvent carrying the current trace context."""
    return CloudEvent(
        source=f"carethread/{source_service or data.source_service}",
        type=data.event_type,
        subject=subject,
        data=data.model_dump(mode="json"),
        personid=str(person_id) if person_id else None,
        neighbourhood=neighbourhood,
        sequence=sequence,
        traceparent=current_traceparent(),
    )
