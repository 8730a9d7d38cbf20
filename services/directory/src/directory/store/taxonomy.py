"""Reading the taxonomy: terms by code or id, the tree, the vocabulary's synonyms."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import JSON, String, Uuid, column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carethread.db import on_postgres
from directory.domain.search import (
    Concept,
    QueryPlan,
    concepts,
    phrases_longest_first,
    plan,
    tokens,
)
from directory.store.per_database import PerDatabase
from directory.store.tables import TaxonomyTermRow


@dataclass(frozen=True)
class Term:
    id: uuid.UUID
    code: str | None
    name: str
    parent_id: uuid.UUID | None
    synonyms: tuple[str, ...]

    @property
    def label(self) -> str:
        """How events and the JSON API name the term: its code, else its id."""
        return self.code or str(self.id)


FOUND_UP_TO = 10_000  # labels remembered by Terms.find
PLANNED_UP_TO = 10_000  # queries remembered by Terms.plan


class Terms:
    """The whole taxonomy (tens to a few thousand rows), with what is derived from it."""

    def __init__(
        self, terms: list[Term], indexed_phrases: frozenset[tuple[str, ...]] = frozenset()
    ) -> None:
        self.by_id = {t.id: t for t in terms}
        # PostgreSQL: the phrases the search rows carry as lexemes (directory_0011), as
        # their words; a search asks those of the rows' index, the others as words.
        self.indexed_phrases = indexed_phrases
        self.by_code = {t.code: t for t in terms if t.code}
        self._by_phrase: dict[tuple[str, ...], list[Term]] | None = None
        self._found: dict[str, Term | None] = {}
        self._planned: dict[tuple[str, ...], QueryPlan] = {}

    def find(self, value: str) -> Term | None:
        """A term by its code or its id."""
        if value in self.by_code:
            return self.by_code[value]
        if value in self._found:
            return self._found[value]
        try:
            term = self.by_id.get(uuid.UUID(value))
        except ValueError:
            term = None
        # An import names the same few labels for thousands of listings, and reading a
        # label that is not an id raises (costly): each label is looked up once. Bounded:
        # the labels come from feeds and queries.
        if len(self._found) < FOUND_UP_TO:
            self._found[value] = term
        return term

    def label_of(self, term_id: uuid.UUID) -> str:
        """How the JSON API names a term (``Term.label``); a term this taxonomy does not hold
        yet (written since it was read) by its id."""
        term = self.by_id.get(term_id)
        return term.label if term is not None else str(term_id)

    def vocabulary_named(self, phrase: tuple[str, ...]) -> list[Term]:
        """The coded (vocabulary) terms whose name or a synonym is ``phrase`` (as tokens)."""
        if self._by_phrase is None:
            self._by_phrase = {}
            for t in self.by_code.values():
                for p in dict.fromkeys(tuple(tokens(n)) for n in (t.name, *t.synonyms)):
                    self._by_phrase.setdefault(p, []).append(t)
        return list(self._by_phrase.get(phrase, []))

    @cached_property
    def parent_of(self) -> dict[str, str | None]:
        return {str(t.id): str(t.parent_id) if t.parent_id else None for t in self.by_id.values()}

    @cached_property
    def concepts(self) -> list[Concept]:
        """What a query's words may name: the terms by their names and synonyms."""
        return concepts((str(t.id), t.name, t.synonyms) for t in self.by_id.values())

    @cached_property
    def phrases(self) -> list[tuple[tuple[str, ...], Concept]]:
        """The concepts' phrases, longest first (what a query's words are planned with)."""
        return phrases_longest_first(self.concepts)

    def plan(self, words: Sequence[str]) -> QueryPlan:
        """``domain.search.plan`` of ``words`` with this vocabulary. Prescribers ask the same
        few questions again and again: each is planned once (up to ``PLANNED_UP_TO``)."""
        key = tuple(words)
        planned = self._planned.get(key)
        if planned is None:
            planned = plan(list(key), self.concepts, self.phrases)
            if len(self._planned) < PLANNED_UP_TO:
                self._planned[key] = planned
        return planned

    @cached_property
    def concept_words(self) -> frozenset[str]:
        """Every word of a concept: known words, never corrected."""
        return frozenset(w for c in self.concepts for w in c.words)


