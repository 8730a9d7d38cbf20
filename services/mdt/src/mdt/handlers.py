"""What the MDT view consumes. Each handler runs in the consumer's unit of work, with the
inbox row, so a repeated delivery is never applied twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from carethread.db import UnitOfWork
from carethread.events import CloudEvent, Event
from carethread.events.referrals import (
    ReferralReceivedV1,
    ReferralStatusChangedV1,
    ReferralTriagedV1,
)
from carethread.messaging import EventRouter
from mdt.domain.freshness import is_newer
from mdt.store.tables import CaseloadReferralRow, SourceFreshnessRow, TimelineEntryRow

router = EventRouter()


async def _mark_fresh(uow: UnitOfWork, envelope: CloudEvent) -> None:
    source = envelope.source.removeprefix("carethread/")
    row = await uow.session.get(SourceFreshnessRow, source)
    now = datetime.now(UTC)
    if row is None:
        uow.session.add(
            SourceFreshnessRow(
                source_service=source,
                last_event_id=envelope.id,
                last_event_time=envelope.time,
                applied_at=now,
                events_applied=1,
            )
        )
        return
    row.events_applied += 1
    row.applied_at = now
    if envelope.time >= row.last_event_time:
        row.last_event_id, row.last_event_time = envelope.id, envelope.time


@router.on(ReferralReceivedV1)
async def on_referral_received(event: Event[ReferralReceivedV1], uow: UnitOfWork) -> None:
    d = event.data
    sequence = event.envelope.sequence or 1
    row = await uow.session.get(CaseloadReferralRow, d.referral_id)
    if row is None:
        uow.session.add(
            CaseloadReferralRow(
                referral_id=d.referral_id,
                person_id=d.person_id,
                neighbourhood=d.neighbourhood,
                given_name=d.person.given_name,
                family_name=d.person.family_name,
                birth_date=d.person.birth_date,
                has_nhs_number=d.has_nhs_number,
                status=d.status,
                urgency=d.urgency,
                source=d.source,
                received_at=d.received_at,
                sequence=sequence,
            )
        )
    elif is_newer(sequence, row.sequence):
        row.status, row.urgency, row.sequence = d.status, d.urgency, sequence
    uow.session.add(
        TimelineEntryRow(
            event_id=event.id,
            person_id=d.person_id,
            occurred_at=d.received_at,
            source_service="referrals",
            event_type=event.envelope.type,
            summary=f"Referral received from {d.source.replace('_', ' ')} ({d.urgency})",
            organisation=d.referrer_org,
        )
    )
    await _mark_fresh(uow, event.envelope)


async def _status_moved(
    uow: UnitOfWork,
    envelope: CloudEvent,
    *,
    referral_id: uuid.UUID,
    person_id: uuid.UUID,
    status: str,
    occurred_at: datetime,
    summary: str,
    organisation: str | None,
) -> None:
    row = await uow.session.get(CaseloadReferralRow, referral_id)
    sequence = envelope.sequence or 1
    # Same topic and key as the referral's intake, so the row exists; `sequence` guards
    # against a replayed older change overwriting a newer status.
    if row is not None and is_newer(sequence, row.sequence):
        row.status, row.sequence = status, sequence
    uow.session.add(
        TimelineEntryRow(
            event_id=envelope.id,
            person_id=person_id,
            occurred_at=occurred_at,
            source_service="referrals",
            event_type=envelope.type,
            summary=summary,
            organisation=organisation,
        )
    )
    await _mark_fresh(uow, envelope)


@router.on(ReferralTriagedV1)
async def on_referral_triaged(event: Event[ReferralTriagedV1], uow: UnitOfWork) -> None:
    d = event.data
    where = f" to {d.destination.name or d.destination.id}" if d.destination else ""
    await _status_moved(
        uow,
        event.envelope,
        referral_id=d.referral_id,
        person_id=d.person_id,
        status=d.status,
        occurred_at=d.triaged_at,
        summary=f"Referral triaged: {d.decision.replace('_', ' ')}{where}",
        organisation=d.decided_by_org,
    )


@router.on(ReferralStatusChangedV1)
async def on_referral_status_changed(
    event: Event[ReferralStatusChangedV1], uow: UnitOfWork
) -> None:
    d = event.data
    await _status_moved(
        uow,
        event.envelope,
        referral_id=d.referral_id,
        person_id=d.person_id,
        status=d.status,
        occurred_at=d.changed_at,
        summary=f"Referral {d.status.replace('_', ' ')}",
        organisation=None,
    )
