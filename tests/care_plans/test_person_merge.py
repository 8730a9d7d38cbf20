"""A person known under two ids becomes one (``person.merged``, ``care_plans.merges``),
whatever the order in which the merge and the old id's events arrive, and however often.

The old id is one the front door minted for someone with no NHS number; the surviving id is
their NHS number's. Real handlers, through the consumer and its inbox."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.R4B.patient import Patient
from sqlalchemy import func, select

from care_plans.app import create_app
from care_plans.settings import CarePlansSettings
from care_plans.store.tables import CarePlansBase
from carethread.db import create_engine, session_factory
from carethread.db.tables import OutboxRow
from carethread.events import CloudEvent, topics
from carethread.events.referrals import (
    Destination,
    PersonDetails,
    PersonMergedV1,
    PersonRegisteredV1,
)
from carethread.messaging import InMemoryBroker
from carethread.nhs import person_id_for_nhs_number
from carethread.settings import AuthSettings, KafkaSettings
from carethread.testing.apps import running
from tests.care_plans.conftest import CarePlans, Clock, outbox, token
from tests.care_plans.events_in import (
    AT,
    MDT,
    deliver,
    envelope,
    person_registered,
    referral_accepted,
    referral_received,
    referral_status_changed,
)

MERGED_AT = AT + timedelta(days=3)
FALLS = Destination(kind="team", id="falls-islington", name="Islington falls service")


def mdt_nurse(care_plans: CarePlans) -> dict[str, str]:
    return token(care_plans.auth, sub="nurse.nia", org="RAL", neighbourhoods=["U02795"])


def falls_physio(care_plans: CarePlans) -> dict[str, str]:
    return token(care_plans.auth, sub="physio.pat", org="RAP", teams=["falls-islington"])


def minted_person_registered(person_id: uuid.UUID, sequence: int = 1) -> CloudEvent:
    """The front door's record of someone who gave no NHS number (a minted id)."""
    data = PersonRegisteredV1(
        person_id=person_id,
        person=PersonDetails(
            nhs_number=None,
            given_name="Kemi",
            family_name="Synthetic",
            birth_date=date(1952, 2, 29),
            gp_practice_code="F83004",
            neighbourhood="U02795",
            borough="Islington",
            postcode="N19 3NU",
        ),
        referral_id=uuid.uuid4(),
        registered_at=AT,
    )
    return envelope(data, person_id, sequence=sequence)


def person_merged(
    old: uuid.UUID,
    nhs_number: str,
    referral_ids: list[uuid.UUID],
    sequence: int = 5,
    **details: object,
) -> CloudEvent:
    new = person_id_for_nhs_number(nhs_number)
    data = PersonMergedV1(
        person_id=new,
        merged_person_id=old,
        person=PersonDetails.model_validate(
            {
                "nhs_number": nhs_number,
                "given_name": "Kemi",
                "family_name": "Synthetic",
                "birth_date": date(1952, 2, 29),
                "gp_practice_code": "F83004",
                "neighbourhood": "U02795",
                "borough": "Islington",
                "postcode": "N19 3NU",
                **details,
            }
        ),
        referral_ids=referral_ids,
        merged_by="triager.tom",
        merged_at=MERGED_AT,
    )
    return envelope(data, new, sequence=sequence)


async def rows_under(database_url: str, person_id: uuid.UUID) -> dict[str, int]:
    """How many rows of each care_plans table name ``person_id`` as a person's id (the
    aliases themselves apart)."""
    engine = create_engine(database_url)
    found: dict[str, int] = {}
    try:
        async with session_factory(engine)() as s:
            for table in CarePlansBase.metadata.sorted_tables:
                if table.name == "person_alias":
                    continue
                for column in ("person_id", "id"):
                    if column not in table.c or (column == "id" and table.name != "person"):
                        continue
                    count = await s.scalar(
                        select(func.count()).select_from(table).where(table.c[column] == person_id)
                    )
                    if count:
                        found[f"{table.name}.{column}"] = count
    finally:
        await engine.dispose()
    return found


async def events_for(care_plans: CarePlans, person_id: uuid.UUID) -> list[OutboxRow]:
    return [
        r
        for r in await outbox(care_plans.settings.database_url)
        if r.key == str(person_id) and r.topic == topics.CARE_PLANS
    ]


def timed(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "merged_at": datetime.fromisoformat(r["merged_at"])} for r in records]


def data(row: OutboxRow) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(row.payload)["data"]
    return payload


