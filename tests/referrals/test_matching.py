"""Tell my story once: the door links a person's open referrals and flags probable
duplicates, by NHS number or, for people without one, by the documented demographic match."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from referrals.domain.matching import demographic_key
from tests.referrals.test_intake_api import referral

NO_NHS = {
    "given_name": "Zoë",
    "family_name": "O'Brien-Smith",
    "birth_date": "1961-07-14",
    "postcode": "N1 9GU",
}


async def refer(client: httpx.AsyncClient, auth: AuthSettings, **overrides: object) -> Any:
    r = await client.post(
        "/api/v1/referrals", json=referral(**overrides), headers=bearer(auth, roles=["referrer"])
    )
    assert r.status_code == 201, r.text
    return r.json()


async def detail(client: httpx.AsyncClient, auth: AuthSettings, referral_id: str) -> Any:
    r = await client.get(
        f"/api/v1/referrals/{referral_id}", headers=bearer(auth, roles=["triager"])
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_the_demographic_match_key_ignores_case_accents_and_punctuation() -> None:
    a = demographic_key("Zoë", "O'Brien-Smith", date(1961, 7, 14), "n1 9gu")
    b = demographic_key("ZOE", "obrien smith", date(1961, 7, 14), "N19GU")
    assert a is not None
    assert a == b
    assert demographic_key("Zoe", "OBrien", date(1961, 7, 14), "N1 9GU") != a
    assert demographic_key("Zoe", "O'Brien-Smith", None, "N1 9GU") is None  # no guessing
    assert demographic_key("Zoe", "O'Brien-Smith", date(1961, 7, 14), None) is None


async def test_a_second_referral_with_a_shared_reason_is_a_probable_duplicate(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    first = await refer(referrals_client, auth, reasons=["isolation", "housing"])
    second = await refer(referrals_client, auth, reasons=["housing"])
    assert second["person_id"] == first["person_id"]
    # The receipt says so at once, as the referral's record does.
    assert first["referral"]["probable_duplicate"] is False
    assert second["referral"]["probable_duplicate"] is True
    seen = await detail(referrals_client, auth, second["referral_id"])
    assert seen["probable_duplicate"] is True
    assert [(x["referral_id"], x["kind"], x["matched_on"]) for x in seen["linked"]] == [
        (first["referral_id"], "probable_duplicate", "nhs_number")
    ]
    # Flagged, not merged: both stay in the queue, and the first shows the link too.
    earlier = await detail(referrals_client, auth, first["referral_id"])
    assert [x["referral_id"] for x in earlier["linked"]] == [second["referral_id"]]
    assert earlier["probable_duplicate"] is False
    r = await referrals_client.get("/api/v1/referrals", headers=bearer(auth, roles=["triager"]))
    flags = {i["id"]: i["probable_duplicate"] for i in r.json()["items"]}
    assert flags == {first["referral_id"]: False, second["referral_id"]: True}


async def test_other_needs_for_the_same_person_are_linked_not_flagged(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    first = await refer(referrals_client, auth, reasons=["housing"])
    second = await refer(referrals_client, auth, reasons=["falls-frailty"])
    seen = await detail(referrals_client, auth, second["referral_id"])
    assert seen["probable_duplicate"] is False
    assert [(x["referral_id"], x["kind"]) for x in seen["linked"]] == [
        (first["referral_id"], "same_person")
    ]


async def test_people_without_an_nhs_number_are_matched_on_demographics(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    first = await refer(referrals_client, auth, person=NO_NHS, reasons=["food"])
    spelled_differently = {**NO_NHS, "given_name": "ZOE", "family_name": "obrien smith"}
    second = await refer(referrals_client, auth, person=spelled_differently, reasons=["food"])
    assert second["person_id"] == first["person_id"]  # the same person at the door
    seen = await detail(referrals_client, auth, second["referral_id"])
    assert [(x["referral_id"], x["matched_on"]) for x in seen["linked"]] == [
        (first["referral_id"], "demographics")
    ]
    assert seen["probable_duplicate"] is True

    no_birth_date = {k: v for k, v in NO_NHS.items() if k != "birth_date"}
    third = await refer(referrals_client, auth, person=no_birth_date, reasons=["food"])
    assert third["person_id"] != first["person_id"]  # not enough to match: no guessing
    assert (await detail(referrals_client, auth, third["referral_id"]))["linked"] == []


async def test_closed_referrals_are_not_linked(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    first = await refer(referrals_client, auth, reasons=["housing"])
    r = await referrals_client.post(
        f"/api/v1/referrals/{first['referral_id']}/triage",
        json={"decision": "decline", "reason": "Already supported"},
        headers=bearer(auth, roles=["triager"]),
    )
    assert r.status_code == 200, r.text
    second = await refer(referrals_client, auth, reasons=["housing"])
    seen = await detail(referrals_client, auth, second["referral_id"])
    assert seen["linked"] == []
    assert seen["probable_duplicate"] is False
