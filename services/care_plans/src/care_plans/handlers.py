"""What care_plans consumes from the front door. Each handler runs in the consumer's unit of
work with the inbox row, so a repeated delivery is never applied twice; the handlers are
also idempotent by content (a team already in the care team is not added again) and use
the event's ``sequence`` or timestamps to ignore stale changes. An event for an id the
front door merged into another is applied to the person's id now (``care_plans.merges``);
each handler holds its person (``store.lock_person``) so that it and a merge apply one after
the other."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from care_plans import merges, records
from care_plans.domain.document import CareTeamMember, PlanDocument
from care_plans.records import PERSON_FIELDS, Editor
from care_plans.store import plans as store
from care_plans.store.tables import PersonReferralRow
from carethread.db import UnitOfWork
from carethread.events import Event
from carethread.events.referrals import (
    PersonDetails,
    PersonMergedV1,
    PersonRegisteredV1,
    PersonUpdatedV1,
    ReferralReceivedV1,
    ReferralStatusChangedV1,
    ReferralTriagedV1,
)
from carethread.messaging import EventRouter

router = EventRouter()
ROLE_OF_DESTINATION = {
    "neighbourhood_mdt": "Neighbourhood multidisciplinary team",
    "team": "Accepting team",
    "service": "Service",
}


class PersonNotYetKnown(LookupError):
    """An event about a person whose record has not arrived yet: retried, then the DLQ."""


async def _person_from_front_door(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    details: PersonDetails,
    changed_at: datetime,
    sequence: int | None,
) -> None:
    """A person event, for the id the person has now: an event for a merged id (late, or
    from a producer that has not applied the merge) is for the id it merged into, and
    never takes away the NHS number that merge brought."""
    fields = details.model_dump(include=set(PERSON_FIELDS))
    current, _ = await store.current_person(uow.session, person_id, lock=True)
    if current != person_id and fields.get("nhs_number") is None:
        fields.pop("nhs_number", None)
    await records.person_from_front_door(uow, current, fields, changed_at, sequence)


@router.on(PersonRegisteredV1)
async def on_person_registered(event: Event[PersonRegisteredV1], uow: UnitOfWork) -> None:
    d = event.data
    await _person_from_front_door(
        uow, d.person_id, d.person, d.registered_at, event.envelope.sequence
    )


@router.on(PersonUpdatedV1)
async def on_person_updated(event: Event[PersonUpdatedV1], uow: UnitOfWork) -> None:
    d = event.data
    await _person_from_front_door(uow, d.person_id, d.person, d.updated_at, event.envelope.sequence)


@router.on(PersonMergedV1)
async def on_person_merged(event: Event[PersonMergedV1], uow: UnitOfWork) -> None:
    """Two ids, one person: see ``care_plans.merges``."""
    await merges.apply_merge(uow, event.data, event.envelope.sequence, event.id)


@router.on(ReferralReceivedV1)
async def on_referral_received(event: Event[ReferralReceivedV1], uow: UnitOfWork) -> None:
    """The referred person is findable here at once: from the referral's summary if the
    front door's person event has not come first."""
    d = event.data
    person_id, person = await store.current_person(uow.session, d.person_id, lock=True)
    if person is None:
        p = d.person
        details: dict[str, object] = {
            "given_name": p.given_name,
            "family_name": p.family_name,
            "birth_date": p.birth_date,
            "gp_practice_code": p.gp_practice_code,
            "borough": p.borough,
            "neighbourhood": d.neighbourhood,
        }
        await records.start_from_front_door(uow, person_id, details, datetime.now(UTC))
    if await uow.session.get(PersonReferralRow, d.referral_id) is None:
        uow.session.add(
            PersonReferralRow(
                referral_id=d.referral_id,
                person_id=person_id,
                referrer_org=d.referrer_org,
                status=d.status,
                sequence=event.envelope.sequence or 1,
                updated_at=d.received_at,
            )
        )


async def _referral_moved(
    uow: UnitOfWork, event: Event[ReferralTriagedV1] | Event[ReferralStatusChangedV1]
) -> PersonReferralRow | None:
    d = event.data
    sequence = event.envelope.sequence or 1
    row = await uow.session.get(PersonReferralRow, d.referral_id)
    if row is None or sequence <= row.sequence:
        return None  # not seen (received before this service listened) or stale
    row.status, row.sequence, row.updated_at = d.status, sequence, datetime.now(UTC)
    return row


@router.on(ReferralTriagedV1)
async def on_referral_triaged(event: Event[ReferralTriagedV1], uow: UnitOfWork) -> None:
    """Accepted by a team: the team joins the person's care team (once)."""
    d = event.data
    row = await _referral_moved(uow, event)
    if row is not None and d.destination is not None:
        row.destination_kind, row.destination_id = d.destination.kind, d.destination.id
    if d.decision != "accept" or d.destination is None:
        return
    person_id, person = await store.current_person(uow.session, d.person_id, lock=True)
    plan = await store.plan_for(uow.session, person_id, for_update=True)
    if person is None or plan is None:
        raise PersonNotYetKnown(f"no record yet for person {d.person_id}")
    document = PlanDocument.model_validate(plan.document)
    destination = d.destination
    if any(m.team == destination.id for m in document.care_team):
        return  # already a member: nothing changes
    member = CareTeamMember(
        name=destination.name or destination.id,
        role=ROLE_OF_DESTINATION.get(destination.kind, ""),
        organisation=destination.id if destination.kind == "neighbourhood_mdt" else None,
        team=destination.id,
        referral_id=d.referral_id,
    )
    after = document.model_copy(update={"care_team": [*document.care_team, member]})
    editor = Editor(sub=d.decided_by, name=None, org=d.decided_by_org, role="front door triage")
    await records.save_version(
        uow,
        person,
        plan,
        after,
        editor,
        d.triaged_at,
        reason=f"referral {d.referral_id} accepted by {member.name}",
    )


@router.on(ReferralStatusChangedV1)
async def on_referral_status_changed(
    event: Event[ReferralStatusChangedV1], uow: UnitOfWork
) -> None:
    await _referral_moved(uow, event)