async def get(care_plans: CarePlans, path: str, headers: dict[str, str]) -> Any:
    r = await care_plans.client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_merge_before_the_old_ids_events_makes_one_record_they_all_land_on(
    care_plans: CarePlans,
) -> None:
    """(a): nothing here under the old id. The merge starts the person's record from its
    details; the old id's referral and person events that come later are the person's."""
    app = care_plans.app
    nhs = care_plans.next_nhs_number()
    old, new = uuid.uuid4(), person_id_for_nhs_number(nhs)
    referral = uuid.uuid4()
    merge = person_merged(old, nhs, [referral], postcode="N7 6LB")
    await deliver(app, merge)
    db = care_plans.settings.database_url
    assert await rows_under(db, new) == {"person.id": 1, "care_plan.person_id": 1}

    # The old id's events, delivered late: all of them the person's now.
    await deliver(app, minted_person_registered(old, sequence=1))
    await deliver(app, referral_received(old, referral))
    await deliver(app, referral_accepted(old, referral, sequence=2))

    by_old = await get(care_plans, f"/api/v1/persons/{old}", mdt_nurse(care_plans))
    assert by_old["id"] == str(new)
    assert by_old["nhs_number"] == nhs  # the late person event did not take the number away
    assert by_old["postcode"] == "N7 6LB"  # nor its older details
    assert by_old["relationship"] == "care_team"  # the accept joined the person's care team
    plan = await get(care_plans, f"/api/v1/persons/{old}/care-plan", mdt_nurse(care_plans))
    assert plan["meta"]["person_id"] == str(new)
    assert [m["team"] for m in plan["care_team"]] == ["U02795"]
    assert await rows_under(db, old) == {}
    # FHIR Patient by the old id: the person as they are now.
    r = await care_plans.client.get(f"/fhir/Patient/{old}", headers=mdt_nurse(care_plans))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == str(new)
    assert r.json()["identifier"][0]["value"] == nhs
    assert r.json()["link"] == [{"other": {"reference": f"Patient/{old}"}, "type": "replaces"}]
    Patient.model_validate(r.json())  # still a valid R4 Patient


async def test_the_front_door_merge_applies_before_and_after_the_old_id_records_alike(
    care_plans: CarePlans,
) -> None:
    """The same events in two orders: the merge first, or last (both ids then have a record
    the front door's events alone made, which needs no judgement to combine). The person's
    record ends the same."""
    app = care_plans.app
    outcomes = []
    for merge_first in (True, False):
        nhs = care_plans.next_nhs_number()
        old, new = uuid.uuid4(), person_id_for_nhs_number(nhs)
        first, second = uuid.uuid4(), uuid.uuid4()
        old_events = [
            minted_person_registered(old),
            referral_received(old, first),
            referral_accepted(old, first, MDT),
        ]
        new_events = [
            person_registered(nhs),
            referral_received(new, second),
            referral_accepted(new, second, FALLS),
        ]
        merge = person_merged(old, nhs, [first])
        order = (
            [merge, *new_events, *old_events] if merge_first else [*old_events, *new_events, merge]
        )
        for offset, event in enumerate(order):
            await deliver(app, event, offset)
        person = await get(care_plans, f"/api/v1/persons/{old}", mdt_nurse(care_plans))
        plan = await get(care_plans, f"/api/v1/persons/{new}/care-plan", falls_physio(care_plans))
        outcomes.append(
            (
                person["id"] == str(new),
                person["nhs_number"] == nhs,
                person["records_to_combine"],
                sorted(m["team"] for m in plan["care_team"]),
                plan["meta"]["records_to_combine"],
            )
        )
    assert outcomes[0] == outcomes[1] == (True, True, [], ["U02795", "falls-islington"], [])


async def _old_record_with_a_plan(care_plans: CarePlans, old: uuid.UUID) -> dict[str, Any]:
    """The old id's record as the front door and its care team made it: accepted by the MDT,
    a story, a goal and an action written by a practitioner. The plan as it then is."""
    app = care_plans.app
    referral = uuid.uuid4()
    await deliver(app, minted_person_registered(old))
    await deliver(app, referral_received(old, referral))
    await deliver(app, referral_accepted(old, referral, MDT))
    nurse = mdt_nurse(care_plans)
    plan = await get(care_plans, f"/api/v1/persons/{old}/care-plan", nurse)
    member = plan["care_team"][0]["id"]
    goal = str(uuid.uuid4())
    document = {
        **plan,
        "story": "I moved here last year and know nobody yet.",
        "goals": [{"id": goal, "description": "Go to the lunch club on Tuesdays"}],
        "actions": [
            {
                "description": "Introduce Kemi to the lunch club",
                "goal_id": goal,
                "owner": member,
                "due_date": "2026-11-30",
            }
        ],
    }
    r = await care_plans.put(str(old), document, f'"{plan["meta"]["version"]}"', nurse)
    assert r.status_code == 200, r.text
    saved: dict[str, Any] = r.json()
    saved["referral_id"] = str(referral)
    return saved


