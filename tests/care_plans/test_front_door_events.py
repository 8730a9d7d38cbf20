"""The record follows the front door by events: a referred person is findable at once, an
accepting team joins the care team, and every event is applied once however often it comes."""

from __future__ import annotations

import uuid
from datetime import timedelta

from carethread.events.referrals import Destination
from carethread.nhs import person_id_for_nhs_number
from tests.care_plans.conftest import CarePlans, token
from tests.care_plans.events_in import (
    AT,
    MDT,
    deliver,
    person_registered,
    person_updated,
    referral_accepted,
    referral_received,
)


def mdt_nurse(care_plans: CarePlans) -> dict[str, str]:
    return token(care_plans.auth, sub="nurse.nia", org="RAL", neighbourhoods=["U02795"])


def front_door(care_plans: CarePlans) -> dict[str, str]:
    return token(care_plans.auth, sub="triager.tom", org="93C", roles=["triager"])


async def test_a_registered_person_is_findable_with_an_empty_plan(care_plans: CarePlans) -> None:
    nhs = care_plans.next_nhs_number()
    person_id = person_id_for_nhs_number(nhs)
    await deliver(care_plans.app, person_registered(nhs))
    await deliver(care_plans.app, referral_received(person_id, uuid.uuid4()))

    r = await care_plans.client.get(f"/api/v1/persons/{person_id}", headers=care_plans.gp())
    assert r.status_code == 200, r.text  # the referring practice has an open referral
    person = r.json()
    assert person["nhs_number"] == nhs
    assert person["recorded_from"] == "front_door"
    assert person["preferred_language"] == "yo"
    assert person["interpreter_needed"] is True
    assert person["relationship"] == "open_referral"
    plan = (await care_plans.plan(str(person_id))).json()
    assert plan["meta"]["version"] == 1
    assert plan["care_team"] == []
    types = await care_plans.event_types()
    assert types[:2] == ["carethread.person-record.created.v1", "carethread.care-plan.created.v1"]


async def test_a_referral_received_before_the_person_event_still_starts_the_record(
    care_plans: CarePlans,
) -> None:
    nhs = care_plans.next_nhs_number()
    person_id = person_id_for_nhs_number(nhs)
    await deliver(care_plans.app, referral_received(person_id, uuid.uuid4()))
    person = (
        await care_plans.client.get(f"/api/v1/persons/{person_id}", headers=care_plans.gp())
    ).json()
    assert (person["given_name"], person["nhs_number"]) == ("Kemi", None)

    await deliver(care_plans.app, person_registered(nhs))
    person = (
        await care_plans.client.get(f"/api/v1/persons/{person_id}", headers=care_plans.gp())
    ).json()
    assert person["nhs_number"] == nhs  # the person event fills in what the summary lacked
    assert "carethread.person-record.updated.v1" in await care_plans.event_types()


async def test_an_older_person_update_delivered_late_is_ignored(care_plans: CarePlans) -> None:
    nhs = care_plans.next_nhs_number()
    person_id = person_id_for_nhs_number(nhs)
    await deliver(care_plans.app, person_registered(nhs))
    await deliver(care_plans.app, referral_received(person_id, uuid.uuid4()))
    # The front door's version decides, not the time: its times are when referrals came in
    # (an EPR may send one late), so version 2 may carry a later time than version 3.
    newer = person_updated(nhs, at=AT + timedelta(days=1), sequence=3, postcode="N7 6LB")
    older = person_updated(nhs, at=AT + timedelta(days=2), sequence=2, postcode="N19 3NU")
    await deliver(care_plans.app, newer)
    await deliver(care_plans.app, older)
    person = (
        await care_plans.client.get(f"/api/v1/persons/{person_id}", headers=care_plans.gp())
    ).json()
    assert person["postcode"] == "N7 6LB"


async def test_an_accepted_referral_makes_the_team_a_care_team_member_once(
    care_plans: CarePlans,
) -> None:
    nhs = care_plans.next_nhs_number()
    person_id = person_id_for_nhs_number(nhs)
    referral_id = uuid.uuid4()
    await deliver(care_plans.app, person_registered(nhs))
    await deliver(care_plans.app, referral_received(person_id, referral_id))
    # Before acceptance the MDT has no relationship with the person.
    assert (await care_plans.plan(str(person_id), mdt_nurse(care_plans))).status_code == 403

    accepted = referral_accepted(person_id, referral_id)
    await deliver(care_plans.app, accepted, offset=2)
    await deliver(care_plans.app, accepted, offset=2)  # delivered twice: applied once
    # The same decision re-published under a new event id changes nothing either.
    await deliver(care_plans.app, referral_accepted(person_id, referral_id, sequence=3))

    r = await care_plans.plan(str(person_id), mdt_nurse(care_plans))
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["meta"]["relationship"] == "care_team"
    assert plan["meta"]["version"] == 2
    (member,) = plan["care_team"]
    assert (member["team"], member["name"], member["referral_id"]) == (
        "U02795",
        "North 2 Islington PCN MDT",
        str(referral_id),
    )
    types = await care_plans.event_types()
    assert types.count("carethread.care-team.member-joined.v1") == 1
    history = (
        await care_plans.client.get(
            f"/api/v1/persons/{person_id}/care-plan/history", headers=mdt_nurse(care_plans)
        )
    ).json()
    assert history[1]["changed_by"] == "triager.tom"
    assert history[1]["organisation"] == "93C"
    assert history[1]["reason"] == f"referral {referral_id} accepted by North 2 Islington PCN MDT"

    # A second team, accepted on another referral, joins beside the first.
    other = uuid.uuid4()
    await deliver(care_plans.app, referral_received(person_id, other))
    team = Destination(kind="team", id="falls-islington", name="Islington falls service")
    await deliver(care_plans.app, referral_accepted(person_id, other, team))
    plan = (await care_plans.plan(str(person_id), mdt_nurse(care_plans))).json()
    assert [m["team"] for m in plan["care_team"]] == ["U02795", "falls-islington"]


async def test_an_accept_for_a_person_never_seen_is_retried_then_dead_lettered(
    care_plans: CarePlans,
) -> None:
    person_id = uuid.uuid4()
    runtime = care_plans.app.state.runtime
    await deliver(care_plans.app, referral_accepted(person_id, uuid.uuid4(), MDT))
    assert runtime.consumer.applied == 0
    r = await care_plans.client.get(f"/api/v1/persons/{person_id}", headers=front_door(care_plans))
    assert r.status_code == 404
