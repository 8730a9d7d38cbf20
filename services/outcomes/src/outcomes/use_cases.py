"""Use cases shared by the JSON API and the FHIR facade. They add rows to the unit of work
and flush; the entrypoint commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from carethread.auth import Principal, record_access
from carethread.db import UnitOfWork
from carethread.errors import Conflict, Forbidden, InvalidInput
from carethread.events.outcomes import OutcomeMeasureRecordedV1
from carethread.messaging import add_to_outbox
from outcomes import events
from outcomes.api.schemas import MeasureCreate
from outcomes.domain import access
from outcomes.domain.change import Pair, pair
from outcomes.domain.instruments import Answers, InvalidAnswers, Scored, instrument
from outcomes.store import measures, merges, people
from outcomes.store.pending import lock_people
from outcomes.store.tables import CareTeamMemberRow, MeasureRow, ReferralFactRow

SERVICE = "outcomes"


async def relationship(
    uow: UnitOfWork, principal: Principal, person_id: uuid.UUID
) -> access.Relationship:
    team = await uow.session.scalars(
        select(CareTeamMemberRow).where(
            CareTeamMemberRow.person_id == person_id, CareTeamMemberRow.active.is_(True)
        )
    )
    referrals = await uow.session.scalars(
        select(ReferralFactRow).where(
            ReferralFactRow.person_id == person_id,
            ReferralFactRow.status.not_in(sorted(access.CLOSED_REFERRAL)),
        )
    )
    caller = principal.as_caller()
    related = access.relationship(
        caller,
        str(person_id),
        [access.TeamMember(m.team, m.organisation) for m in team],
        [access.OpenReferral(r.referrer_org, r.destination_id) for r in referrals],
    )
    # A person's token may name an id of theirs merged into this one since.
    if (
        related is access.Relationship.NONE
        and caller.is_person
        and caller.sub in {str(m) for m in await merges.merged_ids(uow, person_id)}
    ):
        return access.Relationship.SELF
    return related


async def _refuse(
    uow: UnitOfWork, principal: Principal, person_id: uuid.UUID, action: str, detail: str
) -> Forbidden:
    await record_access(
        uow,
        principal,
        service=SERVICE,
        action=action,
        resource_type="OutcomeMeasure",
        resource_id=None,
        person_id=person_id,
        outcome="denied",
    )
    await uow.commit()  # the refused attempt is audited, and nothing else is written
    return Forbidden(detail)


NO_RELATIONSHIP = (
    "Only the person's care team, the teams of an open referral for them (referrer, "
    "receiving team or neighbourhood, the front door) and the person themselves may see or "
    "record their outcome measures."
)


@dataclass(frozen=True)
class Recorded:
    row: MeasureRow
    replayed: bool = False


def _answers(body: MeasureCreate) -> Answers:
    return Answers(items=tuple(body.answers), external=body.scores, weights=body.weights)


def score_request(body: MeasureCreate) -> Scored:
    try:
        return instrument(body.instrument).score(_answers(body))
    except InvalidAnswers as e:
        raise InvalidInput.at(e.field, str(e)) from e


async def record_measure(
    uow: UnitOfWork,
    body: MeasureCreate,
    principal: Principal,
    *,
    now: datetime,
    idempotency_key: str | None = None,
) -> Recorded:
    if idempotency_key is not None:
        earlier = await measures.by_idempotency_key(uow, idempotency_key)
        if earlier is not None:
            if earlier.recorded_by != principal.sub:
                raise Conflict("This Idempotency-Key was used for another user's measure.")
            return Recorded(earlier, replayed=True)
    scored = score_request(body)
    taken_at = (body.recorded_at or now).astimezone(UTC)  # stored and shown in UTC
    if taken_at > now:
        raise InvalidInput.at("recorded_at", "a measure cannot be recorded as taken in the future")
    # An id merged into another (an NHS number trace): the measure is the person's now.
    # Locked first, so a merge being applied meanwhile is waited for, then seen.
    await lock_people(uow, [body.person_id])
    person_id = await merges.current_id(uow, body.person_id)
    person = await people.get(uow, person_id)
    if person is None:
        raise InvalidInput.at(
            "person_id",
            f"unknown person {body.person_id}: the outcomes service has not heard of them "
            "from the front door or a care plan yet",
        )
    related = await relationship(uow, principal, person_id)
    if not access.may_record(related):
        raise await _refuse(uow, principal, person_id, "create", NO_RELATIONSHIP)
    row = MeasureRow(
        id=uuid.uuid4(),
        person_id=person_id,
        instrument=scored.instrument.value,
        answers=list(body.answers),
        external=dict(body.scores) if body.scores else None,
        weights=list(body.weights) if body.weights else None,
        scores=[{"scale": s.scale, "value": s.value, "band": s.band} for s in scored.scores],
        context_kind=body.context.kind,
        context_id=body.context.id,
        recorded_at=taken_at,
        recorded_by=principal.sub,
        recorded_by_name=principal.name,
        recorded_by_org=principal.org,
        idempotency_key=idempotency_key,
        event_id=uuid.uuid4(),
    )
    uow.session.add(row)
    await uow.session.flush()
    change = await measures.rebuild_change(uow, person_id, instrument(body.instrument))
    event = events.measure_recorded(row, scored, change, person.neighbourhood)
    row.event_id = event.id
    await add_to_outbox(uow, event, topic=OutcomeMeasureRecordedV1.topic, key=str(person_id))
    await record_access(
        uow,
        principal,
        service=SERVICE,
        action="create",
        resource_type="OutcomeMeasure",
        resource_id=str(row.id),
        person_id=person_id,
        details={"relationship": related.value, "instrument": row.instrument},
    )
    await uow.session.flush()
    return Recorded(row)


@dataclass(frozen=True)
class PersonResults:
    person_id: uuid.UUID  # the id asked for, or the id it was merged into
    rows: list[MeasureRow]
    pairs: list[tuple[str, Pair]]


async def person_measures(
    uow: UnitOfWork, asked_for: uuid.UUID, principal: Principal
) -> PersonResults:
    person_id = await merges.current_id(uow, asked_for)
    related = await relationship(uow, principal, person_id)
    if not access.may_read(related):
        raise await _refuse(uow, principal, person_id, "read", NO_RELATIONSHIP)
    rows = await measures.for_person(uow, person_id)
    pairs = []
    for name in sorted({r.instrument for r in rows}):
        taken = [measures.taken(r) for r in rows if r.instrument == name]
        found = pair(instrument(name), taken)
        if found is not None:
            pairs.append((name, found))
    await record_access(
        uow,
        principal,
        service=SERVICE,
        action="read",
        resource_type="OutcomeMeasure",
        resource_id=None,
        person_id=person_id,
        details={"relationship": related.value, "measures": len(rows)},
    )
    return PersonResults(person_id, rows, pairs)
