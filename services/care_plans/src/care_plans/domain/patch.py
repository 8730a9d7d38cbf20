"""Compact forward patches between versions, so most versions need not be stored whole.

A patch is a list of ``{"path", "value"}`` (set) and ``{"path", "remove": true}`` steps. Paths
are JSON Pointers whose segments inside lists of items with ids (goals, actions, the care
team, ...) are those ids, so changing one action's status costs one small step. When such a
list gains, loses or reorders items, the patch sets the whole list instead: the order is part
of the plan.
"""

from __future__ import annotations

import copy
from typing import Any

Step = dict[str, Any]
# A version whose number is 1 more than a multiple of this is stored whole: rebuilding any
# version applies at most SNAPSHOT_EVERY - 1 patches to the snapshot before it.
SNAPSHOT_EVERY = 25


def is_snapshot(version: int) -> bool:
    return version % SNAPSHOT_EVERY == 1


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


def _ids(items: list[Any]) -> list[str] | None:
    if items and all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
        return [i["id"] for i in items]
    return None


def make_patch(before: Any, after: Any, path: str = "") -> list[Step]:
    """The steps that turn ``before`` into ``after``."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        steps: list[Step] = []
        for name in before:
            if name not in after:
                steps.append({"path": f"{path}/{_escape(name)}", "remove": True})
        for name, value in after.items():
            here = f"{path}/{_escape(name)}"
            steps += (
                make_patch(before[name], value, here)
                if name in before
                else [{"path": here, "value": value}]
            )
        return steps
    if isinstance(before, list) and isinstance(after, list):
        old, new = _ids(before), _ids(after)
        if old is not None and old == new and len(set(old)) == len(old):
            steps = []
            for item_before, item_after in zip(before, after, strict=True):
                steps += make_patch(item_before, item_after, f"{path}/{_escape(item_after['id'])}")
            return steps
    return [{"path": path, "value": after}]


def _child(node: Any, segment: str) -> Any:
    if isinstance(node, list):
        return next(i for i in node if isinstance(i, dict) and i.get("id") == segment)
    return node[segment]


def apply_patch(document: Any, steps: list[Step]) -> Any:
    """``document`` with ``steps`` applied (``document`` itself is left alone)."""
    result = copy.deepcopy(document)
    for step in steps:
        segments = [_unescape(s) for s in step["path"].split("/")[1:]]
        if not segments:
            result = copy.deepcopy(step["value"])
            continue
        parent = result
        for segment in segments[:-1]:
            parent = _child(parent, segment)
        last = segments[-1]
        if isinstance(parent, list):
            index = next(i for i, item in enumerate(parent) if item.get("id") == last)
            parent[index] = copy.deepcopy(step["value"])
        elif step.get("remove"):
            parent.pop(last, None)
        else:
            parent[last] = copy.deepcopy(step["value"])
    return result
