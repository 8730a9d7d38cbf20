"""Indicator-updated events: announced through the outbox for the ICS and each
neighbourhood, only when the published figures move, and only published figures."""

from __future__ import annotations

from datetime import timedelta

from carethread.events.outcomes import IndicatorUpdatedV1
from carethread.service import ServiceRuntime
from outcomes.announce import KEY_INDICATORS, announce_indicators
from outcomes.domain.disclosure import Policy
from tests.outcomes.conftest import Outcomes
from tests.outcomes.events_in import AT, NEIGHBOURHOOD, deliver
from tests.outcomes.test_indicators_api import population, social_prescription

NOW = AT + timedelta(days=30)


async def announce(outcomes: Outcomes) -> int:
    runtime: ServiceRuntime = outcomes.app.state.runtime
    async with runtime.uow() as uow:
        sent = await announce_indicators(uow, now=NOW, policy=Policy())
        await uow.commit()
    return sent


async def test_key_indicators_are_announced_once_and_again_only_when_they_move(
    outcomes: Outcomes,
) -> None:
    await deliver(outcomes.app, *population())
    # The ICS and U02795 for each; no wellbeing measures yet, so no neighbourhood has one.
    assert await announce(outcomes) == 2 * len(KEY_INDICATORS) - 1
    events = await outcomes.outbox(IndicatorUpdatedV1.event_type)
    scopes = sorted((e["data"]["indicator_id"], e.get("neighbourhood") or "") for e in events)
    expected = [(i, area) for i in KEY_INDICATORS for area in ("", NEIGHBOURHOOD)]
    expected.remove(("wellbeing-improved-after-social-prescribing", NEIGHBOURHOOD))
    assert scopes == sorted(expected)
    for e in events:
        data = IndicatorUpdatedV1.model_validate(e["data"])
        assert str(data.period_start) == "2026-04-01"
        for cell in [data.overall, *data.cells]:
            assert cell.numerator is None or cell.numerator == 0 or cell.numerator >= 10
            assert cell.denominator is None or cell.denominator == 0 or cell.denominator >= 10
    uptake = next(
        e["data"] for e in events
        if e["data"]["indicator_id"] == "social-prescription-uptake" and e["data"]["by"]
    )  # fmt: skip
    assert [c["group"] for c in uptake["cells"]] == ["1", "2", "3", "5"]
    assert uptake["cells"][2]["suppressed"] is True  # the 3 people in quintile 3

    assert await announce(outcomes) == 0  # nothing moved
    # One more social prescription not taken up: uptake moves; the triage figures, as
    # published (all within target, 80 once rounded), do not.
    await deliver(outcomes.app, *social_prescription(2, False))
    assert await announce(outcomes) == 2
    moved = (await outcomes.outbox(IndicatorUpdatedV1.event_type))[len(events) :]
    assert {e["data"]["indicator_id"] for e in moved} == {"social-prescription-uptake"}
