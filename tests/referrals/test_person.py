"""The person at the door: their details, and the person events the other services build on."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from carethread.db import create_engine, session_factory
from carethread.db.tables import OutboxRow
from carethread.events.referrals import PersonRegisteredV1, PersonUpdatedV1
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from referrals.settings import ReferralsSettings
from referrals.store.tables import ReferralRow
from tests.referrals.test_fhir import (
    PATIENT,
    RICHARD_NHS,
    as_,
    entry,
    example,
    social_request,
    transaction,
)
from tests.referrals.test_intake_api import referral

NUMBERS = synthetic_nhs_numbers(start=8120)

PERSON_EVENTS = (PersonRegisteredV1.event_type, PersonUpdatedV1.event_type)


def full_person(nhs_number: str | None) -> dict[str, Any]:
    return {
        "nhs_number": nhs_number,
        "given_name": "Mehmet",
        "family_name": "Synthetic",
        "birth_date": "1951-07-14",
        "postcode": "N7 9DP",
        "gp_practice_code": "F83004",
        "sex": "male",
        "gender_identity": "man",
        "ethnicity_code": "c",
        "preferred_language": "tr",
        "interpreter_needed": True,
        "contact": {"phone": "020 7946 0001", "email": "mehmet@example.org"},
    }


async def person_events(settings: ReferralsSettings) -> list[dict[str, Any]]:
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as s:
        rows = (
            await s.scalars(
                select(OutboxRow)
                .where(OutboxRow.event_type.in_(PERSON_EVENTS))
                .order_by(OutboxRow.position)
            )
        ).all()
    await engine.dispose()
    return [json.loads(r.payload) for r in rows]


async def refer(
    client: httpx.AsyncClient, auth: AuthSettings, person: dict[str, Any], **more: Any
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/referrals",
        json=referral(person=person, **more),
        headers=bearer(auth, roles=["referrer"]),
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_the_door_records_how_to_communicate_with_the_person_and_consent(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    nhs = next(NUMBERS)
    body = await refer(referrals_client, auth, full_person(nhs), consent_to_share=True)
    read = body["referral"]
    assert read["person"] == {
        "nhs_number": nhs,
        "given_name": "Mehmet",
        "family_name": "Synthetic",
        "birth_date": "1951-07-14",
        "sex": "male",
        "postcode": "N7 9DP",
        "gp_practice_code": "F83004",
        "ethnicity_code": "C",
        "preferred_language": "tr",
        "interpreter_needed": True,
    }
    assert read["referrer_name"] == "Dr Example"
    assert read["referrer_role"] == "GP"
    assert read["consent_to_share"] is True
    again = await referrals_client.get(
        f"/api/v1/referrals/{body['referral_id']}", headers=bearer(auth, roles=["triager"])
    )
    assert again.json()["person"] == read["person"]
    assert again.json()["consent_to_share"] is True


async def test_a_new_person_is_registered_once_and_later_changes_are_announced(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    nhs = next(NUMBERS)
    person = full_person(nhs)
    first = await refer(referrals_client, auth, person)
    (registered,) = await person_events(referrals_settings)
    assert registered["type"] == PersonRegisteredV1.event_type
    assert registered["subject"] == str(person_id_for_nhs_number(nhs))
    assert registered["sequence"] == 1
    assert registered["neighbourhood"] == "U02795"
    details = PersonRegisteredV1.model_validate(registered["data"])
    assert str(details.referral_id) == first["referral_id"]
    assert details.person.nhs_number == nhs
    assert details.person.preferred_language == "tr"
    assert details.person.interpreter_needed is True
    assert details.person.ethnicity_code == "C"
    assert details.person.borough == "Islington"
    assert details.person.lsoa  # N7 9DP is in the reference data
    assert details.person.imd_quintile in range(1, 6)
    assert "behind on rent" not in json.dumps(registered)  # the story never travels

    # The same details again: nothing to announce. A referral that leaves details out does
    # not erase them either.
    await refer(referrals_client, auth, person)
    sparse = {"nhs_number": nhs, "given_name": "Mehmet", "family_name": "Synthetic"}
    await refer(referrals_client, auth, sparse)
    assert len(await person_events(referrals_settings)) == 1

    moved = {**person, "postcode": "N19 5QY", "contact": {"phone": "07700 900123"}}
    await refer(referrals_client, auth, moved)
    events = await person_events(referrals_settings)
    assert [e["type"] for e in events] == [*PERSON_EVENTS]
    updated = PersonUpdatedV1.model_validate(events[1]["data"])
    assert updated.changed == ["phone", "postcode"]
    assert events[1]["sequence"] == 2
    assert updated.person.postcode == "N19 5QY"
    assert updated.person.phone == "07700 900123"
    assert updated.person.email == "mehmet@example.org"  # kept from the first referral
    assert updated.person.preferred_language == "tr"


async def test_a_person_with_no_nhs_number_is_registered_under_the_id_the_door_minted(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    person = full_person(None)
    first = await refer(referrals_client, auth, person)
    second = await refer(referrals_client, auth, person)  # matched on demographics
    assert second["person_id"] == first["person_id"]
    (registered,) = await person_events(referrals_settings)
    assert registered["data"]["person_id"] == first["person_id"]
    assert registered["data"]["person"]["nhs_number"] is None


async def test_two_referrals_for_one_new_person_at_once_register_them_once(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    nhs = next(NUMBERS)
    people = [full_person(nhs) for _ in range(6)]
    people[3]["preferred_language"] = "ku"  # one of them says something new
    results = await asyncio.gather(*(refer(referrals_client, auth, p) for p in people))
    assert len({r["person_id"] for r in results}) == 1
    events = await person_events(referrals_settings)
    types = [e["type"] for e in events]
    assert types.count(PersonRegisteredV1.event_type) == 1
    assert types[0] == PersonRegisteredV1.event_type
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ethnicity_code": "Q"}, "person.ethnicity_code"),
        ({"preferred_language": "Turkish"}, "person.preferred_language"),
        ({"sex": "m"}, "person.sex"),
        ({"contact": {"phone": "call me"}}, "person.contact.phone"),
        ({"contact": {"email": "not an address"}}, "person.contact.email"),
    ],
)
async def test_bad_person_details_are_422_naming_the_field_and_nothing_is_written(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    referrals_settings: ReferralsSettings,
    change: dict[str, Any],
    field: str,
) -> None:
    person = {**full_person(next(NUMBERS)), **change}
    r = await referrals_client.post(
        "/api/v1/referrals", json=referral(person=person), headers=bearer(auth, roles=["referrer"])
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]]
    engine = create_engine(referrals_settings.database_url)
    async with session_factory(engine)() as s:
        assert await s.scalar(select(func.count()).select_from(ReferralRow)) == 0
        assert await s.scalar(select(func.count()).select_from(OutboxRow)) == 0
    await engine.dispose()


async def test_an_epr_patient_brings_gender_ethnicity_language_interpreter_and_contact(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    official = example(PATIENT)  # UK Core's Richard Smith: ethnic category G, BSL, phone
    official["extension"].append(
        {
            "url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired",
            "valueBoolean": True,
        }
    )
    sr = social_request(subject={"reference": f"Patient/{official['id']}"})
    sr["contained"] = [c for c in sr["contained"] if c["resourceType"] != "Patient"]
    bundle = transaction(entry(official), entry(sr))
    r = await referrals_client.post(
        "/fhir", content=json.dumps(bundle), headers=as_(auth, "referrer")
    )
    assert r.status_code == 200, r.text
    (registered,) = await person_events(referrals_settings)
    person = registered["data"]["person"]
    assert person["nhs_number"] == RICHARD_NHS
    assert person["sex"] == "male"
    assert person["ethnicity_code"] == "G"
    assert person["preferred_language"] == "bfi"
    assert person["interpreter_needed"] is True
    phones = [t["value"] for t in official["telecom"] if t["system"] == "phone"]
    assert person["phone"] == phones[0]
