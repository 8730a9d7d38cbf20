"""A poll's changes to the view, applied together when its unit of work commits.

The consumer applies a poll's events in one transaction, calling each handler in turn. A
handler here only says what its event changes — which row (table and key), how that row
starts if the view has none yet, and what to do to it — adds its timeline entry and names
the person whose caseload line to recompute. At commit the poll reads every row it
changes with one statement per table, runs the changes on plain records in the order the
events came, and writes back only the rows that changed, with one upsert per table and one
insert for the timeline; then the touched people's lines are recomputed once each
(``store.projection``). A round of statements per poll instead of several per event.

The hook is the session's ``before_commit``: under SQLAlchemy's asyncio extension it runs
inside the commit's greenlet, where the session may still execute statements."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from operator import attrgetter
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Table, event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from carethread.db import among, on_postgres
from mdt.store.merges import Merge, aliases_of, apply_merges
from mdt.store.projection import refresh
from mdt.store.shared_rows import SourceApplied, count_changes, merge_freshness
from mdt.store.tables import (
    CarePlanRow,
    CareTeamMemberRow,
    CaseloadReferralRow,
    MdtBase,
    PersonSnapshotRow,
    PlanActionRow,
    PlanGoalRow,
    TimelineEntryRow,
)
from mdt.store.writes import chunks, table_of, upsert

POLL = "mdt.poll"
# A stored row as a change sees it: its columns as attributes.
Record = SimpleNamespace


@dataclass(frozen=True)
class _Change:
    table: Table
    key: Any
    bare: dict[str, Any]  # the row's columns if the view has none yet
    apply: Callable[[Record], None]


@dataclass
class Poll:
    begun: datetime = field(default_factory=lambda: datetime.now(UTC))  # when it was applied
    changes: list[_Change] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    people: set[uuid.UUID] = field(default_factory=set)
    sources: dict[str, SourceApplied] = field(default_factory=dict)
    merges: list[Merge] = field(default_factory=list)

    def change(
        self, table: type[MdtBase], key: Any, apply: Callable[[Record], None], **bare: Any
    ) -> None:
        """Run ``apply`` on the row ``key`` of ``table`` at commit, after the changes of
        the events before this one; a row the view lacks starts as ``bare`` (other
        columns empty)."""
        self.changes.append(_Change(table_of(table), key, bare, apply))

    def add_to_timeline(self, **entry: Any) -> None:
        self.timeline.append(entry)

    def applied(self, source: str, event_id: uuid.UUID, event_time: datetime) -> None:
        """Count an event of ``source`` in the view's freshness."""
        counted = self.sources.get(source)
        if counted is None:
            counted = self.sources[source] = SourceApplied(event_id, event_time)
        counted.add(event_id, event_time)

    def refresh(self, person_id: uuid.UUID) -> None:
        """Recompute this person's caseload line once the poll's changes are written."""
        self.people.add(person_id)

    def merge(self, merge: Merge) -> None:
        """Make ``merge.merged_person_id`` one person with ``merge.person_id``, before
        the poll's other changes are written (``store.merges``)."""
        self.merges.append(merge)
        self.people.update((merge.merged_person_id, merge.person_id))


def poll(session: AsyncSession) -> Poll:
    """The changes gathered so far in this session's transaction."""
    sync = session.sync_session
    current: Poll | None = sync.info.get(POLL)
    if current is None:
        current = sync.info[POLL] = Poll()
        if not event.contains(sync, "before_commit", _apply_poll):
            event.listen(sync, "before_commit", _apply_poll)
            event.listen(sync, "after_rollback", _forget_poll)
    return current


def _forget_poll(session: Session) -> None:
    session.info.pop(POLL, None)


# Two consumers of the view's group may hold events of one person at once: a person's
# events come on several topics, whose partitions are dealt to consumers separately. So
# before reading any of a poll's rows, its transaction takes a lock per person it touches,
# in key order (no deadlock), held to commit: a consumer holding another's person waits
# for it to commit, then reads what it wrote. (SQLite runs one writer at a time anyway.)
_LOCK_PEOPLE = text(
    "SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS BIGINT[])) AS t(k) ORDER BY k"
)


def _lock_key(person_id: uuid.UUID) -> int:
    """A signed 64-bit advisory-lock key: half the person's id."""
    return int.from_bytes(person_id.bytes[:8], "big", signed=True)


