"""Use cases, shared by the HTTP API and (later) the FHIR facade and event handlers.

They add rows to the unit of work and flush; the entrypoint commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from carethread.auth import Principal, record_access
from carethread.db import UnitOfWork
from carethread.errors import Conflict, Forbidden, InvalidInput, NotFound
from carethread.events import CloudEvent, topics
from carethread.events.referrals import ReferralReceivedV1
from carethread.messaging import add_to_outbox
from carethread.nhs import person_id_for_nhs_number
from carethread.reference import Geography
from referrals import access, events
from referrals.api.schemas import ReferralCreate
from referrals.domain.lifecycle import Action, Status
from referrals.domain.matching import (
    Candidate,
    DemographicKey,
    LinkKind,
    MatchedOn,
    demographic_key,
    link_kind,
)
from referrals.domain.person import Person, merged
from referrals.domain.referral import Referral, ReferralRejected, receive
from referrals.domain.sla import SlaTargets, triage_due
from referrals.domain.triage import Move
from referrals.store import arrival, people
from referrals.store import referrals as store
from referrals.store.tables import ReferralRow

SERVICE = "referrals"


@dataclass(frozen=True)
class Received:
    referral: Referral
    event_id: uuid.UUID
    replayed: bool = False  # an idempotent repeat: nothing new was written
    probable_duplicate: bool = False  # flagged at the door, as the referral's row says


def _intake(referral: Referral, principal: Principal) -> Move:
    return Move(
        action=Action.RECEIVE,
        actor=principal.sub,
        actor_org=referral.referrer_org,
        at=referral.received_at,
    )


async def _original(uow: UnitOfWork, row: Row[Any], principal: Principal) -> Received:
    if row.created_by != principal.sub and row.referrer_org != principal.org:
        raise Conflict("This Idempotency-Key was used for another referrer's referral.")
    if row.received_event_id is None:  # received before event ids were kept on the row
        raise Conflict("This Idempotency-Key was already used; the original cannot be shown.")
    return Received(
        store.from_row(row),
        row.received_event_id,
        replayed=True,
        probable_duplicate=bool(row.probable_duplicate),
    )


async def receive_referral(
    uow: UnitOfWork,
    request: ReferralCreate,
    principal: Principal,
    geography: Geography,
    *,
    now: datetime,
    targets: SlaTargets,
    idempotency_key: str | None = None,
) -> Received:
    """Record a referral once: a repeated ``idempotency_key`` returns the original."""
    if idempotency_key is not None:
        existing = await store.by_idempotency_key(uow.session, idempotency_key)
        if existing is not None:
            return await _original(uow, existing, principal)
    p = request.person
    if p.gp_practice_code and p.gp_practice_code not in geography.practices:
        raise InvalidInput.at(
            "person.gp_practice_code", f"unknown GP practice code {p.gp_practice_code}"
        )
    place = geography.postcode(p.postcode) if p.postcode else None
    key = demographic_key(p.given_name, p.family_name, p.birth_date, p.postcode)
    match_key = key_text(key)
    person = Person(
        # Without an NHS number, a provisional id: the one an earlier referral for the same
        # person (by the documented demographic match) gave them is looked up with their row.
        person_id=person_id_for_nhs_number(p.nhs_number) if p.nhs_number else uuid.uuid4(),
        nhs_number=p.nhs_number,
        given_name=p.given_name,
        family_name=p.family_name,
        birth_date=p.birth_date,
        postcode=place.postcode if place else p.postcode,
        gp_practice_code=p.gp_practice_code,
        sex=p.sex,
        gender_identity=p.gender_identity,
        ethnicity_code=p.ethnicity_code.upper() if p.ethnicity_code else None,
        preferred_language=p.preferred_language,
        interpreter_needed=p.interpreter_needed,
        phone=p.contact.phone if p.contact else None,
        email=p.contact.email if p.contact else None,
    )
    neighbourhood = geography.neighbourhood_for(p.gp_practice_code, p.postcode)
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
            neighbourhood=neighbourhood,
            borough=borough_for(geography, place.borough if place else None, neighbourhood),
            imd_quintile=geography.imd_quintile_for(p.postcode),
            now=now,
            triage_due_at=triage_due(now, request.urgency, targets),
            referrer_role=request.referrer.role,
            consent_to_share=request.consent_to_share,
        )
    except ReferralRejected as e:
        raise InvalidInput.at(e.field, str(e)) from e
    stored, open_rows = await _arrive(uow, person, match_key, now)
    if stored.person.person_id != person.person_id:
        person = replace(person, person_id=stored.person.person_id)
        referral = replace(referral, person=person)
    event = events.referral_received(referral)
    links = _links(referral, open_rows)
    person_event = await _record_person(uow, referral, stored, geography, now)
    probable_duplicate = any(k is LinkKind.PROBABLE_DUPLICATE for _, k, _ in links)
    store.insert_received(
        uow,
        {
            **store.columns(referral),
            "created_by": principal.sub,
            "idempotency_key": idempotency_key,
            "received_event_id": event.id,
            "match_key": match_key,
            "probable_duplicate": probable_duplicate,
        },
        store.transition_columns(None, referral, _intake(referral, principal)),
        [
            {
                "referral_id": referral.id,
                "linked_referral_id": other_id,
                "kind": kind.value,
                "matched_on": matched_on.value,
            }
            for other_id, kind, matched_on in links
        ],
    )
    # The events in the order they happened: the person's first, then the referral's.
    if person_event is not None:
        await add_to_outbox(uow, person_event, topic=topics.REFERRALS, key=str(person.person_id))
    await add_to_outbox(uow, event, topic=ReferralReceivedV1.topic, key=str(person.person_id))
    await record_access(
        uow,
        principal,
        service=SERVICE,
        action="create",
        resource_type="Referral",
        resource_id=str(referral.id),
        person_id=person.person_id,
    )
    await uow.session.flush()
    return Received(referral, event.id, probable_duplicate=probable_duplicate)


def borough_for(
    geography: Geography, lives_in: str | None, neighbourhood: str | None
) -> str | None:
    """Where they live; for someone with no known postcode, their neighbourhood's borough."""
    if lives_in:
        return lives_in
    place = geography.neighbourhoods.get(neighbourhood) if neighbourhood else None
    return place.borough or None if place else None


