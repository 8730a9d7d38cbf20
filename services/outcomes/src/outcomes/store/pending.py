"""Events applied together when their unit of work commits.

The consumer hands a run of events (up to a poll) to the handlers in one unit of work.
Each handler only notes its event, with the rows it will touch; at commit those rows are
fetched in one query per table and the events applied in the order they came, so a run
costs a handful of queries instead of a lookup per event, and applying them one by one
or in any runs gives the same rows. Then every unit of the people concerned gets their
fields copied afresh (``dimensions``), in a few statements for the whole run, and the
indicator tallies move by what those people's units count for now less what they counted
for before the run (``tallies``).

The work runs in the session's ``before_commit`` hook: under SQLAlchemy's asyncio
extension that hook runs inside the commit's greenlet, where the session may still query.
A failure there fails the commit, and the consumer applies the run's events one by one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from carethread.db import UnitOfWork
from outcomes.store import dimensions, merges, tallies
from outcomes.store.rows import Rows, keys_by_model
from outcomes.store.tables import (
    CarePlanFactRow,
    CareTeamMemberRow,
    DataOptOutRow,
    GoalFactRow,
    OverdueActionRow,
    PersonRow,
    ReferralFactRow,
)

PENDING = "outcomes.pending_events"
MERGES = "outcomes.pending_merges"
PEOPLE = "outcomes.people_to_refresh"
OPT_OUTS = "outcomes.opt_outs_to_refresh"
# Beyond this many people (a national opt-out list loaded), one pass over every unit is
# cheaper than statements per chunk of people.
EVERYONE_FROM = 20_000
Apply = Callable[[Rows], None]


@dataclass(frozen=True)
class Deferred:
    apply: Apply
    touches: tuple[tuple[type[Any], Any], ...]


def _info(uow: UnitOfWork) -> dict[Any, Any]:
    sync = uow.session.sync_session
    if not event.contains(sync, "before_commit", _before_commit):
        event.listen(sync, "before_commit", _before_commit)
    return sync.info


def defer(uow: UnitOfWork, apply: Apply, *touches: tuple[type[Any], Any]) -> None:
    """Apply ``apply`` when ``uow`` commits, having fetched the rows in ``touches``
    (model and primary key) with the rest of the run's."""
    _info(uow).setdefault(PENDING, []).append(Deferred(apply, touches))


def merge_on_commit(uow: UnitOfWork, merge: merges.Merge) -> None:
    """Apply ``merge`` when ``uow`` commits, before the run's other events."""
    _info(uow).setdefault(MERGES, []).append(merge)


def refresh_people_on_commit(uow: UnitOfWork, people: Iterable[uuid.UUID]) -> None:
    """Units of these people were written outside the handlers: refresh the copies of
    their fields on their units when ``uow`` commits."""
    _info(uow).setdefault(PEOPLE, set()).update(people)


async def track_people(uow: UnitOfWork, people: Iterable[uuid.UUID]) -> None:
    """Units of these people are about to be written outside the handlers: call before
    writing them, so the tallies move by the difference when ``uow`` commits."""
    _info(uow)
    chosen = set(people)
    await uow.session.run_sync(lambda session: tallies.track(session, chosen))


async def lock_people(uow: UnitOfWork, people: Iterable[uuid.UUID]) -> None:
    """Take the writers' lock on these people (PostgreSQL) until ``uow`` ends: a merge of
    one of them committed meanwhile is then seen."""
    chosen = set(people)
    await uow.session.run_sync(lambda session: tallies.lock_people(session, chosen))


def _people_concerned(wanted: dict[type[Any], set[Any]], rows: Rows) -> set[uuid.UUID]:
    """Everyone whose units the run may change: the people its events name, and the
    people of the units they touch."""
    people = set(wanted.get(PersonRow, ())) | set(wanted.get(DataOptOutRow, ()))
    units: tuple[type[Any], ...] = (ReferralFactRow, GoalFactRow, OverdueActionRow)
    for model in units:
        people |= {row.person_id for row in rows.found(model)}
    return people


