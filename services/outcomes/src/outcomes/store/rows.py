"""The rows a consumer's run of events reads and writes, fetched in one query per table.

The handlers defer their work to the run's commit (see ``pending``); by then every row
the run will touch is known, so they are read with a few ``IN`` queries rather than a
lookup per event, and what the events change is written in the commit's one flush.
Lookups run synchronously: the commit hook runs inside SQLAlchemy's asyncio greenlet,
where the session may still query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from carethread.db import among

R = TypeVar("R")
CHUNK = 500  # keys per query: well inside every driver's parameter limit


def _key(model: type[Any], row: Any) -> Any:
    values = tuple(getattr(row, c.key) for c in inspect(model).primary_key)
    return values[0] if len(values) == 1 else values


def _lead(key: Any) -> Any:
    return key[0] if isinstance(key, tuple) else key


class Rows:
    """Rows by primary key (a tuple in the table's key order when it has several
    columns), with what is absent remembered too, so a row is never looked up twice."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._known: dict[tuple[type[Any], Any], Any] = {}
        self._deleted: set[tuple[type[Any], Any]] = set()
        # Merged person ids the run's events name, each with the id they are now; and
        # for each of those people, every id merged into them (``store.merges``).
        self.aliases: dict[UUID, UUID] = {}
        self.merged_into: dict[UUID, set[UUID]] = {}
        self.merged_people: set[UUID] = set()  # people the run's merges gave units to

    def know_aliases(self, aliases: dict[UUID, UUID]) -> None:
        self.aliases.update(aliases)
        for old, new in aliases.items():
            self.merged_into.setdefault(new, set()).add(old)

    def now(self, person_id: UUID) -> UUID:
        """The id the person has now: ``person_id`` unless it was merged into another."""
        return self.aliases.get(person_id, person_id)

    def ids_of(self, person_id: UUID) -> set[UUID]:
        """The person's id now and every id merged into it."""
        current = self.now(person_id)
        return {current, *self.merged_into.get(current, ())}

    def load(self, model: type[Any], keys: Iterable[Any]) -> None:
        """Fetch the rows of ``model`` with these keys (those not known to the run yet). A
        composite key is fetched by its first column, and the rest matched here."""
        wanted = {k for k in keys if (model, k) not in self._known}
        leads = sorted({_lead(k) for k in wanted}, key=str)
        column = inspect(model).primary_key[0]
        found: dict[Any, Any] = {}
        for start in range(0, len(leads), CHUNK):
            query = select(model).where(among(self.session, column, leads[start : start + CHUNK]))
            for row in self.session.scalars(query):
                found[_key(model, row)] = row
        for key in wanted:
            self._known[(model, key)] = found.get(key)

    def find(self, model: type[R], key: Any) -> R | None:
        if (model, key) not in self._known:  # not declared up front: looked up alone
            self._known[(model, key)] = self.session.get(model, key)
        found: R | None = self._known[(model, key)]
        return found

    def add(self, row: Any, key: Any) -> None:
        self.session.add(row)
        self._known[(type(row), key)] = row

    def delete(self, model: type[Any], key: Any) -> None:
        row = self.find(model, key)
        if row is not None:
            self.session.delete(row)
            self._deleted.add((model, key))
        self._known[(model, key)] = None

    def found(self, model: type[R]) -> list[R]:
        """The rows of ``model`` known to this run (loaded or added)."""
        return [row for (m, _), row in self._known.items() if m is model and row is not None]

    def written(self, model: type[Any]) -> tuple[set[Any], set[Any]]:
        """The keys of ``model`` rows this run created, and of those it changed (a net
        change of some column) or deleted."""
        created, changed = set(), {k for m, k in self._deleted if m is model}
        for (m, key), row in self._known.items():
            if m is not model or row is None:
                continue
            if inspect(row).pending:
                created.add(key)
            elif self.session.is_modified(row):
                changed.add(key)
        return created, changed


def keys_by_model(touches: Iterable[tuple[type[Any], Any]]) -> dict[type[Any], set[Any]]:
    grouped: dict[type[Any], set[Any]] = defaultdict(set)
    for model, key in touches:
        grouped[model].add(key)
    return grouped
