"""A person merge: someone the front door knew without an NHS number is traced, and the
id it minted for them is merged into their NHS number's id — into a record of their own, or
into another record of the same person. The view then holds one person, whichever order
the merge and the old id's events come in."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from carethread.events import CloudEvent
from carethread.nhs import person_id_for_nhs_number
from carethread.settings import AuthSettings
from mdt.rebuild import drop_view
from mdt.store.merges import alias_tables
from mdt.store.tables import CaseloadPersonRow, PersonAliasRow, PersonSnapshotRow
from tests.mdt.app import mdt_service
from tests.mdt.history import START, Person, Referral
from tests.mdt.support import View, view

TRACED_NHS_NUMBER = "9990042438"  # 999 test range, valid check digit


def duplicate_records() -> tuple[Person, Person, list[CloudEvent], CloudEvent, list[CloudEvent]]:
    """One resident known twice: with their NHS number (referred by their GP) and without
    (referred by a VCSE outreach worker, with a plan and a measure). The merge, then a
    measure the outcomes service still files under the old id and the front door's next
    move of the old referral, under the new one."""
    known = Person(1, nhs_number=TRACED_NHS_NUMBER)
    shadow = Person(2)  # no NHS number: a minted id
    gp, outreach = Referral(known), Referral(shadow, urgency="urgent")
    day = START + timedelta(days=1)
    before = [
        known.registered(gp.referral_id, START),
        known.referred(gp, START),
        shadow.registered(outreach.referral_id, START + timedelta(hours=1)),
        shadow.referred(outreach, START + timedelta(hours=1)),
        shadow.record_created(day),
        *shadow.plan_saved(day, "VCSE01"),
        shadow.member(uuid.uuid4(), day, "VCSE01", key_worker=True),
        shadow.measured(day, 18.0),
    ]
    old = Person(2, person_id=shadow.person_id, plan_id=shadow.plan_id)
    merge = shadow.traced(START + timedelta(days=5), into=known)
    after = [
        old.measured(START + timedelta(days=6), 22.0, first=18.0),
        outreach.moved(START + timedelta(days=7), "start", "in_progress"),
    ]
    return known, old, before, merge, after


async def _count(v: View, table: type[CaseloadPersonRow] | type[PersonAliasRow]) -> int:
    async with v.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(table)) or 0)


async def _rows_under(v: View, person_id: uuid.UUID) -> dict[str, int]:
    """How many rows of each person table still name ``person_id``."""
    found = {}
    async with v.sessions() as s:
        for table in alias_tables():
            n = await s.scalar(
                select(func.count()).select_from(table).where(table.c.person_id == person_id)
            )
            found[table.name] = int(n or 0)
    return found


async def test_a_merge_leaves_one_person_holding_both_records(database_url: str) -> None:
    known, old, before, merge, after = duplicate_records()
    async with view(database_url) as v:
        await v.apply(before)
        assert await _count(v, CaseloadPersonRow) == 2
        await v.apply([merge, *after])

        assert set((await _rows_under(v, old.person_id)).values()) == {0}
        async with v.sessions() as s:
            line = await s.get(CaseloadPersonRow, known.person_id)
            snapshot = await s.get(PersonSnapshotRow, known.person_id)
        assert line is not None
        assert snapshot is not None
        assert await _count(v, CaseloadPersonRow) == 1
        # Both referrals, the plan, its care team and the measures are theirs now.
        assert line.open_referrals == 2
        assert line.plan_id == old.plan_id
        assert [m["organisation"] for m in line.care_team] == ["VCSE01"]
        assert line.wellbeing is not None
        assert line.wellbeing["score"] == 22.0
        # The record after the merge describes them (with their NHS number), and the flag
        # for people with none is gone.
        assert snapshot.front_door is not None
        assert snapshot.front_door["nhs_number"] == TRACED_NHS_NUMBER
        assert snapshot.front_door_sequence == merge.sequence
        assert line.inclusion_health is False


async def test_the_view_is_the_same_whichever_order_the_merge_comes_in(
    database_url: str, other_database_url: str
) -> None:
    """The merge first (the old id's events all late), in the middle, and last."""
    known, old, before, merge, after = duplicate_records()
    async with view(database_url) as in_order:
        await in_order.apply([*before, merge, *after], batch=1)
        expected = await in_order.contents()
    assert [row[:2] for row in expected["person_alias"]] == [(old.person_id, known.person_id)]
    others = [*before, *after]
    async with view(other_database_url) as v:
        for place, batch in itertools.product((0, 4, len(others)), (1, 50)):
            await v.apply([*others[:place], merge, *others[place:]], batch=batch)
            assert await v.contents() == expected, (place, batch)
            await drop_view(v.sessions)


async def test_a_merged_id_reads_as_the_person_it_is_now(
    database_url: str, auth: AuthSettings
) -> None:
    known, old, before, merge, after = duplicate_records()
    async with mdt_service(database_url, auth) as mdt:
        await mdt.feed([*before, merge, *after])
        r = await mdt.client.get(
            f"/api/v1/persons/{old.person_id}/timeline", headers=mdt.as_member(roles=("admin",))
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["person_id"] == str(known.person_id)
        summaries = [e["summary"] for e in body["entries"]]
        assert "Front door found the person's NHS number: their records were merged" in summaries
        # Both referrals' intakes and the old id's measures, on one story.
        assert sum(s.startswith("Referral received") for s in summaries) == 2
        assert sum(e["source_service"] == "outcomes" for e in body["entries"]) == 2
        assert known.person_id == person_id_for_nhs_number(TRACED_NHS_NUMBER)
