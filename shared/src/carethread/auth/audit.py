"""The audit writer: every read and write of person data leaves a record (in the same
transaction as the change) and an audit event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from carethread.auth.tokens import Principal
from carethread.db.tables import AuditRow
from carethread.db.uow import UnitOfWork
from carethread.events.audit import AuditRecordedV1
from carethread.events.factory import new_event
from carethread.messaging.outbox import add_to_outbox
from carethread.observability.tracing import current_trace_id


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
    uow.session.add(
        AuditRow(
            id=audit_id,
            recorded_at=now,
            actor=principal.sub,
            organisation=principal.org,
            roles=roles,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            person_id=person_id,
            purpose=purpose,
            outcome=outcome,
            trace_id=current_trace_id(),
            details=details,
        )
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