async def test_a_record_under_the_old_id_only_is_rekeyed_to_the_person(
    care_plans: CarePlans,
) -> None:
    """(b): the plan, its versions and actions, the referrals and break-glass grants move to
    the surviving id; the change is published under it; later events use it."""
    app, db = care_plans.app, care_plans.settings.database_url
    nhs = care_plans.next_nhs_number()
    old, new = uuid.uuid4(), person_id_for_nhs_number(nhs)
    before = await _old_record_with_a_plan(care_plans, old)
    outsider = care_plans.outsider()
    r = await care_plans.client.post(
        f"/api/v1/persons/{old}/break-glass",
        json={"reason": "Found collapsed at home, no one to ask"},
        headers=outsider,
    )
    assert r.status_code == 200, r.text
    merge = person_merged(old, nhs, [uuid.UUID(before["referral_id"])], postcode="N7 6LB")
    await deliver(app, merge, offset=10)

    assert await rows_under(db, old) == {}
    moved = await rows_under(db, new)
    assert moved == {
        "person.id": 1,
        "care_plan.person_id": 1,
        "plan_action.person_id": 1,
        "person_referral.person_id": 1,
        "break_glass.person_id": 1,
    }
    nurse = mdt_nurse(care_plans)
    for asked in (old, new):
        person = await get(care_plans, f"/api/v1/persons/{asked}", nurse)
        assert (person["id"], person["nhs_number"], person["postcode"]) == (
            str(new),
            nhs,
            "N7 6LB",
        )
        plan = await get(care_plans, f"/api/v1/persons/{asked}/care-plan", nurse)
        assert plan["meta"]["plan_id"] == before["meta"]["plan_id"]  # the same plan
        assert plan["meta"]["version"] == before["meta"]["version"]
        assert plan["story"] == before["story"]
        assert plan["meta"]["relationship"] == "care_team"
    history = await get(care_plans, f"/api/v1/persons/{new}/care-plan/history", nurse)
    assert len(history) == before["meta"]["version"]
    r = await care_plans.client.get(f"/fhir/Patient/{old}", headers=nurse)
    assert r.json()["id"] == str(new)
    # The person, whose token may still name the id they had, reads their own record.
    for sub in (old, new):
        themselves = token(care_plans.auth, sub=str(sub), org="", roles=["person"])
        plan = await get(care_plans, f"/api/v1/persons/{new}/care-plan", themselves)
        assert plan["meta"]["relationship"] == "self"
    someone_else = token(care_plans.auth, sub=str(uuid.uuid4()), org="", roles=["person"])
    r = await care_plans.client.get(f"/api/v1/persons/{new}/care-plan", headers=someone_else)
    assert r.status_code == 403
    # Access still by relationship: the outsider's grant moved with the person, and a
    # stranger with neither has none under either id.
    plan = await get(care_plans, f"/api/v1/persons/{old}/care-plan", outsider)
    assert plan["meta"]["relationship"] == "break_glass"
    stranger = token(care_plans.auth, sub="dn.kim", org="RRP", teams=["dn-haringey"])
    for asked in (old, new):
        r = await care_plans.client.get(f"/api/v1/persons/{asked}/care-plan", headers=stranger)
        assert r.status_code == 403, r.text
    # The person's access log shows what happened under the old id too.
    log = await get(care_plans, f"/api/v1/persons/{new}/access-log", nurse)
    assert "break-glass" in [e["action"] for e in log["entries"]]

    # Published under the surviving id: the person's details changed (the NHS number).
    (updated,) = [
        e
        for e in await events_for(care_plans, new)
        if e.event_type.endswith("updated.v1") and "person-record" in e.event_type
    ]
    assert "nhs_number" in data(updated)["changed"]
    assert data(updated)["person_id"] == str(new)
    assert data(updated)["has_nhs_number"] is True
    # Later plan events go out under it too.
    r = await care_plans.patch(
        str(new), {"review_date": "2027-01-15"}, f'"{before["meta"]["version"]}"', nurse
    )
    assert r.status_code == 200, r.text
    latest = (await outbox(db))[-1]
    assert latest.event_type == "carethread.care-plan.updated.v1"
    assert (latest.key, data(latest)["person_id"]) == (str(new), str(new))

    # Delivered again, or published again under a new event id: nothing changes.
    count = len(await outbox(db))
    await deliver(app, merge, offset=10)
    await deliver(app, person_merged(old, nhs, [], postcode="N7 6LB"), offset=11)
    assert len(await outbox(db)) == count
    assert await rows_under(db, new) == moved
    # The old id's events arriving now are the person's: an older person event changes
    # nothing, a referral accepted by another team joins the person's care team.
    await deliver(app, minted_person_registered(old, sequence=2), offset=12)
    late = uuid.uuid4()
    await deliver(app, referral_received(old, late), offset=13)
    await deliver(app, referral_accepted(old, late, FALLS), offset=14)
    person = await get(care_plans, f"/api/v1/persons/{new}", nurse)
    assert (person["nhs_number"], person["postcode"]) == (nhs, "N7 6LB")
    plan = await get(care_plans, f"/api/v1/persons/{new}/care-plan", falls_physio(care_plans))
    assert [m["team"] for m in plan["care_team"]] == ["U02795", "falls-islington"]
    assert await rows_under(db, old) == {}


