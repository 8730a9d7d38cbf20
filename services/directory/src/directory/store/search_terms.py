"""The words of a search as each database's full-text query language writes them."""

from __future__ import annotations

from collections.abc import Sequence

from directory.domain.search import QueryPlan


def fts_terms(words: Sequence[str]) -> list[str]:
    return [f'"{w}"*' if len(w) > 2 else f'"{w}"' for w in words]


def phrase_sqlite(phrase: Sequence[str]) -> str:
    return '"' + " ".join(phrase) + '"'


def phrase_postgres(phrase: Sequence[str]) -> str:
    return " <-> ".join(phrase)


def any_words(plan: QueryPlan, postgres: bool) -> str:
    """Every word and phrase of the query, OR-ed: what the relevance score counts.

    PostgreSQL: without the phrases that hold a word the query already asks for alone
    ("money advice" beside "money"). Alone, the word makes every cover that the phrase
    would (``ts_rank_cd`` finds the same covers and gives the same score), and a phrase
    costs ``ts_rank_cd`` its positions checked in every cover: about 10 µs a row with a
    need's phrases against 6 µs without the redundant ones."""
    if postgres:
        alone = set(plan.words) | {p[0] for c in plan.concepts for p in c.phrases if len(p) == 1}
        parts = [f"{w}:*" for w in plan.words]
        parts += [
            phrase_postgres(p)
            for c in plan.concepts
            for p in c.phrases
            if len(p) == 1 or alone.isdisjoint(p)
        ]
        return " | ".join(f"({p})" for p in parts)
    parts = fts_terms(plan.words)
    parts += [phrase_sqlite(p) for c in plan.concepts for p in c.phrases]
    return " OR ".join(parts)