def _apply_poll(session: Session) -> None:
    pending: Poll | None = session.info.pop(POLL, None)
    if pending is None:
        return
    locked = _lock_people(session, pending.people, _shared_rows(pending.changes))
    moved = apply_merges(session, pending.merges) if pending.merges else {}
    aliases = aliases_of(session, pending.people)
    if aliases:
        # A merge another consumer committed while this one waited for its locks: the
        # people it merged into are locked now. (Out of key order, so two consumers could
        # deadlock here; PostgreSQL ends one, whose poll is then retried.)
        _lock_people(session, set(aliases.values()) - locked)
        pending = _merged_people(pending, aliases)
    _write_changes(session, pending.changes)
    if pending.timeline:
        session.execute(insert(table_of(TimelineEntryRow)), pending.timeline)
    # UUIDs compare by their ``int``; sorting by it skips UUID's own (slow) comparisons.
    moved.update(refresh(session, sorted(pending.people, key=attrgetter("int"))))
    # Last, the rows every consumer of the view writes (``store.shared_rows``).
    count_changes(session, moved, pending.begun)
    merge_freshness(session, pending.sources, pending.begun)


def _lock_people(
    session: Session, people: set[uuid.UUID], rows: Iterable[uuid.UUID] = ()
) -> set[uuid.UUID]:
    """Lock ``people``, whoever they were merged into (as far as this transaction can see
    yet) and ``rows``, in key order; return the people locked. (SQLite runs one writer at a
    time.)"""
    if not people or not on_postgres(session):
        return set()
    wanted = people | set(aliases_of(session, people).values())
    keys = sorted({_lock_key(key) for key in (*wanted, *rows)})
    session.execute(_LOCK_PEOPLE, {"keys": keys})
    return wanted


# Rows one merged person's events reach under both ids: a referral's, a plan's and its
# parts' events before the merge carry the old id and those after it the new one. Until
# the merge is applied, the two ids' locks do not keep two consumers apart, and both
# could start such a row from blank, the later upsert undoing the other's change; so a
# poll locks these rows' keys too, with its people's.
_SHARED_BY_IDS = frozenset(
    table_of(row)
    for row in (CaseloadReferralRow, CarePlanRow, PlanGoalRow, PlanActionRow, CareTeamMemberRow)
)


def _shared_rows(changes: Iterable[_Change]) -> set[uuid.UUID]:
    return {change.key for change in changes if change.table in _SHARED_BY_IDS}


_SNAPSHOT = table_of(PersonSnapshotRow)


def _merged_people(pending: Poll, aliases: dict[uuid.UUID, uuid.UUID]) -> Poll:
    """The poll with every merged person id replaced by the id it merged into: in the rows
    a change starts from, the person snapshot's key, the timeline and the lines to
    recompute."""

    def now(person_id: uuid.UUID) -> uuid.UUID:
        return aliases.get(person_id, person_id)

    def mapped(change: _Change) -> _Change:
        if change.table is _SNAPSHOT:
            return replace(change, key=now(change.key))
        if "person_id" in change.bare:
            return replace(change, bare={**change.bare, "person_id": now(change.bare["person_id"])})
        return change

    changes = [mapped(change) for change in pending.changes]
    timeline = [{**entry, "person_id": now(entry["person_id"])} for entry in pending.timeline]
    return replace(
        pending, changes=changes, timeline=timeline, people={now(p) for p in pending.people}
    )


def _write_changes(session: Session, changes: Sequence[_Change]) -> None:
    keys: dict[Table, set[Any]] = defaultdict(set)
    for change in changes:
        keys[change.table].add(change.key)
    stored = {table: _stored(session, table, wanted) for table, wanted in keys.items()}
    records: dict[tuple[Table, Any], Record] = {}
    for change in changes:
        record = records.get((change.table, change.key))
        if record is None:
            values = stored[change.table].get(change.key)
            if values is None:
                values = {**_blank(change.table), _key_name(change.table): change.key}
                values.update(change.bare)
            record = records[(change.table, change.key)] = Record(**values)
        change.apply(record)
    changed: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    for (table, key), record in records.items():
        if vars(record) != stored[table].get(key):
            changed[table].append(vars(record))
    for table in sorted(changed, key=lambda t: t.name):  # one order of locks, always
        upsert(session, table, sorted(changed[table], key=_by_key(table)))


def _stored(session: Session, table: Table, keys: Iterable[Any]) -> dict[Any, dict[str, Any]]:
    key = table.primary_key.columns[_key_name(table)]
    found: dict[Any, dict[str, Any]] = {}
    for chunk in chunks(list(keys)):
        for row in session.execute(select(table).where(among(session, key, chunk))).all():
            values = row._asdict()
            found[values[key.name]] = values
    return found


def _by_key(table: Table) -> Callable[[dict[str, Any]], Any]:
    """Rows in key order, so two transactions writing the same rows lock them in one order."""
    name = _key_name(table)
    return lambda row: row[name].int if isinstance(row[name], uuid.UUID) else row[name]


# Both asked once per row a poll changes: a table's column collection is slow to walk.
@cache
def _key_name(table: Table) -> str:
    (column,) = table.primary_key.columns  # every table of the view has a one-column key
    return column.name


@cache
def _columns(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.columns)


def _blank(table: Table) -> dict[str, Any]:
    return dict.fromkeys(_columns(table))
