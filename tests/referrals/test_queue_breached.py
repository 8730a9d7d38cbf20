"""The queue's "breached" filter over many referrals, on both databases: the same referrals,
in the same order, page after page, as the SLA rule (``sla.is_breached``) picks by hand.

The store answers it as two halves (triaged late; still waiting past due) merged in due
order, so this checks the halves add up, never overlap and interleave correctly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from bench.referrals.data import stored_rows
from carethread.db import create_engine, session_factory
from carethread.db.migrate import migrate
from referrals.app import DEFINITION
from referrals.domain.lifecycle import Status
from referrals.domain.sla import is_breached
from referrals.store.referrals import QueueFilter, queue
from referrals.store.tables import ReferralRow

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def expected(rows: list[dict[str, Any]], borough: str | None, breached: bool) -> list[object]:
    picked = [
        r
        for r in rows
        if (borough is None or r["borough"] == borough)
        and is_breached(
            status=Status(r["status"]), due=r["triage_due_at"], now=NOW, triaged_at=r["triaged_at"]
        )
        is breached
    ]
    picked.sort(key=lambda r: (r["triage_due_at"], str(r["id"])))
    return [r["id"] for r in picked]


async def test_breached_pages_hold_exactly_the_breached_referrals_soonest_due_first(
    database_url: str,
) -> None:
    rows = stored_rows(600, seed=11, now=NOW, days=60)
    assert any(r["triaged_late"] for r in rows), "the data should hold late triage decisions"
    engine = create_engine(database_url)
    try:
        await migrate(engine, DEFINITION.migrations)
        async with engine.begin() as conn:
            await conn.execute(insert(ReferralRow), rows)
        sessions = session_factory(engine)
        for borough in (None, "Camden"):
            for breached in (True, False):
                want = expected(rows, borough, breached)
                got: list[object] = []
                async with sessions() as session:
                    for offset in range(0, len(want) + 40, 40):
                        f = QueueFilter(borough=borough, breached=breached)
                        total, page = await queue(session, f, now=NOW, limit=40, offset=offset)
                        assert total == len(want)
                        got += [r.id for r in page]
                assert got == want, (borough, breached)
    finally:
        await engine.dispose()
