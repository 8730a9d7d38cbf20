"""One person's story across the services, over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carethread.events.referrals import Destination
from carethread.settings import AuthSettings
from tests.mdt.app import MdtService, mdt_service
from tests.mdt.history import START, Listing, Person, Referral


@pytest.fixture
async def mdt(database_url: str, auth: AuthSettings):  # type: ignore[no-untyped-def]
    async with mdt_service(database_url, auth) as service:
        yield service


async def test_the_timeline_names_a_service_by_its_current_directory_name(
    mdt: MdtService,
) -> None:
    listing = Listing()
    person = Person(1, nhs_number=None)
    referral = Referral(person)
    where = Destination(kind="service", id=str(listing.service_id), name="Befriending")
    await mdt.feed(
        [
            person.referred(referral, START),
            referral.triaged(START + timedelta(hours=2), "route", "routed", where),
            person.measured(START + timedelta(days=9), 20.0),
            listing.published(START, "Befriending"),
            listing.published(START + timedelta(days=3), "Befriending Plus", update=True),
        ]
    )
    r = await mdt.client.get(
        f"/api/v1/persons/{person.person_id}/timeline", headers=mdt.as_member(roles=("admin",))
    )
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    assert [(e["source_service"], e["organisation"]) for e in entries] == [
        ("referrals", "F83004"),
        ("referrals", "93C"),
        ("outcomes", "VCSE01"),
    ]
    assert entries[1]["summary"] == "Referral triaged: route to Befriending"
    assert entries[1]["directory_service"] == {
        "service_id": str(listing.service_id),
        "name": "Befriending Plus",
    }
    assert set(r.json()["freshness"]["sources"]) == {"referrals", "outcomes", "directory"}
