"""Reading the taxonomy: terms by code or id, the tree, the vocabulary's synonyms."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.domain.search import tokens
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


class Terms:
    """The whole taxonomy, read once per request (tens to a few thousand rows)."""

    def __init__(self, terms: list[Term]) -> None:
        self.by_id = {t.id: t for t in terms}
        self.by_code = {t.code: t for t in terms if t.code}
        self._by_phrase: dict[tuple[str, ...], list[Term]] | None = None

    def find(self, value: str) -> Term | None:
        """A term by its code or its id."""
        if value in self.by_code:
            return self.by_code[value]
        try:
            return self.by_id.get(uuid.UUID(value))
        except ValueError:
            return None

    def vocabulary_named(self, phrase: tuple[str, ...]) -> list[Term]:
        """The coded (vocabulary) terms whose name or a synonym is ``phrase`` (as tokens)."""
        if self._by_phrase is None:
            self._by_phrase = {}
            for t in self.by_code.values():
                for p in dict.fromkeys(tuple(tokens(n)) for n in (t.name, *t.synonyms)):
                    self._by_phrase.setdefault(p, []).append(t)
        return list(self._by_phrase.get(phrase, []))

    @property
    def parent_of(self) -> dict[str, str | None]:
        return {str(t.id): str(t.parent_id) if t.parent_id else None for t in self.by_id.values()}


async def load_terms(session: AsyncSession) -> Terms:
    rows = (await session.scalars(select(TaxonomyTermRow))).all()
    return Terms([Term(r.id, r.code, r.name, r.parent_id, tuple(r.synonyms or ())) for r in rows])
