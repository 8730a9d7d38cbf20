"""What the referrals service publishes."""

from __future__ import annotations

from datetime import datetime

from carethread.events import CloudEvent, new_event
from carethread.events.referrals import (
    Destination,
    PersonDetails,
    PersonRegisteredV1,
    PersonSummary,
    PersonUpdatedV1,
    ReferralReceivedV1,
    ReferralSlaBreachedV1,
    ReferralStatusChangedV1,
    ReferralTriagedV1,
)
from carethread.reference import Geography
from referrals.domain.person import Person
from referrals.domain.referral import Referral
from referrals.domain.sla import is_breached
from referrals.domain.triage import Move


def referral_received(referral: Referral) -> CloudEvent:
    p = referral.person
    data = ReferralReceivedV1(
        referral_id=referral.id,
        person_id=p.person_id,
        has_nhs_number=p.nhs_number is not None,
        person=PersonSummary(
            given_name=p.given_name,
            family_name=p.family_name,
            birth_date=p.birth_date,
            gp_practice_code=p.gp_practice_code,
            borough=referral.borough,
            imd_quintile=referral.imd_quintile,
        ),
        source=referral.source.value,
        urgency=referral.urgency.value,
        reason_codes=list(referral.reason_codes),
        neighbourhood=referral.neighbourhood,
        referrer_org=referral.referrer_org,
        received_at=referral.received_at,
        status=referral.status.value,
    )
    return new_event(
        data,
        subject=str(referral.id),
        person_id=p.person_id,
        neighbourhood=referral.neighbourhood,
        sequence=referral.version,
    )


def _envelope(
    referral: Referral,
    data: ReferralTriagedV1 | ReferralStatusChangedV1 | ReferralSlaBreachedV1,
) -> CloudEvent:
    return new_event(
        data,
        subject=str(referral.id),
        person_id=referral.person.person_id,
        neighbourhood=referral.neighbourhood,
        sequence=referral.version,
    )


def referral_triaged(after: Referral, move: Move) -> CloudEvent:
    d = move.destination
    data = ReferralTriagedV1(
        referral_id=after.id,
        person_id=after.person.person_id,
        decision=move.action.value,
        status=after.status.value,
        destination=Destination(kind=d.kind.value, id=d.id, name=d.name) if d else None,
        reason=move.reason,
        decided_by=move.actor,
        decided_by_org=move.actor_org,
        health_signoff=move.health_signoff,
        social_care_signoff=move.social_care_signoff,
        triaged_at=move.at,
        breached_sla=is_breached(
            status=after.status, due=after.triage_due_at, now=move.at, triaged_at=after.triaged_at
        ),
    )
    return _envelope(after, data)


def referral_status_changed(before: Referral, after: Referral, move: Move) -> CloudEvent:
    data = ReferralStatusChangedV1(
        referral_id=after.id,
        person_id=after.person.person_id,
        action=move.action.value,
        from_status=before.status.value,
        status=after.status.value,
        changed_by=move.actor,
        changed_at=move.at,
        reason=move.reason,
    )
    return _envelope(after, data)


def _details(person: Person, referral: Referral, geography: Geography) -> PersonDetails:
    return person_details(
        person,
        geography,
        neighbourhood=referral.neighbourhood,
        borough=referral.borough,
        imd_quintile=referral.imd_quintile,
    )


def person_details(
    person: Person,
    geography: Geography,
    *,
    neighbourhood: str | None,
    borough: str | None,
    imd_quintile: int | None,
) -> PersonDetails:
    """The person as the person events describe them, placed where the front door placed
    them."""
    place = geography.postcode(person.postcode) if person.postcode else None
    return PersonDetails(
        nhs_number=person.nhs_number,
        given_name=person.given_name,
        family_name=person.family_name,
        birth_date=person.birth_date,
        sex=person.sex.value if person.sex else None,
        gender_identity=person.gender_identity,
        postcode=person.postcode,
        lsoa=place.lsoa if place else None,
        gp_practice_code=person.gp_practice_code,
        neighbourhood=neighbourhood,
        borough=borough,
        imd_quintile=imd_quintile,
        ethnicity_code=person.ethnicity_code,
        preferred_language=person.preferred_language,
        interpreter_needed=person.interpreter_needed,
        phone=person.phone,
        email=person.email,
    )


def person_registered(
    person: Person, referral: Referral, geography: Geography, *, version: int
) -> CloudEvent:
    data = PersonRegisteredV1(
        person_id=person.person_id,
        person=_details(person, referral, geography),
        referral_id=referral.id,
        registered_at=referral.received_at,
    )
    return new_event(
        data,
        subject=str(person.person_id),
        person_id=person.person_id,
        neighbourhood=referral.neighbourhood,
        sequence=version,
    )


def person_updated(
    person: Person,
    referral: Referral,
    geography: Geography,
    *,
    changed: list[str],
    version: int,
) -> CloudEvent:
    data = PersonUpdatedV1(
        person_id=person.person_id,
        person=_details(person, referral, geography),
        changed=changed,
        referral_id=referral.id,
        updated_at=referral.received_at,
    )
    return new_event(
        data,
        subject=str(person.person_id),
        person_id=person.person_id,
        neighbourhood=referral.neighbourhood,
        sequence=version,
    )


def sla_breached(referral: Referral, *, at: datetime) -> CloudEvent:
    data = ReferralSlaBreachedV1(
        referral_id=referral.id,
        person_id=referral.person.person_id,
        urgency=referral.urgency.value,
        status=referral.status.value,
        neighbourhood=referral.neighbourhood,
        borough=referral.borough,
        received_at=referral.received_at,
        triage_due_at=referral.triage_due_at,
        breached_at=at,
    )
    # The referral's version does not move: the breach is an observation, not a change.
    return _envelope(referral, data)
