"""The audit event every service publishes when person data is read or written."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from carethread.events import topics
from carethread.events.registry import EventData, registry


@registry.register
class AuditRecordedV1(EventData):
    event_type: ClassVar[str] = "carethread.audit.recorded.v1"
    topic: ClassVar[str] = topics.AUDIT
    source_service: ClassVar[str] = "platform"

    audit_id: uuid.UUID
    service: str
    actor: str
    organisation: str | None
    roles: list[str]
    action: str
    resource_type: str
    resource_id: str | None
    person_id: uuid.UUID | None
    purpose: str
    outcome: str
    recorded_at: datetime
