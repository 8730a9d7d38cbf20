"""The taxonomy as a tree: a filter on a term also finds services tagged with its
descendants ("advice" finds "debt advice")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def with_descendants(roots: Iterable[str], parent_of: Mapping[str, str | None]) -> set[str]:
    """``roots`` and every term below them; ``parent_of`` maps a term to its parent."""
    children: dict[str, list[str]] = {}
    for term, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(term)
    found: set[str] = set()
    stack = list(roots)
    while stack:
        term = stack.pop()
        if term not in found:  # a cycle in an imported taxonomy must not loop forever
            found.add(term)
            stack.extend(children.get(term, ()))
    return found


def top_level(term: str, parent_of: Mapping[str, str | None]) -> str:
    seen = {term}
    while (parent := parent_of.get(term)) is not None and parent not in seen:
        term = parent
        seen.add(term)
    return term
