"""Loading and saving referrals."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    RowMapping,
    ScalarSelect,
    Select,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from carethread.db import UnitOfWork
from carethread.messaging.outbox import insert_at_flush
from referrals.domain.lifecycle import OPEN, Status
from referrals.domain.referral import (
    Destination,
    DestinationKind,
    Referral,
    Source,
    Urgency,
)
from referrals.domain.triage import Move
from referrals.store import people
from referrals.store.tables import InvolvementRow, LinkRow, ReferralRow, TransitionRow

if TYPE_CHECKING:
    from referrals.access import Visible


def columns(referral: Referral) -> dict[str, Any]:
    """The referral as its row's columns (all but who created it and its idempotency key)."""
    p = referral.person
    d = referral.destination
    return {
        "id": referral.id,
        "person_id": p.person_id,
        **people.person_columns(p),
        "referrer_role": referral.referrer_role,
        "consent_to_share": referral.consent_to_share,
        "neighbourhood": referral.neighbourhood,
        "borough": referral.borough,
        "imd_quintile": referral.imd_quintile,
        "source": referral.source.value,
        "urgency": referral.urgency.value,
        "reason_codes": list(referral.reason_codes),
        "story": referral.story,
        "referrer_org": referral.referrer_org,
        "referrer_name": referral.referrer_name,
        "status": referral.status.value,
        "version": referral.version,
        "received_at": referral.received_at,
        "triage_due_at": referral.triage_due_at,
        "triaged_at": referral.triaged_at,
        "status_changed_at": referral.status_changed_at,
        "claimed_by": referral.claimed_by,
        "destination": _destination_json(d),
        "triaged_late": _triaged_late(referral),
        "destination_kind": d.kind.value if d else None,
        "destination_id": d.id if d else None,
    }


def from_row(row: ReferralRow | Row[Any]) -> Referral:
    return Referral(
        id=row.id,
        person=people.from_row(row),
        source=Source(row.source),
        urgency=Urgency(row.urgency),
        reason_codes=tuple(row.reason_codes),
        story=row.story,
        referrer_org=row.referrer_org,
        referrer_name=row.referrer_name,
        neighbourhood=row.neighbourhood,
        borough=row.borough,
        imd_quintile=row.imd_quintile,
        status=Status(row.status),
        version=row.version,
        received_at=row.received_at,
        triage_due_at=row.triage_due_at,
        status_changed_at=row.status_changed_at,
        triaged_at=row.triaged_at,
        claimed_by=row.claimed_by,
        destination=_destination(row.destination),
        referrer_role=row.referrer_role,
        consent_to_share=bool(row.consent_to_share),
    )


def _destination_json(d: Destination | None) -> dict[str, str] | None:
    if d is None:
        return None
    out = {"kind": d.kind.value, "id": d.id}
    if d.name:
        out["name"] = d.name
    return out


def _destination(data: dict[str, str] | None) -> Destination | None:
    if data is None:
        return None
    return Destination(kind=DestinationKind(data["kind"]), id=data["id"], name=data.get("name"))


def _triaged_late(referral: Referral) -> bool:
    return referral.triaged_at is not None and referral.triaged_at > referral.triage_due_at


def update_row(row: ReferralRow, referral: Referral) -> None:
    row.status = referral.status.value
    row.version = referral.version
    row.status_changed_at = referral.status_changed_at
    row.triaged_at = referral.triaged_at
    row.claimed_by = referral.claimed_by
    row.destination = _destination_json(referral.destination)
    row.destination_kind = referral.destination.kind.value if referral.destination else None
    row.triaged_late = _triaged_late(referral)
    row.destination_id = referral.destination.id if referral.destination else None


def transition_row(before: Referral | None, after: Referral, move: Move) -> TransitionRow:
    return TransitionRow(**transition_columns(before, after, move))


def transition_columns(before: Referral | None, after: Referral, move: Move) -> dict[str, Any]:
    return dict(
        referral_id=after.id,
        version=after.version,
        action=move.action.value,
        from_status=before.status.value if before else None,
        to_status=after.status.value,
        actor=move.actor,
        actor_org=move.actor_org,
        at=move.at,
        reason=move.reason,
        destination=_destination_json(move.destination),
        health_signoff=move.health_signoff,
        social_care_signoff=move.social_care_signoff,
    )


