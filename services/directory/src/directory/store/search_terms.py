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
    """Every word and phrase of the query, OR-ed: what the relevance score counts."""
    if postgres:
        parts = [f"{w}:*" for w in plan.words]
        parts += [phrase_postgres(p) for c in plan.concepts for p in c.phrases]
        return " | ".join(f"({p})" for p in parts)
    parts = fts_terms(plan.words)
    parts += [phrase_sqlite(p) for c in plan.concepts for p in c.phrases]
    return " OR ".join(parts)
