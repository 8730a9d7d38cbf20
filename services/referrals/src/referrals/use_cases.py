"""Use cases, shared by the HTTP API and (later) the FHIR facade and event handlers.

They add rows to the unit of work and flush; the entrypoint commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from carethread.auth import Principal, record_access
from carethread.db import UnitOfWork
from carethread.errors import Forbidden, InvalidInput, NotFound
from carethread.events import CloudEvent
from carethread.events.referrals import ReferralReceivedV1
from carethread.messaging import add_to_outbox
from carethread.nhs import person_id_for_nhs_number
from carethread.reference import Geography
from referrals import events
from referrals.api.schemas import ReferralCreate
from referrals.domain.referral import Person, Referral, ReferralRejected, receive
from referrals.store import referrals as store
from referrals.store.tables import ReferralRow

SERVICE = "referrals"
READ_ROLES = frozenset({"triager", "admin"})


@dataclass(frozen=True)
class Received:
    referral: Referral
    event: CloudEvent


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(
        message,
        errors=[{"field": field, "in": "body", "pointer": "#/" + field.replace(".", "/"),
                 "message": message, "type": "value_error"}],
    )


async def receive_referral(
    uow: UnitOfWork,
    request: ReferralCreate,
    principal: Principal,
    geography: Geography,
    *,
    now: datetime | None = None,
) -> Received:
    p = request.person
    if p.gp_practice_code and p.gp_practice_code not in geography.practices:
        raise _invalid("person.gp_practice_code", f"unknown GP practice code {p.gp_practice_code}")
    place = geography.postcode(p.postcode) if p.postcode else None
    person = Person(
        # No NHS number (inclusion health): this service mints the person's id.
        person_id=person_id_for_nhs_number(p.nhs_number) if p.nhs_number else uuid.uuid4(),
        nhs_number=p.nhs_number,
        given_name=p.given_name,
        family_name=p.family_name,
        birth_date=p.birth_date,
        postcode=place.postcode if place else p.postcode,
        gp_practice_code=p.gp_practice_code,
    )
    try:
        referral = receive(
            referral_id=uuid.uuid4(),
            person=person,
            source=request.source,
            urgency=request.urgency,
            reason_codes=request.reasons,
            story=request.story,
            referrer_org=request.referrer.org,
            referrer_name=request.referrer.name,
            neighbourhood=geography.neighbourhood_for(p.gp_practice_code, p.postcode),
            borough=place.borough if place else None,
            imd_quintile=geography.imd_quintile_for(p.postcode),
            now=now or datetime.now(UTC),
        )
    except ReferralRejected as e:
        raise _invalid(e.field, str(e)) from e
    uow.session.add(store.to_row(referral, created_by=principal.sub))
    event = events.referral_received(referral)
    await add_to_outbox(uow, event, topic=ReferralReceivedV1.topic, key=str(person.person_id))
    await record_access(
        uow, principal, service=SERVICE, action="create", resource_type="Referral",
        resource_id=str(referral.id), person_id=person.person_id,
    )
    await uow.session.flush()
    return Received(referral, event)


async def read_referral(uow: UnitOfWork, referral_id: uuid.UUID, principal: Principal) -> Referral:
    row = await uow.session.get(ReferralRow, referral_id)
    if row is None:
        raise NotFound(f"No referral {referral_id}.")
    allowed = principal.has_any_role(sorted(READ_ROLES)) or principal.org == row.referrer_org
    await record_access(
        uow, principal, service=SERVICE, action="read", resource_type="Referral",
        resource_id=str(referral_id), person_id=row.person_id,
        outcome="success" if allowed else "denied",
    )
    if not allowed:
        await uow.commit()  # the denied attempt is audited too
        raise Forbidden("Only the referring organisation and the front door may read this referral.")
    return store.from_row(row)
