"""What a search's words are planned with: the taxonomy (its terms, the tree and the
vocabulary's concepts are made again only when it changes) and which of the query's words
the listings use (spelling).

On PostgreSQL, a question whose words this process has asked before reads nothing first: it
is planned with the taxonomy and the words as they were last read (``assumed_prelude``),
and the search statement reads them again (``row_search``'s check, ``Found.seen``); if
they changed meanwhile, the search is planned and made again from them as they are now
(``searching.find``). A question with new words reads the taxonomy's version and the words
in one statement first (``read_prelude``). SQLite reads the taxonomy and the words in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from carethread.db import on_postgres
from directory.store.per_database import PerDatabase
from directory.store.search_types import Seen
from directory.store.spelling import listed_words
from directory.store.taxonomy import VERSION_SQL, Terms, last_read, load_terms

# The text is this module's and the taxonomy's version; the words are bound.
_PRELUDE = text(
    f"SELECT {VERSION_SQL} AS version, "  # noqa: S608
    "ARRAY(SELECT word FROM search_word WHERE word = ANY(:words)) AS listed"
).bindparams(bindparam("words", type_=ARRAY(String())))

# Whether the listings use a word, as last read, per database: the words prescribers ask
# are a few thousand, asked again and again. Bounded: when full it starts again.
LISTED_UP_TO = 20_000
_listed: PerDatabase[dict[str, bool]] = PerDatabase()


@dataclass(frozen=True)
class Prelude:
    terms: Terms
    listed_words: set[str]  # the query's words that the listings use
    # Assumed (``assumed_prelude``): the taxonomy's version ``terms`` were read with, which
    # the search checks; read now, nothing to check.
    version: str | None = None

    def agrees_with(self, seen: Seen | None) -> bool:
        """Whether a search statement saw the taxonomy and the words as this has them."""
        return (
            seen is not None
            and seen.version == self.version
            and seen.listed_words == self.listed_words
        )


def _remember(session: AsyncSession, words: Sequence[str], listed: set[str]) -> None:
    known = _listed.setdefault(session, dict)
    if len(known) + len(words) > LISTED_UP_TO:
        known.clear()
    known.update((w, w in listed) for w in words)


async def read_prelude(session: AsyncSession, words: Sequence[str]) -> Prelude:
    """The taxonomy and the words as they are now (a statement on PostgreSQL)."""
    if not on_postgres(session):
        return Prelude(await load_terms(session), await listed_words(session, words))
    row = (await session.execute(_PRELUDE, {"words": sorted(set(words))})).one()
    listed = set(row.listed)
    _remember(session, words, listed)
    return Prelude(await load_terms(session, version=row.version), listed)


def assumed_prelude(session: AsyncSession, words: Sequence[str]) -> Prelude | None:
    """The taxonomy and the words as last read, without a statement: on PostgreSQL, once
    this process has read the taxonomy and each of ``words``; otherwise None. What it
    assumes must be checked by the search (``Prelude.agrees_with``)."""
    if not on_postgres(session):
        return None
    read = last_read(session)
    known = _listed.get(session)
    if read is None or known is None or any(w not in known for w in words):
        return None
    terms, version = read
    return Prelude(terms, {w for w in words if known[w]}, version)
