"""How a prescriber's words become a query: tokens, concepts of the needs vocabulary found
by their names and synonyms, and spelling corrections from the words the directory holds."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Words that say nothing about a service; they would only narrow an AND query.
STOP_WORDS = frozenset(
    {
        "a", "an", "and", "are", "at", "for", "from", "help", "i", "in", "is", "me", "my",
        "near", "of", "on", "or", "service", "services", "support", "the", "to", "with",
    }
)  # fmt: skip
_TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Lower-case words, apostrophes dropped ("carers'" → "carers")."""
    return _TOKEN.findall(text.lower().replace("'", "").replace("\u2019", ""))


def query_tokens(text: str) -> list[str]:
    return [t for t in tokens(text) if t not in STOP_WORDS]


@dataclass(frozen=True)
class Concept:
    """Taxonomy terms a query may name: by their name or by one of their synonyms. Terms of
    the same name (the vocabulary's and an imported one) are one concept."""

    term_ids: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]  # each phrase as its tokens

    @property
    def words(self) -> set[str]:
        return {w for p in self.phrases for w in p}


def concepts(terms: Iterable[tuple[str, str, Iterable[str]]]) -> list[Concept]:
    """Concepts from ``(term id, name, synonyms)``, merging terms that share a name."""
    by_name: dict[tuple[str, ...], tuple[list[str], set[tuple[str, ...]]]] = {}
    for term_id, name, synonyms in terms:
        key = tuple(tokens(name))
        if not key:
            continue
        ids, phrases = by_name.setdefault(key, ([], set()))
        ids.append(term_id)
        phrases.add(key)
        phrases.update(p for p in (tuple(tokens(s)) for s in synonyms) if p)
    return [
        Concept(tuple(sorted(ids)), tuple(sorted(phrases))) for ids, phrases in by_name.values()
    ]


@dataclass(frozen=True)
class QueryPlan:
    """Every entry of ``concepts`` must be met (by a tag or by its words in the text), and
    every entry of ``words`` must appear in the text."""

    words: tuple[str, ...]
    concepts: tuple[Concept, ...] = ()
    corrections: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.words and not self.concepts


def phrases_longest_first(known: Iterable[Concept]) -> list[tuple[tuple[str, ...], Concept]]:
    """Every phrase of the vocabulary with its concept, in the order ``plan`` looks for them."""
    return sorted(((p, c) for c in known for p in c.phrases), key=lambda pc: (-len(pc[0]), pc[0]))


def plan(
    words: list[str],
    known: Iterable[Concept],
    by_length: Sequence[tuple[tuple[str, ...], Concept]] | None = None,
) -> QueryPlan:
    """Find the vocabulary's phrases in ``words``, longest first; the rest stay words.
    ``by_length``: ``phrases_longest_first(known)``, if already made."""
    if by_length is None:
        by_length = phrases_longest_first(known)
    remaining = list(words)
    found: dict[tuple[str, ...], Concept] = {}
    for phrase, c in by_length:
        n = len(phrase)
        for i in range(len(remaining) - n + 1):
            if tuple(remaining[i : i + n]) == phrase:
                found.setdefault(c.term_ids, c)
                del remaining[i : i + n]
                break
    return QueryPlan(tuple(remaining), tuple(found.values()))


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein (optimal string alignment), capped at ``limit``."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return min(previous[-1], limit)


def allowed_typos(word: str) -> int:
    """Short words get no correction (too many neighbours); long ones up to two edits."""
    if len(word) < 5:
        return 0
    return 1 if len(word) < 8 else 2


def best_correction(word: str, candidates: Iterable[str]) -> str | None:
    """The closest known word within the typos ``word`` is allowed, preferring the
    alphabetically first on a tie so that the answer is stable."""
    allowed = allowed_typos(word)
    if not allowed:
        return None
    best: tuple[int, str] | None = None
    for candidate in candidates:
        d = edit_distance(word, candidate, allowed + 1)
        if d <= allowed and (best is None or (d, candidate) < best):
            best = (d, candidate)
    return best[1] if best else None
