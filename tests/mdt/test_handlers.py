"""Every producing service's events reach the view through the real handlers and inbox:
the caseload line, the timeline, stale and repeated changes, and events in any order."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from carethread.db.tables import InboxRow
from carethread.events import CloudEvent
from carethread.events.referrals import Destination
from mdt.store.tables import (
    CaseloadPersonRow,
    CaseloadReferralRow,
    DirectoryServiceRow,
    TimelineEntryRow,
)
from tests.mdt.history import NEIGHBOURHOOD, START, Listing, Person, Referral
from tests.mdt.support import View, view


def story() -> tuple[Person, Referral, list[CloudEvent]]:
    """A person referred, accepted, given a plan with a nurse, a goal and an overdue
    action, measured twice (worse the second time)."""
    person = Person(1, nhs_number=None, imd_quintile=1, gp_practice_code=None)
    referral = Referral(person, urgency="urgent")
    member, goal, action = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    mdt = Destination(kind="neighbourhood_mdt", id=NEIGHBOURHOOD, name="North 2 Islington MDT")
    day = START + timedelta(days=1)
    events = [
        person.registered(referral.referral_id, START),
        person.referred(referral, START, reasons=("carers",)),
        referral.breached(START + timedelta(hours=30)),
        referral.triaged(day + timedelta(hours=8), "accept", "accepted", mdt, breached=True),
        person.updated(referral.referral_id, day, interpreter_needed=True),
        person.record_created(day),
        *person.plan_saved(day, "RAP"),
        *person.plan_saved(day + timedelta(hours=1), "RAP"),
        person.member(member, day + timedelta(hours=1), "RAP", key_worker=True),
        person.goal(goal, day + timedelta(hours=1), "RAP"),
        person.action(action, member, day + timedelta(hours=1), "RAP", due=START.date()),
        person.action(
            action, member, day + timedelta(days=2), "RAP", due=START.date(), kind="overdue"
        ),
        person.measured(day, 21.5),
        person.measured(day + timedelta(days=20), 17.0, first=21.5),
    ]
    return person, referral, events


async def line(v: View, person: Person) -> CaseloadPersonRow:
    async with v.sessions() as s:
        row = await s.get(CaseloadPersonRow, person.person_id)
    assert row is not None
    return row


async def test_a_story_across_all_services_makes_one_caseload_line(database_url: str) -> None:
    person, referral, events = story()
    async with view(database_url) as v:
        await v.apply(events)
        row = await line(v, person)
        assert (row.neighbourhood, row.on_caseload) == (NEIGHBOURHOOD, True)
        assert (row.referral_id, row.status, row.urgency) == (
            referral.referral_id,
            "accepted",
            "urgent",
        )
        assert row.sla_breached is True
        assert row.waiting_since == START
        assert (row.plan_id, row.plan_status) == (person.plan_id, "active")
        assert [(m["organisation"], m["role"], m["key_worker"]) for m in row.care_team] == [
            ("RAP", "Community nurse", True)
        ]
        assert (row.open_actions, row.earliest_open_due) == (1, START.date())
        assert row.wellbeing is not None
        assert (row.wellbeing["score"], row.wellbeing["change_direction"]) == (
            17.0,
            "deteriorated",
        )
        assert row.deteriorated == ["swemwbs"]
        assert row.flags == [
            "core20plus5",
            "inclusion_health",
            "carer",
            "no_gp",
            "interpreter_needed",
        ]


async def test_every_event_is_on_the_timeline_naming_service_and_organisation(
    database_url: str,
) -> None:
    person, _, events = story()
    async with view(database_url) as v:
        await v.apply(events)
        async with v.sessions() as s:
            entries = (
                await s.scalars(
                    select(TimelineEntryRow).where(TimelineEntryRow.person_id == person.person_id)
                )
            ).all()
    by_type = {e.event_type: e for e in entries}
    # Everything but the registration, which comes with the referral's intake.
    registration = "carethread.person.registered.v1"
    assert set(by_type) == {e.type for e in events} - {registration}
    assert len(entries) == len([e for e in events if e.type != registration])
    assert by_type["carethread.referral.received.v1"].organisation == "F83004"
    assert by_type["carethread.referral.triaged.v1"].organisation == "93C"
    assert by_type["carethread.care-team.member-joined.v1"].source_service == "care_plans"
    assert by_type["carethread.care-team.member-joined.v1"].organisation == "RAP"
    measured = by_type["carethread.outcome-measure.recorded.v1"]
    assert (measured.source_service, measured.organisation) == ("outcomes", "VCSE01")
    assert (
        "deteriorated"
        in max(
            (e for e in entries if e.source_service == "outcomes"), key=lambda e: e.occurred_at
        ).summary
    )


async def test_any_order_with_repeats_gives_the_same_view(
    database_url: str, other_database_url: str
) -> None:
    """Reversed, one event at a time, every event twice: a care-team event, the plan and
    the measures arrive before the referral and the person, and the view still agrees."""
    person, _, events = story()
    async with view(database_url) as in_order, view(other_database_url) as reordered:
        await in_order.apply(events)
        await reordered.apply([e for e in reversed(events) for _ in (1, 2)], batch=3)
        assert await reordered.contents() == await in_order.contents()
        assert (await line(reordered, person)).status == "accepted"
        async with reordered.sessions() as s:
            applied = await s.scalar(select(func.count()).select_from(InboxRow))
        assert applied == len(events)


async def test_a_late_older_change_does_not_overwrite_a_newer_one(database_url: str) -> None:
    person = Person(2, nhs_number=None)
    referral = Referral(person)
    received = person.referred(referral, START)
    registered = person.registered(referral.referral_id, START)
    triaged = referral.triaged(START + timedelta(hours=2), "accept", "accepted")
    started = referral.moved(START + timedelta(hours=3), "start", "in_progress")
    moved_house = person.updated(referral.referral_id, START, neighbourhood="U84655")
    async with view(database_url) as v:
        await v.apply([received, moved_house, started, registered, triaged], batch=1)
        async with v.sessions() as s:
            ref = await s.get(CaseloadReferralRow, referral.referral_id)
            assert ref is not None
            assert (ref.status, ref.sequence) == ("in_progress", 3)
        row = await line(v, person)
        assert (row.status, row.neighbourhood) == ("in_progress", "U84655")


async def test_a_completed_referral_without_a_plan_leaves_the_caseload(
    database_url: str,
) -> None:
    person = Person(3, nhs_number=None)
    referral = Referral(person)
    events = [
        person.referred(referral, START),
        referral.triaged(START + timedelta(hours=1), "signpost", "signposted"),
    ]
    async with view(database_url) as v:
        await v.apply(events)
        row = await line(v, person)
        assert (row.on_caseload, row.open_referrals, row.referral_id) == (False, 0, None)


async def test_a_directory_listing_keeps_its_newest_name(database_url: str) -> None:
    listing = Listing()
    published = listing.published(START, "Befriending")
    renamed = listing.published(START + timedelta(days=1), "Befriending Plus", update=True)
    full = listing.capacity(START + timedelta(days=2), "Befriending Plus", "accepting", "full")
    async with view(database_url) as v:
        await v.apply([full, renamed, published, renamed], batch=1)
        async with v.sessions() as s:
            row = await s.get(DirectoryServiceRow, listing.service_id)
        assert row is not None
        assert (row.name, row.capacity, row.sequence) == ("Befriending Plus", "full", 3)