async def test_two_records_are_not_combined_without_the_care_team(
    care_plans: CarePlans,
) -> None:
    """(c): both ids have a record, and the old one holds what a practitioner wrote. The
    person's record stays theirs; the old one is kept, read-only, listed to be combined,
    and its care team may use the person's record until they have combined it."""
    app, db = care_plans.app, care_plans.settings.database_url
    nhs = care_plans.next_nhs_number()
    old, new = uuid.uuid4(), person_id_for_nhs_number(nhs)
    kept = await _old_record_with_a_plan(care_plans, old)
    first = uuid.UUID(kept["referral_id"])
    # The MDT's referral closes: from now on only the old record's care team links them.
    await deliver(app, referral_status_changed(old, first, "completed", sequence=3))
    second = uuid.uuid4()
    await deliver(app, person_registered(nhs))
    await deliver(app, referral_received(new, second))
    await deliver(app, referral_accepted(new, second, FALLS))
    physio = falls_physio(care_plans)
    survivor = await get(care_plans, f"/api/v1/persons/{new}/care-plan", physio)
    nurse = mdt_nurse(care_plans)
    r = await care_plans.client.get(f"/api/v1/persons/{new}/care-plan", headers=nurse)
    assert r.status_code == 403  # not (yet) theirs

    merge = person_merged(old, nhs, [first])
    await deliver(app, merge, offset=20)
    await deliver(app, merge, offset=20)  # twice: applied once
    await deliver(app, person_merged(old, nhs, [first]), offset=21)  # republished

    listed = [
        {
            "person_id": str(old),
            "plan_id": kept["meta"]["plan_id"],
            "plan_version": kept["meta"]["version"],
            "merged_at": MERGED_AT,
            "combined_at": None,
            "combined_by": None,
        }
    ]
    for asked in (old, new):
        person = await get(care_plans, f"/api/v1/persons/{asked}", physio)
        assert (person["id"], person["nhs_number"]) == (str(new), nhs)
        assert person["plan_id"] == survivor["meta"]["plan_id"]
        assert timed(person["records_to_combine"]) == listed
        plan = await get(care_plans, f"/api/v1/persons/{asked}/care-plan", physio)
        assert plan["meta"]["plan_id"] == survivor["meta"]["plan_id"]
        assert plan["story"] == ""  # nothing copied over by the machine
        assert timed(plan["meta"]["records_to_combine"]) == listed
    # The old record's care team is the person's care team until it is combined.
    plan = await get(care_plans, f"/api/v1/persons/{new}/care-plan", nurse)
    assert plan["meta"]["relationship"] == "care_team"
    # The kept record, whole and read-only.
    path = f"/api/v1/persons/{new}/merged-records/{old}"
    old_plan = await get(care_plans, f"{path}/care-plan", nurse)
    assert (old_plan["story"], old_plan["meta"]["version"]) == (
        kept["story"],
        kept["meta"]["version"],
    )
    assert old_plan["meta"]["merged_into"] == str(new)
    history = await get(care_plans, f"{path}/care-plan/history", nurse)
    assert [v["version"] for v in history] == list(range(1, kept["meta"]["version"] + 1))
    r = await care_plans.client.get(f"/fhir/CarePlan/{kept['meta']['plan_id']}", headers=nurse)
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["subject"]["reference"]) == (
        kept["meta"]["plan_id"],
        f"Patient/{new}",
    )
    r = await care_plans.put(str(old), old_plan, f'"{kept["meta"]["version"]}"', nurse)
    assert r.status_code == 409, r.text  # never written through the old id
    r = await care_plans.client.get(f"{path}/care-plan", headers=care_plans.outsider())
    assert r.status_code == 403
    # Its overdue action is announced under the person's id now.
    care_plans.clock.advance(days=10)
    r = await care_plans.client.post(
        "/api/v1/overdue-actions/announce",
        headers=token(care_plans.auth, sub="ops", org="93C", roles=["admin"]),
    )
    assert r.status_code == 200, r.text
    (overdue,) = [r for r in await outbox(db) if r.event_type.endswith("plan-action.overdue.v1")]
    assert (overdue.key, data(overdue)["plan_id"]) == (str(new), kept["meta"]["plan_id"])
    assert await rows_under(db, old) == {
        "person.id": 1,
        "care_plan.person_id": 1,
        "plan_action.person_id": 1,
    }

    # The care team carries over what they judge right, then says it is combined.
    carried = {"story": kept["story"], "care_team": [*plan["care_team"], *kept["care_team"]]}
    r = await care_plans.patch(str(new), carried, f'"{plan["meta"]["version"]}"', nurse)
    assert r.status_code == 200, r.text
    r = await care_plans.client.post(f"{path}/combined", headers=care_plans.outsider())
    assert r.status_code == 403
    for _ in range(2):
        r = await care_plans.client.post(f"{path}/combined", headers=nurse)
        assert r.status_code == 200, r.text
        assert r.json()["combined_by"] == "nurse.nia"
    person = await get(care_plans, f"/api/v1/persons/{new}", physio)
    assert person["records_to_combine"] == []
    assert (await get(care_plans, f"/api/v1/persons/{old}/care-plan", nurse))["story"] == (
        kept["story"]
    )
    # Kept all the same: nothing is lost.
    assert (await get(care_plans, f"{path}/care-plan", physio))["story"] == kept["story"]