# Tables keyed by a person id (the first column of a composite key). Opt-outs are not
# among them: each stays under the id it was stated for (``store.merges``).
_PERSON_KEYED = (PersonRow, CarePlanFactRow)


def _people_named(pending: list[Deferred]) -> set[uuid.UUID]:
    named: set[uuid.UUID] = set()
    for d in pending:
        for model, key in d.touches:
            if model in _PERSON_KEYED or model is DataOptOutRow:
                named.add(key)
            elif model is CareTeamMemberRow:
                named.add(key[0])
    return named


def _now(touch: tuple[type[Any], Any], rows: Rows) -> tuple[type[Any], Any]:
    """A touch with the person's id as it is now."""
    model, key = touch
    if model in _PERSON_KEYED:
        return model, rows.now(key)
    if model is CareTeamMemberRow:
        return model, (rows.now(key[0]), key[1])
    return touch


def _load(session: Session, pending: list[Deferred], found: list[merges.Merge]) -> Rows:
    """The run's rows, its merges applied first; every merged id its events name stands
    for the person it is now."""
    rows = Rows(session)
    named = _people_named(pending) | merges.people_of(found)
    # Lock before reading who was merged into whom: a merge committed meanwhile by another
    # consumer is then seen. (The people merged into are locked after, out of key order;
    # should two consumers deadlock there, PostgreSQL ends one, whose run is retried.)
    tallies.lock_people(session, named)
    merged = merges.apply_merges(session, rows, found) if found else set()
    rows.know_aliases(merges.aliases_around(session, named))
    survivors = set(rows.aliases.values()) - named
    tallies.lock_people(session, survivors)
    locked = named | survivors
    if rows.aliases:
        wanted = keys_by_model(_now(t, rows) for d in pending for t in d.touches)
        # Every id of the run's merged people, for their opt-outs.
        for p in rows.merged_into:
            wanted[DataOptOutRow] |= rows.ids_of(p)
    else:
        wanted = keys_by_model(t for d in pending for t in d.touches)
    for model, keys in wanted.items():
        rows.load(model, keys)
    tallies.track(session, _people_concerned(wanted, rows) | merged, locked)
    rows.merged_people = merged
    return rows


def refresh_opt_outs_on_commit(uow: UnitOfWork, people: Iterable[uuid.UUID]) -> None:
    """These people's opt-out was written outside the handlers."""
    _info(uow).setdefault(OPT_OUTS, set()).update(people)


def _before_commit(session: Session) -> None:
    pending: list[Deferred] = session.info.pop(PENDING, [])
    found: list[merges.Merge] = session.info.pop(MERGES, [])
    people: set[uuid.UUID] = session.info.pop(PEOPLE, set())
    opt_outs: set[uuid.UUID] = session.info.pop(OPT_OUTS, set())
    newcomers: set[uuid.UUID] = set()
    if pending or found:
        with session.no_autoflush:
            rows = _load(session, pending, found)
            for d in pending:
                d.apply(rows)
        # Units made in the run got their copies as they were made; refreshed here are
        # the units of people whose row changed, or who are new (and may have units from
        # before, made while we did not know them), or whose opt-out changed, or who
        # were merged (their units changed hands).
        created, changed = rows.written(PersonRow)
        people |= changed | rows.merged_people
        newcomers = created - people
        opt_created, opt_changed = rows.written(DataOptOutRow)
        opt_outs |= opt_created | opt_changed
    if opt_outs and len(people) + len(opt_outs) < EVERYONE_FROM:
        # An opt-out of a merged id is its person's now.
        opt_outs |= set(merges.aliases_around(session, opt_outs).values())
    if len(people) + len(opt_outs) >= EVERYONE_FROM:
        session.flush()
        dimensions.refresh_all(session)
        tallies.forget(session)
        tallies.rebuild(session)
        return
    if people or newcomers or opt_outs:
        # Units not yet tracked have not changed so far in this transaction.
        tallies.track(session, people | newcomers | opt_outs)
        session.flush()
        dimensions.refresh(session, people)
        dimensions.refresh(session, newcomers, dimensions.UNITS_BEFORE_PERSON)
        dimensions.refresh_opt_outs(session, opt_outs)
    tallies.settle(session)
