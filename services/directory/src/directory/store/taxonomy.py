"""Reading the taxonomy: terms by code or id, the tree, the vocabulary's synonyms."""

from __future__ import annotations

import uuid
import weakref
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.domain.search import Concept, concepts, phrases_longest_first, tokens
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


class Terms:
    """The whole taxonomy (tens to a few thousand rows), with what is derived from it."""

    def __init__(self, terms: list[Term]) -> None:
        self.by_id = {t.id: t for t in terms}
        self.by_code = {t.code: t for t in terms if t.code}
        self._by_phrase: dict[tuple[str, ...], list[Term]] | None = None
        self._found: dict[str, Term | None] = {}

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

    @cached_property
    def concept_words(self) -> set[str]:
        """Every word of a concept: known words, never corrected."""
        return {w for c in self.concepts for w in c.words}


# The last taxonomy read, per database, with the rows it was made from: a search reads the
# rows (one small statement) but makes the terms, the tree and the concepts again only when
# the rows differ, so a change made by any replica is seen by the next request.
_last: weakref.WeakKeyDictionary[Engine, tuple[list[tuple[Any, ...]], Terms]] = (
    weakref.WeakKeyDictionary()
)


async def load_terms(session: AsyncSession) -> Terms:
    T = TaxonomyTermRow.__table__
    rows = [
        tuple(r)
        for r in await session.execute(
            select(T.c.id, T.c.code, T.c.name, T.c.parent_id, T.c.synonyms).order_by(T.c.id)
        )
    ]
    bind = session.get_bind()
    if isinstance(bind, Engine) and (last := _last.get(bind)) is not None and last[0] == rows:
        return last[1]
    terms = Terms([Term(i, code, name, up, tuple(syn or ())) for i, code, name, up, syn in rows])
    if isinstance(bind, Engine):
        _last[bind] = (rows, terms)
    return terms
