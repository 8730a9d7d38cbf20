"""The audit writer: every read and write of person data leaves a record (in the same
transaction as the change) and an audit event.

The record is written with a Core insert at the unit of work's next flush, with the
outbox rows (``insert_at_flush``): nothing in the request reads it back as an object."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table

from carethread.auth.tokens import Principal
from carethread.db.tables import AuditRow
from carethread.db.uow import UnitOfWork
from carethread.events.audit import AuditRecordedV1
from carethread.events.factory import new_event
from carethread.messaging.outbox import add_to_outbox, insert_at_flush
from carethread.observability.tracing import current_trace_id

_AUDIT = cast(Table, AuditRow.__table__)


async def record_access(
    uow: UnitOfWork,
    principal: Principal,
    *,
    service: str,
    action: str,
    resource_type: str,
    resource_id: str | None,
    person_id: uuid.UUID | None,
    purpose: str = "direct-care",
    outcome: str = "success",
    details: dict[str, Any] | None = None,
) -> None:
    now = datetime.now(UTC)
    audit_id = uuid.uuid4()
    roles = sorted(principal.roles)
    insert_at_flush(
        uow,
        _AUDIT,
        {
            "id": audit_id,
            "recorded_at": now,
            "actor": principal.sub,
            "organisation": principal.org,
            "roles": roles,
            "action": action,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "person_id": person_id,
            "purpose": purpose,
            "outcome": outcome,
            "trace_id": current_trace_id(),
            "details": details,
        },
    )
    data = AuditRecordedV1(
        audit_id=audit_id,
        service=service,
        actor=principal.sub,
        organisation=principal.org,
        roles=roles,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        person_id=person_id,
        purpose=purpose,
        outcome=outcome,
        recorded_at=now,
    )
    event = new_event(data, subject=str(audit_id), person_id=person_id, source_service=service)
    await add_to_outbox(
        uow, event, topic=AuditRecordedV1.topic, key=str(person_id or principal.sub)
    )
