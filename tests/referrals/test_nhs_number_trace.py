"""An NHS number trace at the front door: someone recorded without an NHS number is found,
their id becomes their NHS number's, a duplicate record of theirs becomes one, and every
other service is told (``person.merged``)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from carethread.db import create_engine, session_factory
from carethread.db.tables import AuditRow, OutboxRow
from carethread.events.referrals import PersonMergedV1
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from referrals.settings import ReferralsSettings
from referrals.store.tables import PersonMergeRow, PersonRow
from tests.referrals.test_person import full_person, refer

NUMBERS = synthetic_nhs_numbers(start=8730)


def unnumbered(**changes: Any) -> dict[str, Any]:
    """Mehmet as an outreach worker refers him: no NHS number, no GP, a phone number."""
    person = {**full_person(None), "gp_practice_code": None, **changes}
    return person


def trace_url(person_id: str) -> str:
    return f"/api/v1/persons/{person_id}/nhs-number-trace"


async def merged_events(settings: ReferralsSettings) -> list[dict[str, Any]]:
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as s:
        rows = (
            await s.scalars(
                select(OutboxRow).where(OutboxRow.event_type == PersonMergedV1.event_type)
            )
        ).all()
    await engine.dispose()
    return [{**json.loads(r.payload), "key": r.key} for r in rows]


async def count(settings: ReferralsSettings, row: type[Any], **where: Any) -> int:
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as s:
        statement = select(func.count()).select_from(row)
        for name, value in where.items():
            statement = statement.where(getattr(row, name) == value)
        n = await s.scalar(statement)
    await engine.dispose()
    return int(n or 0)


async def test_a_trace_gives_a_person_their_nhs_number_id_and_tells_every_service(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    first = await refer(referrals_client, auth, unnumbered(), source="vcse")
    second = await refer(referrals_client, auth, unnumbered(), source="self")
    minted = first["person_id"]
    assert second["person_id"] == minted  # the documented demographic match at the door
    nhs = next(NUMBERS)
    triager = bearer(auth, roles=["triager"], boroughs=["Islington"], sub="triager-1")

    r = await referrals_client.post(trace_url(minted), json={"nhs_number": nhs}, headers=triager)

    assert r.status_code == 201, r.text
    body = r.json()
    new = str(person_id_for_nhs_number(nhs))
    assert body["person_id"] == new
    assert body["merged_person_id"] == minted
    assert body["into_existing_record"] is False
    assert sorted(body["referral_ids"]) == sorted([first["referral_id"], second["referral_id"]])
    # Each referral now belongs to the traced person, with their number.
    read = await referrals_client.get(f"/api/v1/referrals/{first['referral_id']}", headers=triager)
    assert read.json()["person_id"] == new
    assert read.json()["person"]["nhs_number"] == nhs
    # One event, keyed by the person now, continuing the person's versions.
    (event,) = await merged_events(referrals_settings)
    assert event["key"] == new
    assert event["id"] == body["event_id"]
    data = PersonMergedV1.model_validate(event["data"])
    assert (str(data.person_id), str(data.merged_person_id)) == (new, minted)
    assert data.person.nhs_number == nhs
    assert data.person.phone == "020 7946 0001"
    assert data.merged_by == "triager-1"
    assert event["sequence"] == 2  # registered at 1; the second referral changed nothing
    assert await count(referrals_settings, PersonRow, person_id=uuid.UUID(minted)) == 0
    assert await count(referrals_settings, AuditRow, action="merge") == 1

    # The same trace again (a retry) answers as the first did and changes nothing.
    again = await referrals_client.post(
        trace_url(minted), json={"nhs_number": nhs}, headers=triager
    )
    assert again.status_code == 200, again.text
    assert again.json() == body
    # ... but only to those who may trace the person: another borough's front door is refused.
    barnet = bearer(auth, roles=["triager"], boroughs=["Barnet"])
    refused = await referrals_client.post(
        trace_url(minted), json={"nhs_number": nhs}, headers=barnet
    )
    assert refused.status_code == 403, refused.text
    assert "merged_person_id" not in refused.text
    assert len(await merged_events(referrals_settings)) == 1
    # Another number for the same minted id is refused, naming the first.
    other = await referrals_client.post(
        trace_url(minted), json={"nhs_number": next(NUMBERS)}, headers=triager
    )
    assert other.status_code == 409, other.text
    assert nhs in other.json()["detail"]


async def test_two_records_of_one_resident_become_one(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    nhs = next(NUMBERS)
    # Known to the GP by number (no phone on file), and to an outreach team without one.
    known = await refer(referrals_client, auth, {**full_person(nhs), "contact": None})
    shadow = await refer(
        referrals_client, auth, unnumbered(family_name="Synthetik", postcode="N19 5NF")
    )
    assert shadow["person_id"] != known["person_id"]

    r = await referrals_client.post(
        trace_url(shadow["person_id"]),
        json={"nhs_number": nhs},
        headers=bearer(auth, roles=["triager"]),
    )

    assert r.status_code == 201, r.text
    assert r.json()["person_id"] == known["person_id"]
    assert r.json()["into_existing_record"] is True
    assert r.json()["referral_ids"] == [shadow["referral_id"]]
    (event,) = await merged_events(referrals_settings)
    data = PersonMergedV1.model_validate(event["data"])
    # The NHS-number record's details win; the minted one fills in what it lacked.
    assert data.person.family_name == "Synthetic"
    assert data.person.postcode == "N7 9DP"
    assert data.person.gp_practice_code == "F83004"
    assert data.person.phone == "020 7946 0001"
    # Both records were at version 1: the merge is above both.
    assert event["sequence"] == 2
    assert await count(referrals_settings, PersonRow) == 1
    # A later referral by number finds both referrals open for the person.
    later = await refer(referrals_client, auth, full_person(nhs))
    assert later["person_id"] == known["person_id"]
    detail = await referrals_client.get(
        f"/api/v1/referrals/{later['referral_id']}", headers=bearer(auth, roles=["triager"])
    )
    linked = {link["referral_id"] for link in detail.json()["linked"]}
    assert linked == {known["referral_id"], shadow["referral_id"]}


async def test_a_bad_trace_is_refused_and_changes_nothing(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    minted = (await refer(referrals_client, auth, unnumbered()))["person_id"]
    triager = bearer(auth, roles=["triager"])
    nhs = next(NUMBERS)

    bad_digit = await referrals_client.post(
        trace_url(minted),
        json={"nhs_number": nhs[:9] + str((int(nhs[9]) + 1) % 10)},
        headers=triager,
    )
    assert bad_digit.status_code == 422, bad_digit.text
    assert bad_digit.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in bad_digit.json()["errors"]] == ["nhs_number"]

    unknown = await referrals_client.post(
        trace_url(str(uuid.uuid4())), json={"nhs_number": nhs}, headers=triager
    )
    assert unknown.status_code == 404, unknown.text

    referrer = await referrals_client.post(
        trace_url(minted), json={"nhs_number": nhs}, headers=bearer(auth, roles=["referrer"])
    )
    assert referrer.status_code == 403, referrer.text

    elsewhere = await referrals_client.post(
        trace_url(minted),
        json={"nhs_number": nhs},
        headers=bearer(auth, roles=["triager"], boroughs=["Barnet"]),
    )
    assert elsewhere.status_code == 403, elsewhere.text
    assert await count(referrals_settings, AuditRow, action="merge", outcome="denied") == 1

    numbered = await refer(referrals_client, auth, full_person(nhs))
    itself = await referrals_client.post(
        trace_url(numbered["person_id"]), json={"nhs_number": nhs}, headers=triager
    )
    assert itself.status_code == 409, itself.text

    assert await merged_events(referrals_settings) == []
    assert await count(referrals_settings, PersonMergeRow) == 0
    assert await count(referrals_settings, PersonRow, person_id=uuid.UUID(minted)) == 1
