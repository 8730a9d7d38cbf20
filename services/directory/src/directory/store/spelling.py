"""Spelling correction: a query word the listings never use is replaced by the closest word
they do (pg_trgm finds the candidates on PostgreSQL; SQLite looks at words of the same
first letter and similar length)."""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carethread.db import on_postgres
from directory.domain.search import allowed_typos, best_correction
from directory.store.per_database import PerDatabase
from directory.store.tables import SearchWordRow

# Near words of a misspelling, per database, for a minute: finding them is the costliest
# part of a search with a typo (pg_trgm over every word the listings use), and the same
# typos come again and again. A word that becomes known is still seen at once (the known
# words are looked up every time); only a new closer candidate waits for the minute.
NEAR_WORDS_FOR_S = 60.0
_near_words: PerDatabase[dict[str, tuple[float, frozenset[str]]]] = PerDatabase()


async def _near(session: AsyncSession, word: str) -> frozenset[str]:
    W = SearchWordRow.__table__
    cache = _near_words.setdefault(session, dict)
    now = time.monotonic()
    if (hit := cache.get(word)) is not None and now - hit[0] < NEAR_WORDS_FOR_S:
        return hit[1]
    if on_postgres(session):
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
    found = frozenset((await session.scalars(near)).all())
    cache[word] = (now, found)
    return found


async def listed_words(session: AsyncSession, words: Sequence[str]) -> set[str]:
    """Which of ``words`` the listings use."""
    W = SearchWordRow.__table__
    if not words:
        return set()
    return set((await session.scalars(select(W.c.word).where(W.c.word.in_(set(words))))).all())


@functools.lru_cache(maxsize=4096)
def _closest(word: str, near: frozenset[str], extra_known: frozenset[str]) -> str | None:
    """``best_correction`` among the near words and the extra known words of about the same
    length. Kept: the same typos come again and again with the same near words (the same
    frozensets for a minute, ``_near``) and vocabulary, and the edit distances to every
    candidate were a misspelt search's costliest Python (about 1 ms for "councelling")."""
    candidates = near | {k for k in extra_known if abs(len(k) - len(word)) <= 2}
    return best_correction(word, candidates)


async def correct_spelling(
    session: AsyncSession,
    words: Sequence[str],
    listed: set[str],
    extra_known: frozenset[str],
) -> dict[str, str]:
    """``{misspelt: corrected}`` for query words the directory has never seen: neither
    ``listed`` (``listed_words``) nor ``extra_known``."""
    corrections: dict[str, str] = {}
    for word in dict.fromkeys(words):
        if word in listed or word in extra_known or word.isdigit() or not allowed_typos(word):
            continue
        best = _closest(word, await _near(session, word), extra_known)
        if best is not None:
            corrections[word] = best
    return corrections