async def _arrive(
    uow: UnitOfWork, person: Person, match_key: str | None, now: datetime
) -> tuple[people.Stored, Sequence[Mapping[str, Any]]]:
    """The person as stored, their row locked to commit (under the id an earlier referral
    gave them, when they have no NHS number), and their open referrals (same person id, or
    the same demographic match key): one round trip on PostgreSQL."""
    if uow.is_postgres:
        arrived = await arrival.arrive(uow, person, match_key, now)
        return arrived.stored, arrived.open_referrals
    if person.nhs_number is None and match_key:
        earlier = await store.person_without_nhs_number(uow.session, match_key)
        if earlier is not None:
            person = replace(person, person_id=earlier)
    open_rows = await store.open_referrals_for(uow.session, person.person_id, match_key)
    return await people.insert_or_lock(uow, person, now), [dict(row) for row in open_rows]


async def _record_person(
    uow: UnitOfWork,
    referral: Referral,
    stored: people.Stored,
    geography: Geography,
    now: datetime,
) -> CloudEvent | None:
    """Keep the person record; the event telling the other services, if there is news:
    registered the first time, updated when this referral says something new about them."""
    incoming = referral.person
    if stored.created:
        return events.person_registered(incoming, referral, geography, version=stored.version)
    person, changed = merged(stored.person, incoming)
    if not changed:
        return None
    await people.save_changes(uow, person, now)
    return events.person_updated(
        person, referral, geography, changed=changed, version=stored.version + 1
    )


def key_text(key: DemographicKey | None) -> str | None:
    if key is None:
        return None
    return f"{key.given}|{key.family}|{key.birth_date.isoformat()}|{key.postcode}"


def _links(
    referral: Referral, open_rows: Sequence[Mapping[str, Any]]
) -> list[tuple[uuid.UUID, LinkKind, MatchedOn]]:
    out = []
    for row in open_rows:
        matched_on = (
            MatchedOn.NHS_NUMBER
            if referral.person.nhs_number and row["nhs_number"] == referral.person.nhs_number
            else MatchedOn.DEMOGRAPHICS
        )
        candidate = Candidate(
            referral_id=row["id"],
            status=Status(row["status"]),
            received_at=row["received_at"],
            reason_codes=tuple(row["reason_codes"]),
        )
        kind = link_kind(referral.reason_codes, referral.received_at, candidate)
        out.append((row["id"], kind, matched_on))
    return out


@dataclass(frozen=True)
class Link:
    referral_id: uuid.UUID
    status: str
    kind: str
    matched_on: str


async def linked_referrals(uow: UnitOfWork, referral_id: uuid.UUID) -> tuple[bool, list[Link]]:
    """Whether the referral was flagged a probable duplicate, and its links both ways."""
    row = await uow.session.get(ReferralRow, referral_id)
    flagged = bool(row and row.probable_duplicate)
    links = []
    for link, status in await store.links_for(uow.session, referral_id):
        other = link.linked_referral_id if link.referral_id == referral_id else link.referral_id
        links.append(Link(other, status, link.kind, link.matched_on))
    return flagged, links


async def read_referral(uow: UnitOfWork, referral_id: uuid.UUID, principal: Principal) -> Referral:
    row = await uow.session.get(ReferralRow, referral_id)
    if row is None:
        raise NotFound(f"No referral {referral_id}.")
    allowed = bool(access.relations(principal, row))
    await record_access(
        uow,
        principal,
        service=SERVICE,
        action="read",
        resource_type="Referral",
        resource_id=str(referral_id),
        person_id=row.person_id,
        outcome="success" if allowed else "denied",
    )
    if not allowed:
        await uow.commit()  # the denied attempt is audited too
        raise Forbidden(
            "Only the front door for the person's borough, the referring organisation, the "
            "person's GP practice and the team the referral went to may read this referral."
        )
    return store.from_row(row)