def insert_received(
    uow: UnitOfWork,
    referral: dict[str, Any],
    transition: dict[str, Any],
    links: Sequence[dict[str, Any]],
) -> None:
    """A new referral's row (every column but ``sla_breach_published_at``), its first status
    history entry and its links at the door, written at the unit of work's next flush with
    its outbox and audit rows (on PostgreSQL, all in one statement), the referral first:
    the others refer to it. Nothing in the request reads them back before."""
    insert_at_flush(uow, _REFERRAL_TABLE, referral)
    insert_at_flush(uow, _TRANSITION_TABLE, transition)
    for link in links:
        insert_at_flush(uow, _LINK_TABLE, link)


_REFERRAL_TABLE = cast(Table, ReferralRow.__table__)
_TRANSITION_TABLE = cast(Table, TransitionRow.__table__)
_LINK_TABLE = cast(Table, LinkRow.__table__)


async def history(session: AsyncSession, referral_id: uuid.UUID) -> list[TransitionRow]:
    rows = await session.scalars(
        select(TransitionRow)
        .where(TransitionRow.referral_id == referral_id)
        .order_by(TransitionRow.version)
    )
    return list(rows.all())


_BY_IDEMPOTENCY_KEY = select(cast(Table, ReferralRow.__table__)).where(
    ReferralRow.idempotency_key == bindparam("key")
)


async def by_idempotency_key(session: AsyncSession, key: str) -> Row[Any] | None:
    """The referral an idempotency key was used for, as its row's columns: intake asks on
    every request with a key (every FHIR message), and nearly always finds none."""
    return (await session.execute(_BY_IDEMPOTENCY_KEY, {"key": key})).first()


UNTRIAGED = (Status.RECEIVED.value, Status.IN_TRIAGE.value)
# The queue is read with Core statements on the table's own columns: ORM attributes in a
# statement would send it through the ORM's compile and loading steps for rows that are only
# ever turned into JSON.
REFERRAL = cast(Table, ReferralRow.__table__)
_R = REFERRAL.c
# The time the queue is read at, bound in its statements.
_NOW = bindparam("now", type_=_R.triage_due_at.type)


def status_in(statuses: tuple[str, ...] | None = None) -> ColumnElement[bool]:
    """``status IN (...)`` with the values written into the SQL, not bound: PostgreSQL can
    only use the partial indexes over the waiting statuses (referrals_0007) when it sees
    that the statuses asked for are among them, and a prepared statement's generic plan
    would not know the values. Without ``statuses`` they are given at execution
    (``statuses``), as the queue's statements, built once, take them."""
    values = list(statuses) if statuses is not None else None
    return _R.status.in_(bindparam("statuses", values, expanding=True, literal_execute=True))


def overdue_clause(now: datetime | ColumnElement[Any] = _NOW) -> ColumnElement[bool]:
    """Still waiting for triage past its due time (the index referrals_0007 holds)."""
    return and_(
        _R.triaged_at.is_(None),
        _R.status.in_(
            bindparam("untriaged", list(UNTRIAGED), expanding=True, literal_execute=True)
        ),
        _R.triage_due_at < now,
    )


def breached_clause(now: datetime | ColumnElement[Any] = _NOW) -> ColumnElement[bool]:
    """The SQL twin of ``sla.is_breached``: triaged late, or still waiting past due. The two
    halves never overlap (one is triaged, the other not), so each can be counted and paged
    apart, off its own partial index."""
    # Null-safe in both halves, so that NOT(clause) is exactly "not breached".
    return or_(_R.triaged_late, overdue_clause(now))


# What a line of the queue shows (api.schemas.ReferralRead): not the story, contact details
# or bookkeeping columns, which a page of 50 would otherwise carry for nothing.
QUEUE_COLUMNS = tuple(
    _R[name]
    for name in (
        "id", "person_id", "nhs_number", "given_name", "family_name", "birth_date", "sex",
        "postcode", "gp_practice_code", "ethnicity_code", "preferred_language",
        "interpreter_needed", "status", "urgency", "source", "reason_codes", "neighbourhood",
        "borough", "referrer_org", "referrer_name", "referrer_role", "consent_to_share",
        "received_at", "version", "triage_due_at", "triaged_at", "status_changed_at",
        "claimed_by", "destination", "probable_duplicate",
    )
)  # fmt: skip
SOONEST_DUE = (_R.triage_due_at, _R.id)


