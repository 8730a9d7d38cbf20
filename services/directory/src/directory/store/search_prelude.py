"""What a search reads before its statement is made: the taxonomy (its terms, the tree and
the vocabulary's concepts are made again only when it changes) and which of the query's
words the listings use (spelling). On PostgreSQL one statement reads the taxonomy's digest
and the words and makes the search statement's planner settings for this transaction
(``row_search.PLANNER_SETTINGS``): a search is then two round trips besides its
transaction's, where it was four. SQLite reads the taxonomy and the words in turn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from carethread.db import on_postgres
from directory.store.row_search import PLANNER_SETTINGS, planner_settings_made
from directory.store.spelling import listed_words
from directory.store.taxonomy import DIGEST_SQL, Terms, load_terms

# The text is this module's and the two modules' constants; the words are bound.
_PRELUDE = text(
    f"SELECT {PLANNER_SETTINGS}, {DIGEST_SQL} AS digest, "  # noqa: S608
    "ARRAY(SELECT word FROM search_word WHERE word = ANY(:words)) AS listed"
).bindparams(bindparam("words", type_=ARRAY(String())))


@dataclass(frozen=True)
class Prelude:
    terms: Terms
    listed_words: set[str]  # the query's words that the listings use


async def read_prelude(session: AsyncSession, words: Sequence[str]) -> Prelude:
    if not on_postgres(session):
        return Prelude(await load_terms(session), await listed_words(session, words))
    row = (await session.execute(_PRELUDE, {"words": sorted(set(words))})).one()
    planner_settings_made(session)
    return Prelude(await load_terms(session, digest=row.digest), set(row.listed))
