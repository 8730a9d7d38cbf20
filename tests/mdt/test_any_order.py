"""Correct under any interleaving: the same events, shuffled across and within topics and
delivered with repeats, always build the same view — through the real handlers, the
consumer's runs and its inbox."""

from __future__ import annotations

import asyncio
import atexit
import functools
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carethread.db import create_engine, migrate
from carethread.events import CloudEvent
from mdt.app import DEFINITION
from tests.mdt.history import history
from tests.mdt.support import view

# Eight people's stories (about a hundred events, two of them merged by the front door)
# and directory listing changes.
EVENTS = history(8, seed=9)
Contents = dict[str, list[tuple[Any, ...]]]


async def _migrated_template(folder: Path) -> Path:
    path = folder / "template.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await migrate(engine, DEFINITION.migrations)
    await engine.dispose()
    return path


async def _build(template: Path, folder: Path, events: list[CloudEvent], batch: int) -> Contents:
    path = folder / f"view-{random.random():.12f}.db"
    shutil.copy(template, path)
    async with view(f"sqlite+aiosqlite:///{path}") as v:
        await v.apply(events, batch=batch)
        return await v.contents()


class _Fixture:
    """A migrated SQLite template (copied for each example) and the in-order view."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="mdt-any-order-"))
        atexit.register(shutil.rmtree, self.folder, True)
        self.template = asyncio.run(_migrated_template(self.folder))
        self.expected = asyncio.run(_build(self.template, self.folder, EVENTS, batch=50))


@functools.cache
def fixture() -> _Fixture:
    return _Fixture()


# Untimed: a hundred one-event transactions per example take minutes on a busy machine.
@pytest.mark.timeout(900)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=st.permutations(range(len(EVENTS))),
    repeats=st.lists(st.integers(0, len(EVENTS) - 1), max_size=30),
    batch=st.sampled_from([1, 7, 50, 500]),
)
def test_shuffled_with_repeats_reaches_the_same_view(
    order: list[int], repeats: list[int], batch: int
) -> None:
    f = fixture()
    delivered = [EVENTS[i] for i in order]
    for n, i in enumerate(repeats):  # a repeat lands anywhere, before or after the first
        delivered.insert((n * 37) % (len(delivered) + 1), EVENTS[i])
    assert asyncio.run(_build(f.template, f.folder, delivered, batch)) == f.expected


def test_the_view_built_in_order_is_not_empty() -> None:
    """The property above compares real content: every table has rows."""
    assert all(fixture().expected[table] for table in fixture().expected)
