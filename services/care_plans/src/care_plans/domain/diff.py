"""What changed between two versions of a plan, as JSON Pointer paths.

Lists of items with an ``id`` (goals, actions, the care team, ...) are compared item by item,
so moving an item or changing another one does not show as a change to everything after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class Change:
    path: str
    op: Op
    before: Any = None
    after: Any = None


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    if not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
        return None
    keyed = {i["id"]: i for i in items}
    return keyed if len(keyed) == len(items) else None


def diff(before: Any, after: Any, path: str = "") -> list[Change]:
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[Change] = []
        for name in list(before) + [k for k in after if k not in before]:
            here = f"{path}/{_escape(str(name))}"
            if name not in after:
                out.append(Change(here, "removed", before=before[name]))
            elif name not in before:
                out.append(Change(here, "added", after=after[name]))
            else:
                out.extend(diff(before[name], after[name], here))
        return out
    if isinstance(before, list) and isinstance(after, list):
        old, new = _keyed(before), _keyed(after)
        if old is not None and new is not None:
            return diff(old, new, path)
    return [Change(path or "/", "changed", before=before, after=after)]


def sections(changes: list[Change]) -> list[str]:
    """The top-level parts of the document that changed, in order of first change."""
    out: list[str] = []
    for c in changes:
        top = c.path.split("/")[1] if c.path.count("/") else c.path
        if top and top not in out:
            out.append(top)
    return out
