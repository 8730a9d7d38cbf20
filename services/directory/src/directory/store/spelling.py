"""Spelling correction: a query word the listings never use is replaced by the closest word
they do (pg_trgm finds the candidates on PostgreSQL; SQLite looks at words of the same
first letter and similar length)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.domain.search import best_correction
from directory.store.tables import SearchWordRow


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def correct_spelling(
    session: AsyncSession, words: Sequence[str], extra_known: set[str]
) -> dict[str, str]:
    """``{misspelt: corrected}`` for query words the directory has never seen."""
    if not words:
        return {}
    W = SearchWordRow.__table__
    known = (
        set((await session.scalars(select(W.c.word).where(W.c.word.in_(list(set(words)))))).all())
        | extra_known
    )
    corrections: dict[str, str] = {}
    postgres = _is_postgres(session)
    for word in dict.fromkeys(words):
        if word in known or word.isdigit():
            continue
        if postgres:
            # pg_trgm: words sharing enough trigrams, found through the trigram index.
            near = select(W.c.word).where(W.c.word.op("%")(word)).limit(50)
        else:
            n = len(word)
            near = (
                select(W.c.word)
                .where(
                    W.c.word >= word[0],
                    W.c.word < chr(ord(word[0]) + 1),
                    func.length(W.c.word).between(n - 2, n + 2),
                )
                .limit(2000)
            )
        candidates = set((await session.scalars(near)).all())
        candidates |= {k for k in extra_known if abs(len(k) - len(word)) <= 2}
        best = best_correction(word, candidates)
        if best is not None:
            corrections[word] = best
    return corrections