# PostgreSQL: the taxonomy's version (directory_0010: raised by every statement that changes
# what ``load_terms`` reads, whoever makes it), for a search to ask with the other things it
# reads (``search_prelude``) instead of reading every term.
VERSION_SQL = "(SELECT CAST(version AS text) FROM taxonomy_version)"
# The version and the phrases the search rows carry (directory_0011) first, in a row of
# their own, then the terms.
_ROWS_WITH_VERSION = text(
    f"""SELECT CAST(NULL AS uuid) AS id, NULL AS code, NULL AS name, CAST(NULL AS uuid)
        AS parent_id, NULL AS synonyms, {VERSION_SQL} AS version,
        ARRAY(SELECT phrase FROM search_phrase ORDER BY phrase) AS phrases
    UNION ALL
    SELECT id, code, name, parent_id, CAST(synonyms AS json), NULL, NULL FROM taxonomy_term
    ORDER BY id NULLS FIRST"""  # noqa: S608
).columns(
    column("id", Uuid),
    column("code", String),
    column("name", String),
    column("parent_id", Uuid),
    column("synonyms", JSON),
    column("version", String),
    column("phrases"),
)


@dataclass
class _Read:
    """The last taxonomy read from a database: its rows, their version (PostgreSQL), its
    terms (with the phrases the search rows carry)."""

    rows: list[tuple[Any, ...]]
    version: str | None
    terms: Terms


# The last taxonomy read, per database: a search reads the rows (or, on PostgreSQL, their
# version) but makes the terms, the tree and the concepts again only when they differ, so a
# change made by any replica is seen by the next request.
_last: PerDatabase[_Read] = PerDatabase()


def last_read(session: AsyncSession) -> tuple[Terms, str] | None:
    """The taxonomy as this process last read it from the session's database, with its
    version (PostgreSQL; None before a first read with it)."""
    last = _last.get(session)
    if last is None or last.version is None:
        return None
    return last.terms, last.version


async def load_terms(session: AsyncSession, version: str | None = None) -> Terms:
    """The taxonomy. ``version`` (``VERSION_SQL``, read in this transaction): the terms last
    read are taken as they are, without reading them again, if their version is the same."""
    last = _last.get(session)
    if version is not None and last is not None and last.version == version:
        return last.terms
    rows, read_version, indexed = await _read_rows(session)
    if last is not None and last.rows == rows and last.terms.indexed_phrases == indexed:
        terms = last.terms
    else:
        terms = Terms(
            [Term(i, code, name, up, tuple(syn or ())) for i, code, name, up, syn in rows],
            indexed,
        )
    _last.set(session, _Read(rows, read_version, terms))
    return terms


async def _read_rows(
    session: AsyncSession,
) -> tuple[list[tuple[Any, ...]], str | None, frozenset[tuple[str, ...]]]:
    """The terms' rows in id order and, on PostgreSQL, their version and the phrases the
    search rows carry, read in one statement (one snapshot) so that what is remembered is
    of these very rows."""
    if not on_postgres(session):
        T = TaxonomyTermRow.__table__
        query = select(T.c.id, T.c.code, T.c.name, T.c.parent_id, T.c.synonyms).order_by(T.c.id)
        return [tuple(r) for r in await session.execute(query)], None, frozenset()
    first, *rows = (await session.execute(_ROWS_WITH_VERSION)).all()
    indexed = frozenset(tuple(phrase.split(" ")) for phrase in first.phrases)
    return [tuple(r[:5]) for r in rows], first.version, indexed