@dataclass(frozen=True)
class QueueFilter:
    statuses: tuple[str, ...] = ()
    borough: str | None = None
    neighbourhood: str | None = None
    urgency: str | None = None
    breached: bool | None = None
    received_before: datetime | None = None
    visible: Visible | None = None  # what the user may see (None: everything)


def _count(where: ColumnElement[bool]) -> ScalarSelect[int]:
    return select(func.count()).select_from(REFERRAL).where(where).scalar_subquery()


# Which filters a queue read has (their values aside), and the user's visibility shape.
_Shape = tuple[bool, bool, bool, bool, bool, tuple[bool, ...] | None, bool | None]


@dataclass(frozen=True)
class _Statements:
    page: Select[Any]  # a page of lines, each carrying the total
    total: Select[Any]  # the total alone, for a page past the end


# Built once per shape, values bound: building a page's statement (30 columns, a count,
# maybe two halves and their union) and working out its cache key cost more than running
# it through the compiled cache.
_QUEUE_STATEMENTS: dict[_Shape, _Statements] = {}


def _shape(f: QueueFilter) -> _Shape:
    return (
        bool(f.statuses),
        bool(f.borough),
        bool(f.neighbourhood),
        bool(f.urgency),
        bool(f.received_before),
        f.visible.shape if f.visible is not None else None,
        f.breached,
    )


