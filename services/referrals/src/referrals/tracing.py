"""An NHS number trace: the front door finds the NHS number of someone it recorded without
one (a PDS trace, or the person bringing a letter), and their records become one.

The id the front door minted for them is merged into the id their NHS number gives — the
id every service derives by itself. If the front door already knows someone by that number
(the same resident, referred twice under two identities), the two records become one: the
NHS-number record's details win and the minted record fills its gaps. Either way the
person's referrals move to the new id and ``person.merged`` tells every other service to do
the same (see the architecture notes). The demographic match at intake only ever flags a
probable duplicate; a merge needs this deliberate act by the front door.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carethread.auth import Principal, record_access
from carethread.db import UnitOfWork
from carethread.errors import Conflict, Forbidden, InvalidInput, NotFound
from carethread.events import CloudEvent, new_event, topics
from carethread.events.referrals import PersonMergedV1
from carethread.messaging import add_to_outbox
from carethread.nhs import InvalidNhsNumber, normalise_nhs_number, person_id_for_nhs_number
from carethread.reference import Geography
from referrals import access
from referrals.domain.person import Person, merged
from referrals.events import person_details
from referrals.store import merges
from referrals.store.people import from_row
from referrals.use_cases import SERVICE, borough_for


@dataclass(frozen=True)
class Traced:
    person_id: uuid.UUID  # the person's id now: their NHS number's
    merged_person_id: uuid.UUID  # the minted id, gone
    nhs_number: str
    referral_ids: list[uuid.UUID]
    into_existing_record: bool
    event_id: uuid.UUID
    replayed: bool = False


async def record_traced_nhs_number(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    nhs_number: str,
    principal: Principal,
    geography: Geography,
    *,
    now: datetime,
) -> Traced:
    """Merge ``person_id`` into the id of ``nhs_number``; a repeat of the same trace answers
    with the first one's result."""
    try:
        number = normalise_nhs_number(nhs_number)
    except InvalidNhsNumber as e:
        raise InvalidInput.at("nhs_number", str(e)) from e
    new = person_id_for_nhs_number(number)
    earlier = await merges.earlier_merge(uow, person_id)
    if earlier is not None:
        # A repeat answers only to those who may trace the person (their referrals are
        # under the surviving id now), and is audited like the first.
        await _check_access(uow, principal, person_id, earlier.person_id, earlier.person_id)
        return _repeated(earlier, number)
    if person_id == new:
        raise Conflict(f"Person {person_id} is already known by NHS number {number}.")
    rows = await merges.lock_people(uow, person_id, new)
    old_row = rows.get(person_id)
    if old_row is None:
        raise NotFound(f"The front door has no person {person_id}.")
    await _check_access(uow, principal, person_id, person_id, new)
    if old_row.nhs_number is not None:
        raise Conflict(
            f"Person {person_id} already has NHS number {old_row.nhs_number}; "
            "a different number is a matter for a correction, not a trace."
        )
    traced = dataclasses.replace(from_row(old_row), person_id=new, nhs_number=number)
    existing = rows.get(new)
    # The NHS-number record's details win; the minted record fills in what it lacks.
    survivor = merged(traced, from_row(existing))[0] if existing is not None else traced
    # Above every version either record had, so person events of both ids stay comparable.
    version = max(old_row.version, existing.version if existing is not None else 0) + 1
    referral_ids = await merges.move_person(
        uow, old=person_id, survivor=survivor, version=version, now=now
    )
    event = _merged_event(survivor, person_id, referral_ids, geography, principal, now, version)
    await merges.record_merge(
        uow,
        merged_person_id=person_id,
        person_id=new,
        nhs_number=number,
        referral_ids=[str(r) for r in referral_ids],
        into_existing_record=existing is not None,
        merged_by=principal.sub,
        merged_at=now,
        event_id=event.id,
    )
    await add_to_outbox(uow, event, topic=topics.REFERRALS, key=str(new))
    await uow.session.flush()
    return Traced(new, person_id, number, referral_ids, existing is not None, event.id)


async def _check_access(
    uow: UnitOfWork,
    principal: Principal,
    person_id: uuid.UUID,
    referred_as: uuid.UUID,
    into: uuid.UUID,
) -> None:
    """Audit the attempt; refuse it (403, the refusal committed) unless ``principal`` may
    trace the person whose referrals are under ``referred_as``."""
    allowed = access.may_trace(principal, await merges.boroughs_of(uow, referred_as))
    await record_access(
        uow,
        principal,
        service=SERVICE,
        action="merge",
        resource_type="Person",
        resource_id=str(person_id),
        person_id=person_id,
        outcome="success" if allowed else "denied",
        details={"into": str(into)},
    )
    if not allowed:
        await uow.commit()  # the refused attempt is audited too
        raise Forbidden(
            "Only the front door of a borough the person was referred in may trace them."
        )


def _repeated(earlier: Any, number: str) -> Traced:
    if earlier.nhs_number != number:
        raise Conflict(
            f"Person {earlier.merged_person_id} was merged into NHS number "
            f"{earlier.nhs_number} by an earlier trace."
        )
    return Traced(
        earlier.person_id,
        earlier.merged_person_id,
        number,
        [uuid.UUID(r) for r in earlier.referral_ids],
        earlier.into_existing_record,
        earlier.event_id,
        replayed=True,
    )


def _merged_event(
    person: Person,
    merged_person_id: uuid.UUID,
    referral_ids: list[uuid.UUID],
    geography: Geography,
    principal: Principal,
    now: datetime,
    version: int,
) -> CloudEvent:
    place = geography.postcode(person.postcode) if person.postcode else None
    neighbourhood = geography.neighbourhood_for(person.gp_practice_code, person.postcode)
    data = PersonMergedV1(
        person_id=person.person_id,
        merged_person_id=merged_person_id,
        person=person_details(
            person,
            geography,
            neighbourhood=neighbourhood,
            borough=borough_for(geography, place.borough if place else None, neighbourhood),
            imd_quintile=geography.imd_quintile_for(person.postcode),
        ),
        referral_ids=referral_ids,
        merged_by=principal.sub,
        merged_at=now,
    )
    return new_event(
        data,
        subject=str(person.person_id),
        person_id=person.person_id,
        neighbourhood=neighbourhood,
        sequence=version,
    )
