"""One person's story across the services, over HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from carethread.db.tables import AuditRow
from carethread.events.referrals import Destination
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
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


async def test_timelines_follow_the_care_relationship_and_every_read_is_audited(
    mdt: MdtService,
) -> None:
    person = Person(2, nhs_number=None)
    referral = Referral(person)
    team = Destination(kind="team", id="falls-team", name="Falls team")
    member = uuid.uuid4()
    day = START + timedelta(days=1)
    await mdt.feed(
        [
            person.referred(referral, START),
            referral.triaged(day, "accept", "accepted", team),
            referral.moved(day + timedelta(hours=1), "start", "in_progress"),
            *person.plan_saved(day, "RKE"),
            *person.plan_saved(day, "RKE"),
            person.member(member, day, "RKE"),
        ]
    )
    path = f"/api/v1/persons/{person.person_id}/timeline"

    def as_(**claims: Any) -> dict[str, str]:
        return bearer(mdt.auth, **{"roles": ["practitioner"], "org": "X99", **claims})

    readers = {
        "referrer's organisation": as_(org="F83004"),
        "team it was sent to": as_(teams=["falls-team"]),
        "care team": as_(teams=["RKE-team"]),
        "front door": as_(roles=["triager"]),
        "the person": as_(roles=["person"], sub=str(person.person_id)),
    }
    for who, headers in readers.items():
        r = await mdt.client.get(path, headers=headers)
        assert r.status_code == 200, who
    refused = {
        "another team": as_(teams=["other-team"]),
        "the neighbourhood alone": as_(neighbourhoods=["U02795"]),
        "an admin with no relationship": as_(roles=["admin"]),
        "another person": as_(roles=["person"], sub=str(uuid.uuid4())),
    }
    for who, headers in refused.items():
        r = await mdt.client.get(path, headers=headers)
        assert r.status_code == 403, who
    r = await mdt.client.get(f"/api/v1/persons/{uuid.uuid4()}/timeline", headers=as_(org="F83004"))
    assert r.status_code == 404

    async with mdt.runtime.sessions() as s:
        audited = (
            await s.execute(
                select(AuditRow.outcome, func.count())
                .where(AuditRow.resource_type == "Timeline", AuditRow.person_id == person.person_id)
                .group_by(AuditRow.outcome)
            )
        ).all()
    assert dict(audited) == {"success": len(readers), "refused": len(refused)}