async def test_a_merge_of_an_id_into_itself_changes_nothing(care_plans: CarePlans) -> None:
    """Not something the front door sends (it refuses to); were it sent, the record and the
    events stay as they are."""
    nhs = care_plans.next_nhs_number()
    new = person_id_for_nhs_number(nhs)
    await deliver(care_plans.app, person_registered(nhs))
    count = len(await outbox(care_plans.settings.database_url))
    await deliver(care_plans.app, person_merged(new, nhs, [], sequence=1))
    assert len(await outbox(care_plans.settings.database_url)) == count
    assert await rows_under(care_plans.settings.database_url, new) == {
        "person.id": 1,
        "care_plan.person_id": 1,
    }


@pytest.fixture
async def pg_care_plans(postgres_url: str, auth: AuthSettings) -> AsyncIterator[CarePlans]:
    settings = CarePlansSettings(
        database_url=postgres_url,
        auth=auth,
        kafka=KafkaSettings(topic_prefix="test."),
        log_json=False,
        database_pool_size=20,
    )
    app = create_app(settings, broker=InMemoryBroker())
    async with running(app) as client:
        yield CarePlans(client, auth, Clock(), settings, app)


@pytest.mark.postgres
async def test_a_merge_and_the_old_ids_events_applied_at_once_on_postgresql(
    pg_care_plans: CarePlans,
) -> None:
    """Two consumers may apply the merge (keyed by the new id) and the old id's events at
    the same moment: each waits for the other, so nothing is left under the old id."""
    care_plans = pg_care_plans
    people = []
    for n in range(12):
        nhs = care_plans.next_nhs_number()
        old, referral = uuid.uuid4(), uuid.uuid4()
        if n % 2:  # (b): the old id has a record when the merge and its accept come
            await deliver(care_plans.app, referral_received(old, referral))
            racing = [person_merged(old, nhs, [referral]), referral_accepted(old, referral)]
        else:  # (a): the merge and the old id's first events come together
            racing = [
                person_merged(old, nhs, [referral]),
                minted_person_registered(old),
                referral_received(old, referral),
            ]
        people.append((old, person_id_for_nhs_number(nhs), racing))
    await asyncio.gather(
        *(deliver(care_plans.app, event) for _, _, racing in people for event in racing)
    )
    db = care_plans.settings.database_url
    for n, (old, new, _) in enumerate(people):
        assert await rows_under(db, old) == {}, n
        found = await rows_under(db, new)
        assert found["person.id"] == found["person_referral.person_id"] == 1, (n, found)
        if n % 2:
            plan = await get(care_plans, f"/api/v1/persons/{old}/care-plan", mdt_nurse(care_plans))
            assert [m["team"] for m in plan["care_team"]] == ["U02795"]
