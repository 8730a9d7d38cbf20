"""Access by relationship: the care team and teams with an open referral may use a record;
anyone else gets 403 or breaks the glass with a reason, audited and flagged. The person may
read their own record. The access log answers "who has looked at my record"."""

from __future__ import annotations

import uuid
from typing import Any

from carethread.nhs import person_id_for_nhs_number
from tests.care_plans.conftest import OUTSIDER_ORG, CarePlans, token
from tests.care_plans.events_in import (
    deliver,
    person_registered,
    referral_received,
    referral_status_changed,
)

PROBLEM = "application/problem+json"


async def access_log(care_plans: CarePlans, person_id: str) -> list[dict[str, Any]]:
    r = await care_plans.client.get(
        f"/api/v1/persons/{person_id}/access-log", headers=care_plans.gp()
    )
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()["entries"]
    return entries


async def test_someone_outside_the_care_team_is_refused_and_the_attempt_is_logged(
    care_plans: CarePlans,
) -> None:
    person_id = (await care_plans.record_person())["id"]
    for path in ("", "/care-plan", "/care-plan/history", "/access-log"):
        r = await care_plans.client.get(
            f"/api/v1/persons/{person_id}{path}", headers=care_plans.outsider()
        )
        assert r.status_code == 403, (path, r.text)
        assert r.headers["content-type"] == PROBLEM
    r = await care_plans.patch(person_id, {"story": "x"}, '"1"', care_plans.outsider())
    assert r.status_code == 403
    assert "break" in r.json()["detail"]

    denied = [e for e in await access_log(care_plans, person_id) if e["outcome"] == "denied"]
    assert len(denied) == 5
    assert {(e["actor"], e["organisation"]) for e in denied} == {("dn.olu", OUTSIDER_ORG)}
    assert (await care_plans.plan(person_id)).json()["story"] == ""


async def test_break_glass_reads_with_a_reason_are_flagged_and_never_allow_a_change(
    care_plans: CarePlans,
) -> None:
    person_id = (await care_plans.record_person())["id"]
    url = f"/api/v1/persons/{person_id}/break-glass"
    short = await care_plans.client.post(url, json={"reason": "x"}, headers=care_plans.outsider())
    assert short.status_code == 422
    assert [e["field"] for e in short.json()["errors"]] == ["reason"]

    reason = "Found collapsed at home; A&E needs her contingency plan and carer details."
    r = await care_plans.client.post(url, json={"reason": reason}, headers=care_plans.outsider())
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["relationship"] == "break_glass"
    # For the next hour their reads are allowed, and flagged.
    r = await care_plans.plan(person_id, care_plans.outsider())
    assert r.status_code == 200
    assert r.json()["meta"]["relationship"] == "break_glass"
    r = await care_plans.patch(person_id, {"story": "x"}, '"1"', care_plans.outsider())
    assert r.status_code == 403
    assert r.json()["detail"] == "You may read this record but not change it."
    care_plans.clock.advance(hours=1, minutes=1)
    assert (await care_plans.plan(person_id, care_plans.outsider())).status_code == 403

    log = await access_log(care_plans, person_id)
    outsider = [e for e in reversed(log) if e["actor"] == "dn.olu"]
    assert [(e["action"], e["outcome"], e["break_glass"]) for e in outsider] == [
        ("break-glass", "success", True),
        ("read", "success", True),
        ("patch", "denied", True),
        ("read", "denied", False),
    ]
    assert outsider[0]["reason"] == reason
    assert outsider[0]["purpose"] == "break-glass"


async def test_the_access_log_lists_every_read_by_whom_and_why(care_plans: CarePlans) -> None:
    person_id = (await care_plans.record_person())["id"]
    await care_plans.plan(person_id)
    await care_plans.client.get(f"/api/v1/persons/{person_id}", headers=care_plans.gp("dr.bo"))
    log = await access_log(care_plans, person_id)
    # Newest first: this request's own read of the log, then the two reads, then the create.
    assert [(e["actor"], e["action"], e["resource_type"]) for e in log] == [
        ("dr.ada", "read-access-log", "AccessLog"),
        ("dr.bo", "read", "Patient"),
        ("dr.ada", "read", "CarePlan"),
        ("dr.ada", "create", "Patient"),
    ]
    assert {e["purpose"] for e in log} == {"direct-care"}
    assert {e["organisation"] for e in log} == {"F83004"}


async def test_the_person_reads_their_own_plan_and_log_but_cannot_change_it(
    care_plans: CarePlans,
) -> None:
    person_id = (await care_plans.record_person())["id"]
    me = token(care_plans.auth, sub=person_id, org="PERSON", roles=["person"])
    r = await care_plans.plan(person_id, me)
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["relationship"] == "self"
    r = await care_plans.client.get(f"/api/v1/persons/{person_id}/access-log", headers=me)
    assert r.status_code == 200
    assert r.json()["entries"][1]["purpose"] == "own-record"
    assert (await care_plans.patch(person_id, {"story": "x"}, '"1"', me)).status_code == 403

    someone_else = (await care_plans.record_person())["id"]
    assert (await care_plans.plan(someone_else, me)).status_code == 403
    r = await care_plans.client.post(
        f"/api/v1/persons/{someone_else}/break-glass",
        json={"reason": "I would like to see this please"},
        headers=me,
    )
    assert r.status_code == 403


async def test_an_open_referral_gives_a_relationship_until_it_closes(
    care_plans: CarePlans,
) -> None:
    nhs = care_plans.next_nhs_number()
    person_id = person_id_for_nhs_number(nhs)
    referral_id = uuid.uuid4()
    await deliver(care_plans.app, person_registered(nhs))
    await deliver(care_plans.app, referral_received(person_id, referral_id))
    referrer = care_plans.gp()  # the referring practice
    triager = token(care_plans.auth, sub="triager.tom", org="93C", roles=["triager"])
    for who in (referrer, triager):
        r = await care_plans.plan(str(person_id), who)
        assert r.status_code == 200, r.text
        assert r.json()["meta"]["relationship"] == "open_referral"
    r = await care_plans.patch(str(person_id), {"story": "Told at the front door."}, '"1"')
    assert r.status_code == 200, r.text

    withdrawn = referral_status_changed(person_id, referral_id, "withdrawn", sequence=2)
    await deliver(care_plans.app, withdrawn)
    assert (await care_plans.plan(str(person_id), referrer)).status_code == 403
    assert (await care_plans.plan(str(person_id), triager)).status_code == 403
