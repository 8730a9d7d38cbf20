"""The front door's events: referrals and the person details it holds."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from carethread.db import UnitOfWork
from carethread.events import CloudEvent, Event
from carethread.events.referrals import (
    Destination,
    PersonMergedV1,
    PersonRegisteredV1,
    PersonUpdatedV1,
    ReferralReceivedV1,
    ReferralSlaBreachedV1,
    ReferralStatusChangedV1,
    ReferralTriagedV1,
)
from mdt.domain.freshness import is_newer
from mdt.handlers.common import add_to_timeline, changes, mark_fresh, router, words
from mdt.store.merges import Merge
from mdt.store.poll import Record
from mdt.store.tables import CaseloadReferralRow, PersonSnapshotRow

# The reason code the front door uses for carers' support (shared with the directory).
CARERS_REASON = "carers"


def _referral(
    uow: UnitOfWork,
    envelope: CloudEvent,
    referral_id: uuid.UUID,
    person_id: uuid.UUID,
    apply: Callable[[Record], None],
) -> None:
    """Change the referral's row; a bare one if a later change has come before its intake
    (a replay from an outbox, or a redelivery), to be filled in when the intake arrives."""
    changes(uow).change(
        CaseloadReferralRow,
        referral_id,
        apply,
        person_id=person_id,
        given_name="",
        family_name="",
        has_nhs_number=True,
        status="received",
        urgency="",
        source="",
        received_at=envelope.time,
        sequence=0,
        received=False,
        for_carer_support=False,
        breached_sla=False,
    )


@router.on(ReferralReceivedV1)
async def on_referral_received(event: Event[ReferralReceivedV1], uow: UnitOfWork) -> None:
    d, envelope = event.data, event.envelope
    sequence = envelope.sequence or 1

    def received(row: Record) -> None:
        if not row.received:
            row.neighbourhood = d.neighbourhood
            row.given_name, row.family_name = d.person.given_name, d.person.family_name
            row.birth_date, row.has_nhs_number = d.person.birth_date, d.has_nhs_number
            row.source, row.received_at, row.referrer_org = d.source, d.received_at, d.referrer_org
            row.gp_practice_code = d.person.gp_practice_code
            row.imd_quintile = d.person.imd_quintile
            row.for_carer_support = CARERS_REASON in d.reason_codes
            row.urgency, row.received = d.urgency, True
        if is_newer(sequence, row.sequence):
            row.status, row.urgency, row.sequence = d.status, d.urgency, sequence

    _referral(uow, envelope, d.referral_id, d.person_id, received)
    add_to_timeline(
        uow,
        envelope,
        person_id=d.person_id,
        occurred_at=d.received_at,
        summary=f"Referral received from {words(d.source)} ({d.urgency})",
        organisation=d.referrer_org,
    )
    mark_fresh(uow, envelope)
    changes(uow).refresh(d.person_id)


def _status_moved(
    uow: UnitOfWork,
    envelope: CloudEvent,
    *,
    referral_id: uuid.UUID,
    person_id: uuid.UUID,
    status: str,
    occurred_at: datetime,
    summary: str,
    organisation: str | None,
    breached_sla: bool = False,
    destination: Destination | None = None,
    directory_service_id: uuid.UUID | None = None,
) -> None:
    sequence = envelope.sequence or 1

    def moved(row: Record) -> None:
        if is_newer(sequence, row.sequence):
            row.status, row.sequence = status, sequence
        if destination is not None and is_newer(sequence, row.destination_sequence):
            row.destination_id, row.destination_sequence = destination.id, sequence
        # A breach, once seen, stays: it is a fact about the referral's history.
        row.breached_sla = row.breached_sla or breached_sla

    _referral(uow, envelope, referral_id, person_id, moved)
    add_to_timeline(
        uow,
        envelope,
        person_id=person_id,
        occurred_at=occurred_at,
        summary=summary,
        organisation=organisation,
        directory_service_id=directory_service_id,
    )
    mark_fresh(uow, envelope)
    changes(uow).refresh(person_id)


def _service_id(kind: str, id_: str) -> uuid.UUID | None:
    if kind != "service":
        return None
    try:
        return uuid.UUID(id_)
    except ValueError:
        return None


@router.on(ReferralTriagedV1)
async def on_referral_triaged(event: Event[ReferralTriagedV1], uow: UnitOfWork) -> None:
    d = event.data
    where = f" to {d.destination.name or d.destination.id}" if d.destination else ""
    _status_moved(
        uow,
        event.envelope,
        referral_id=d.referral_id,
        person_id=d.person_id,
        status=d.status,
        occurred_at=d.triaged_at,
        summary=f"Referral triaged: {words(d.decision)}{where}",
        organisation=d.decided_by_org,
        breached_sla=d.breached_sla,
        destination=d.destination,
        directory_service_id=_service_id(d.destination.kind, d.destination.id)
        if d.destination
        else None,
    )


@router.on(ReferralStatusChangedV1)
async def on_referral_status_changed(
    event: Event[ReferralStatusChangedV1], uow: UnitOfWork
) -> None:
    d = event.data
    _status_moved(
        uow,
        event.envelope,
        referral_id=d.referral_id,
        person_id=d.person_id,
        status=d.status,
        occurred_at=d.changed_at,
        summary=f"Referral {words(d.status)}",
        organisation=None,
    )


@router.on(ReferralSlaBreachedV1)
async def on_referral_sla_breached(event: Event[ReferralSlaBreachedV1], uow: UnitOfWork) -> None:
    d = event.data
    # The breach is an observation at the referral's current version, not a change of
    # state: it sets the flag and never the status.

    def breached(row: Record) -> None:
        row.breached_sla = True

    _referral(uow, event.envelope, d.referral_id, d.person_id, breached)
    add_to_timeline(
        uow,
        event.envelope,
        person_id=d.person_id,
        occurred_at=d.breached_at,
        summary=f"Referral not triaged within its {d.urgency} response time",
        organisation=None,
    )
    mark_fresh(uow, event.envelope)
    changes(uow).refresh(d.person_id)


def _front_door_person(
    uow: UnitOfWork,
    event: Event[PersonRegisteredV1] | Event[PersonUpdatedV1] | Event[PersonMergedV1],
    summary: str | None,
) -> None:
    d, envelope = event.data, event.envelope
    sequence = envelope.sequence or 1
    details = d.person.model_dump(mode="json")

    def described(snapshot: Record) -> None:
        if snapshot.front_door is None or is_newer(sequence, snapshot.front_door_sequence):
            snapshot.front_door = details
            snapshot.front_door_sequence = sequence

    changes(uow).change(PersonSnapshotRow, d.person_id, described)
    if summary is not None:
        add_to_timeline(
            uow,
            envelope,
            person_id=d.person_id,
            occurred_at=_occurred_at(d),
            summary=summary,
            organisation=None,
        )
    mark_fresh(uow, envelope)
    changes(uow).refresh(d.person_id)


@router.on(PersonRegisteredV1)
async def on_person_registered(event: Event[PersonRegisteredV1], uow: UnitOfWork) -> None:
    # Registration comes with the person's first referral, whose intake is on the
    # timeline already: it adds the person's details, not a step in their story.
    _front_door_person(uow, event, None)


@router.on(PersonUpdatedV1)
async def on_person_updated(event: Event[PersonUpdatedV1], uow: UnitOfWork) -> None:
    changed = ", ".join(words(c) for c in event.data.changed) or "details"
    _front_door_person(uow, event, f"Front door updated the person's {changed}")


@router.on(PersonMergedV1)
async def on_person_merged(event: Event[PersonMergedV1], uow: UnitOfWork) -> None:
    """Two ids, one person: everything under the old id moves to the new one
    (``store.merges``), and the record after the merge describes them."""
    d = event.data
    changes(uow).merge(Merge(d.merged_person_id, d.person_id, d.merged_at, event.envelope.id))
    _front_door_person(
        uow, event, "Front door found the person's NHS number: their records were merged"
    )


def _occurred_at(d: PersonRegisteredV1 | PersonUpdatedV1 | PersonMergedV1) -> datetime:
    if isinstance(d, PersonUpdatedV1):
        return d.updated_at
    return d.merged_at if isinstance(d, PersonMergedV1) else d.registered_at
