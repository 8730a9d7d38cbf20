"""Rebuild: drop the view and build it again from the services' outboxes; the rebuilt view
equals the live one, which got the same events interleaved otherwise and with repeats.
(The 100,000-event run is ``bench/mdt``; this one stays small enough for the suite.)"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from carethread.db.tables import InboxRow
from mdt.rebuild import main, rebuild
from tests.mdt.history import history
from tests.mdt.outboxes import outboxes
from tests.mdt.support import view


async def test_a_rebuilt_view_equals_the_live_one(
    database_url: str, other_database_url: str, tmp_path: Path
) -> None:
    events = history(64, seed=3)
    assert len(events) > 600
    rng = random.Random(5)
    live_order = events[:]
    rng.shuffle(live_order)  # live: the topics interleaved any old way ...
    live_order += rng.sample(events, 100)  # ... and some events delivered twice

    async with (
        outboxes(tmp_path, events) as logs,
        view(database_url) as live,
        view(other_database_url) as rebuilt,
    ):
        await live.apply(live_order, batch=100)
        await rebuilt.apply(events[:150])  # a view gone wrong somehow, to be thrown away

        applied = await rebuild(rebuilt.sessions, logs, page=250)

        assert applied == len(events)
        assert await rebuilt.contents() == await live.contents()
        async with rebuilt.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(InboxRow)) == len(events)


def test_the_command_needs_outboxes_or_drop_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MDT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'mdt.db'}")
    with pytest.raises(SystemExit):
        main([])
    main(["--drop-only"])
    assert "The MDT view is empty" in capsys.readouterr().out