def _queue_statements(f: QueueFilter) -> _Statements:
    where: list[ColumnElement[bool]] = []
    if f.statuses:
        where.append(status_in())
    if f.borough:
        where.append(_R.borough == bindparam("borough"))
    if f.neighbourhood:
        where.append(_R.neighbourhood == bindparam("neighbourhood"))
    if f.urgency:
        where.append(_R.urgency == bindparam("urgency"))
    if f.received_before:
        where.append(_R.received_at < bindparam("received_before"))
    if f.visible is not None:
        where.append(f.visible.clause())
    if f.breached:
        return _breached_statements(where)
    if f.breached is False:
        where.append(~breached_clause())
    matching = and_(*where) if where else true()
    total = _count(matching)
    page = (
        select(total.label("total"), *QUEUE_COLUMNS)
        .where(matching)
        .order_by(*SOONEST_DUE)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return _Statements(page, select(total))


def _breached_statements(where: list[ColumnElement[bool]]) -> _Statements:
    """Breached referrals as two disjoint halves, triaged late and overdue: counted and
    paged from one index each, then merged, rather than one OR that PostgreSQL can only
    answer by reading every breached row of the table."""
    halves = [and_(*where, _R.triaged_late), and_(*where, overdue_clause())]
    total = _count(halves[0]) + _count(halves[1])
    firsts = [
        select(*QUEUE_COLUMNS)
        .where(half)
        .order_by(*SOONEST_DUE)
        .limit(bindparam("page_end"))  # offset + limit: the page is among each half's first
        .subquery()
        for half in halves
    ]
    merged = union_all(*(select(first) for first in firsts)).subquery()
    page = (
        select(total.label("total"), merged)
        .order_by(merged.c.triage_due_at, merged.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return _Statements(page, select(total))


async def queue(
    session: AsyncSession, f: QueueFilter, *, now: datetime, limit: int, offset: int
) -> tuple[int, Sequence[RowMapping]]:
    """The front-door queue, most pressing first (soonest due), filtered: a page of
    :data:`QUEUE_COLUMNS`, and how many match in all.

    One round trip: the count rides along with each line of the page (PostgreSQL and SQLite
    work an uncorrelated scalar subquery out once); only a page past the end asks again."""
    shape = _shape(f)
    statements = _QUEUE_STATEMENTS.get(shape)
    if statements is None:
        statements = _QUEUE_STATEMENTS[shape] = _queue_statements(f)
    values: dict[str, Any] = {"now": now, "limit": limit, "offset": offset}
    if f.statuses:
        values["statuses"] = list(f.statuses)
    if f.borough:
        values["borough"] = f.borough
    if f.neighbourhood:
        values["neighbourhood"] = f.neighbourhood
    if f.urgency:
        values["urgency"] = f.urgency
    if f.received_before:
        values["received_before"] = f.received_before
    if f.visible is not None:
        values.update(f.visible.values)
    if f.breached:
        values["page_end"] = offset + limit
    rows = (await session.execute(statements.page, values)).mappings().all()
    if rows:
        return rows[0]["total"], rows
    # A page past the end has no row to carry the total: counted apart.
    return await session.scalar(statements.total, values) or 0, rows


# Matching at the door runs on every intake: its statements are built once, on the table's
# columns, with the values bound.
_PERSON_WITHOUT_NHS_NUMBER = (
    select(_R.person_id)
    .where(_R.match_key == bindparam("match_key"), _R.nhs_number.is_(None))
    .order_by(_R.received_at)
    .limit(1)
)


async def person_without_nhs_number(session: AsyncSession, match_key: str) -> uuid.UUID | None:
    person_id: uuid.UUID | None = await session.scalar(
        _PERSON_WITHOUT_NHS_NUMBER, {"match_key": match_key}
    )
    return person_id


def _open_referrals(same_person: ColumnElement[bool]) -> Select[Any]:
    return (
        select(_R.id, _R.nhs_number, _R.status, _R.received_at, _R.reason_codes)
        .where(same_person, _R.status.in_([s.value for s in OPEN]))
        .order_by(_R.received_at)
        .limit(50)
    )


_OPEN_FOR_PERSON = _open_referrals(_R.person_id == bindparam("person_id"))
_OPEN_FOR_PERSON_OR_MATCH = _open_referrals(
    or_(_R.person_id == bindparam("person_id"), _R.match_key == bindparam("match_key"))
)


async def open_referrals_for(
    session: AsyncSession, person_id: uuid.UUID, match_key: str | None
) -> Sequence[RowMapping]:
    """Open referrals for this person (same person id, or the same demographic match key):
    what matching at the door compares, not whole rows."""
    if match_key:
        found = await session.execute(
            _OPEN_FOR_PERSON_OR_MATCH, {"person_id": person_id, "match_key": match_key}
        )
    else:
        found = await session.execute(_OPEN_FOR_PERSON, {"person_id": person_id})
    rows: Sequence[RowMapping] = found.mappings().all()
    return rows


async def involvement_of(session: AsyncSession, person_id: uuid.UUID) -> list[InvolvementRow]:
    """The person's current care team, key worker first."""
    rows = await session.scalars(
        select(InvolvementRow)
        .where(InvolvementRow.person_id == person_id, InvolvementRow.active.is_(True))
        .order_by(InvolvementRow.key_worker.desc(), InvolvementRow.changed_at)
    )
    return list(rows.all())


async def links_for(session: AsyncSession, referral_id: uuid.UUID) -> list[tuple[LinkRow, str]]:
    """Links in both directions, with the other referral's current status."""
    forward = (
        select(LinkRow, ReferralRow.status)
        .join(ReferralRow, ReferralRow.id == LinkRow.linked_referral_id)
        .where(LinkRow.referral_id == referral_id)
    )
    backward = (
        select(LinkRow, ReferralRow.status)
        .join(ReferralRow, ReferralRow.id == LinkRow.referral_id)
        .where(LinkRow.linked_referral_id == referral_id)
    )
    out = [(link, status) for link, status in (await session.execute(forward)).all()]
    out += [(link, status) for link, status in (await session.execute(backward)).all()]
    return out


async def unannounced_breaches(
    session: AsyncSession, now: datetime, *, limit: int, skip_locked: bool
) -> list[ReferralRow]:
    """Untriaged referrals past their due time whose breach has not been published yet,
    locked so that two watchers (two replicas) never announce the same one."""
    rows = await session.scalars(
        select(ReferralRow)
        .where(
            ReferralRow.sla_breach_published_at.is_(None),
            ReferralRow.triaged_at.is_(None),
            ReferralRow.status.in_(UNTRIAGED),
            ReferralRow.triage_due_at < now,
        )
        .order_by(ReferralRow.triage_due_at)
        .limit(limit)
        .with_for_update(skip_locked=skip_locked)
    )
    return list(rows.all())
