"""Synthetic histories as the four producing services publish them: each event built with
the same subject, key and ``sequence`` semantics as the service's own ``events.py``.

Synthetic people only: NHS numbers from the 999 test range, made-up names."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from carethread.events import CloudEvent, EventData, new_event
from carethread.events.care_plans import (
    CarePlanCreatedV1,
    CarePlanUpdatedV1,
    CareTeamMemberJoinedV1,
    CareTeamMemberLeftV1,
    GoalAchievedV1,
    GoalAddedV1,
    PersonRecordCreatedV1,
    PersonRecordUpdatedV1,
    PlanActionAddedV1,
    PlanActionCompletedV1,
    PlanActionOverdueV1,
)
from carethread.events.directory import (
    DirectoryCapacityChangedV1,
    DirectoryServicePublishedV1,
    DirectoryServiceUpdatedV1,
)
from carethread.events.outcomes import MeasureScore, OutcomeMeasureRecordedV1
from carethread.events.referrals import (
    Destination,
    PersonDetails,
    PersonMergedV1,
    PersonRegisteredV1,
    PersonSummary,
    PersonUpdatedV1,
    ReferralReceivedV1,
    ReferralSlaBreachedV1,
    ReferralStatusChangedV1,
    ReferralTriagedV1,
)
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers

NEIGHBOURHOOD, PRACTICE = "U02795", "F83004"  # North 2 Islington PCN, Archway Medical Centre
OTHER_NEIGHBOURHOOD = "U84655"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TOPIC = {
    "referrals": "carethread.referrals.v1",
    "care_plans": "carethread.care-plans.v1",
    "outcomes": "carethread.outcomes.v1",
    "directory": "carethread.directory.v1",
}


def topic_of(event: CloudEvent) -> str:
    return TOPIC[event.source.removeprefix("carethread/")]


def _wrap(
    data: EventData,
    subject: uuid.UUID,
    person_id: uuid.UUID | None,
    at: datetime,
    sequence: int | None = None,
    neighbourhood: str | None = None,
) -> CloudEvent:
    event = new_event(
        data,
        subject=str(subject),
        person_id=person_id,
        neighbourhood=neighbourhood,
        sequence=sequence,
    )
    return event.model_copy(update={"time": at})


@dataclass
class Person:
    """One synthetic person and the versions each service has reached for them."""

    n: int
    neighbourhood: str = NEIGHBOURHOOD
    nhs_number: str | None = None
    imd_quintile: int | None = 3
    interpreter_needed: bool = False
    gp_practice_code: str | None = PRACTICE
    person_id: uuid.UUID = field(default_factory=uuid.uuid4)
    front_door_version: int = 0
    plan_id: uuid.UUID = field(default_factory=uuid.uuid4)
    plan_version: int = 0
    referrals: list[Referral] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.nhs_number is not None:
            self.person_id = person_id_for_nhs_number(self.nhs_number)

    @property
    def given_name(self) -> str:
        return f"Person{self.n}"

    def details(self, **changes: object) -> PersonDetails:
        return PersonDetails.model_validate(
            {
                "nhs_number": self.nhs_number,
                "given_name": self.given_name,
                "family_name": "Synthetic",
                "birth_date": date(1950, 1, 1) + timedelta(days=self.n),
                "gp_practice_code": self.gp_practice_code,
                "neighbourhood": self.neighbourhood,
                "borough": "Islington",
                "imd_quintile": self.imd_quintile,
                "interpreter_needed": self.interpreter_needed,
                **changes,
            }
        )

    # --- the front door -------------------------------------------------------------
    def registered(self, referral_id: uuid.UUID, at: datetime) -> CloudEvent:
        self.front_door_version += 1
        data = PersonRegisteredV1(
            person_id=self.person_id,
            person=self.details(),
            referral_id=referral_id,
            registered_at=at,
        )
        return _wrap(
            data, self.person_id, self.person_id, at, self.front_door_version, self.neighbourhood
        )

    def updated(self, referral_id: uuid.UUID, at: datetime, **changes: object) -> CloudEvent:
        self.front_door_version += 1
        for name, value in changes.items():
            setattr(self, name, value)
        data = PersonUpdatedV1(
            person_id=self.person_id,
            person=self.details(),
            changed=sorted(changes),
            referral_id=referral_id,
            updated_at=at,
        )
        return _wrap(
            data, self.person_id, self.person_id, at, self.front_door_version, self.neighbourhood
        )

    def referred(
        self, referral: Referral, at: datetime, *, reasons: tuple[str, ...] = ("isolation",)
    ) -> CloudEvent:
        data = ReferralReceivedV1(
            referral_id=referral.referral_id,
            person_id=self.person_id,
            has_nhs_number=self.nhs_number is not None,
            person=PersonSummary(
                given_name=self.given_name,
                family_name="Synthetic",
                birth_date=date(1950, 1, 1) + timedelta(days=self.n),
                gp_practice_code=self.gp_practice_code,
                borough="Islington",
                imd_quintile=self.imd_quintile,
            ),
            source="gp",
            urgency=referral.urgency,
            reason_codes=list(reasons),
            neighbourhood=self.neighbourhood,
            referrer_org=PRACTICE,
            received_at=at,
            status="received",
        )
        referral.version = 1
        self.referrals.append(referral)
        return _wrap(data, referral.referral_id, self.person_id, at, 1, self.neighbourhood)

    def traced(
        self, at: datetime, *, nhs_number: str | None = None, into: Person | None = None
    ) -> CloudEvent:
        """A trace found this person's NHS number: the front door merges the id it minted
        into the number's id — a record of its own (``nhs_number``) or another person's
        (``into``). From here on this person's events carry the surviving id."""
        merged_id = self.person_id
        survivor = into or self
        version = max(self.front_door_version, survivor.front_door_version) + 1
        if into is None:
            self.nhs_number = nhs_number
            self.person_id = person_id_for_nhs_number(str(nhs_number))
        else:
            self.nhs_number, self.person_id = into.nhs_number, into.person_id
            into.referrals.extend(self.referrals)
        self.front_door_version = survivor.front_door_version = version
        data = PersonMergedV1(
            person_id=survivor.person_id,
            merged_person_id=merged_id,
            person=survivor.details(),
            referral_ids=[r.referral_id for r in self.referrals],
            merged_by="triager",
            merged_at=at,
        )
        return _wrap(
            data, survivor.person_id, survivor.person_id, at, version, survivor.neighbourhood
        )

    # --- the shared care record ---------------------------------------------------------
    def _record_fields(self) -> dict[str, object]:
        return {
            "person_id": self.person_id,
            "has_nhs_number": self.nhs_number is not None,
            "given_name": self.given_name,
            "family_name": "Synthetic",
            "gp_practice_code": self.gp_practice_code,
            "neighbourhood": self.neighbourhood,
            "borough": "Islington",
            "recorded_from": "front_door",
        }

    def record_created(self, at: datetime) -> CloudEvent:
        data = PersonRecordCreatedV1.model_validate({**self._record_fields(), "created_at": at})
        return _wrap(data, self.person_id, self.person_id, at, None, self.neighbourhood)

    def record_updated(self, at: datetime, changed: list[str]) -> CloudEvent:
        data = PersonRecordUpdatedV1.model_validate(
            {**self._record_fields(), "changed": changed, "updated_at": at}
        )
        return _wrap(data, self.person_id, self.person_id, at, None, self.neighbourhood)

    def plan_saved(
        self, at: datetime, org: str, *, status: str = "active", overdue: int = 0
    ) -> list[CloudEvent]:
        """The head event of a new plan version (created for version 1)."""
        self.plan_version += 1
        common = {
            "plan_id": self.plan_id,
            "person_id": self.person_id,
            "version": self.plan_version,
            "changed_by_org": org,
            "changed_at": at,
        }
        data: EventData
        if self.plan_version == 1:
            data = CarePlanCreatedV1.model_validate({**common, "status": "draft"})
        else:
            data = CarePlanUpdatedV1.model_validate(
                {
                    **common,
                    "status": status,
                    "sections": ["actions", "care_team"],
                    "review_date": (at + timedelta(days=90)).date(),
                    "goal_count": 1,
                    "open_action_count": 1,
                    "overdue_action_count": overdue,
                    "key_worker_org": org,
                }
            )
        return [self.in_plan(data, at)]

    def in_plan(self, data: EventData, at: datetime) -> CloudEvent:
        return _wrap(data, self.plan_id, self.person_id, at, self.plan_version, self.neighbourhood)

    def plan_common(self, at: datetime, org: str) -> dict[str, object]:
        return {
            "plan_id": self.plan_id,
            "person_id": self.person_id,
            "version": self.plan_version,
            "changed_by_org": org,
            "changed_at": at,
        }

    def member(
        self,
        member_id: uuid.UUID,
        at: datetime,
        org: str,
        *,
        joined: bool = True,
        role: str = "Community nurse",
        key_worker: bool = False,
    ) -> CloudEvent:
        model = CareTeamMemberJoinedV1 if joined else CareTeamMemberLeftV1
        data = model.model_validate(
            {
                **self.plan_common(at, org),
                "member_id": member_id,
                "organisation": org,
                "team": f"{org}-team",
                "role": role,
                "key_worker": key_worker,
            }
        )
        return self.in_plan(data, at)

    def goal(
        self, goal_id: uuid.UUID, at: datetime, org: str, *, achieved: bool = False
    ) -> CloudEvent:
        model = GoalAchievedV1 if achieved else GoalAddedV1
        data = model.model_validate(
            {
                **self.plan_common(at, org),
                "goal_id": goal_id,
                "status": "achieved" if achieved else "in_progress",
                "outcome_measures": ["swemwbs"],
            }
        )
        return self.in_plan(data, at)

    def action(
        self,
        action_id: uuid.UUID,
        member_id: uuid.UUID,
        at: datetime,
        org: str,
        *,
        due: date | None,
        kind: str = "added",
    ) -> CloudEvent:
        model = {
            "added": PlanActionAddedV1,
            "overdue": PlanActionOverdueV1,
            "completed": PlanActionCompletedV1,
        }[kind]
        data = model.model_validate(
            {
                **self.plan_common(at, org),
                "action_id": action_id,
                "owner_member_id": member_id,
                "owner_org": org,
                "owner_team": f"{org}-team",
                "due_date": due,
                "status": "completed" if kind == "completed" else "planned",
            }
        )
        return self.in_plan(data, at)

    # --- outcomes ---------------------------------------------------------------------
    def measured(
        self,
        at: datetime,
        score: float,
        *,
        first: float | None = None,
        instrument: str = "swemwbs",
    ) -> CloudEvent:
        change = None if first is None else round(score - first, 2)
        direction = None
        if change is not None:
            direction = (
                "improved"
                if change >= 2
                else "deteriorated"
                if change <= -2
                else "no_meaningful_change"
            )
        data = OutcomeMeasureRecordedV1(
            measure_id=uuid.uuid4(),
            person_id=self.person_id,
            instrument=instrument,
            scores=[MeasureScore(scale="metric", value=score)],
            context_kind="referral",
            recorded_at=at,
            recorded_by_org="VCSE01",
            change_since_first=change,
            change_direction=direction,
        )
        return _wrap(data, data.measure_id, self.person_id, at, None, self.neighbourhood)


@dataclass
class Referral:
    person: Person
    urgency: str = "routine"
    referral_id: uuid.UUID = field(default_factory=uuid.uuid4)
    version: int = 0
    status: str = "received"

    def triaged(
        self,
        at: datetime,
        decision: str,
        status: str,
        destination: Destination | None = None,
        *,
        breached: bool = False,
    ) -> CloudEvent:
        self.version += 1
        self.status = status
        data = ReferralTriagedV1(
            referral_id=self.referral_id,
            person_id=self.person.person_id,
            decision=decision,
            status=status,
            destination=destination,
            decided_by="triager",
            decided_by_org="93C",
            triaged_at=at,
            breached_sla=breached,
        )
        return _wrap(
            data,
            self.referral_id,
            self.person.person_id,
            at,
            self.version,
            self.person.neighbourhood,
        )

    def moved(self, at: datetime, action: str, status: str) -> CloudEvent:
        self.version += 1
        data = ReferralStatusChangedV1(
            referral_id=self.referral_id,
            person_id=self.person.person_id,
            action=action,
            from_status=self.status,
            status=status,
            changed_by="worker",
            changed_at=at,
        )
        self.status = status
        return _wrap(
            data,
            self.referral_id,
            self.person.person_id,
            at,
            self.version,
            self.person.neighbourhood,
        )

    def breached(self, at: datetime) -> CloudEvent:
        data = ReferralSlaBreachedV1(
            referral_id=self.referral_id,
            person_id=self.person.person_id,
            urgency=self.urgency,
            status=self.status,
            neighbourhood=self.person.neighbourhood,
            borough="Islington",
            received_at=at - timedelta(days=3),
            triage_due_at=at - timedelta(hours=1),
            breached_at=at,
        )
        # The breach observes the referral's current version; it does not move it.
        return _wrap(
            data,
            self.referral_id,
            self.person.person_id,
            at,
            self.version,
            self.person.neighbourhood,
        )


@dataclass
class Listing:
    service_id: uuid.UUID = field(default_factory=uuid.uuid4)
    version: int = 0

    def published(
        self,
        at: datetime,
        name: str,
        *,
        update: bool = False,
        organization: str = "Synthetic Community Trust",
    ) -> CloudEvent:
        self.version += 1
        model = DirectoryServiceUpdatedV1 if update else DirectoryServicePublishedV1
        data = model(
            service_id=self.service_id,
            organization_id=uuid.uuid4(),
            name=name,
            organization_name=organization,
            status="active",
            capacity="accepting",
            referral_route="formal_referral",
            taxonomy_codes=["isolation"],
            boroughs=["Islington"],
            changed_at=at,
        )
        return _wrap(data, self.service_id, None, at, self.version)

    def capacity(self, at: datetime, name: str, previous: str, capacity: str) -> CloudEvent:
        self.version += 1
        data = DirectoryCapacityChangedV1(
            service_id=self.service_id,
            name=name,
            previous=previous,
            capacity=capacity,
            changed_at=at,
        )
        return _wrap(data, self.service_id, None, at, self.version)


def person_story(
    person: Person, at: datetime, rng: random.Random, listing: Listing
) -> Iterator[CloudEvent]:
    """One person's path through the services, in the order the services would publish it
    (per service; across services the order is whatever the test makes of it)."""
    referral = Referral(person, urgency=rng.choice(["routine", "routine", "urgent", "emergency"]))
    yield person.registered(referral.referral_id, at)
    yield person.referred(referral, at, reasons=rng.choice([("isolation",), ("carers",)]))
    if rng.random() < 0.2:
        yield referral.breached(at + timedelta(days=2))
    step = rng.random()
    if step < 0.25:
        return  # still waiting for triage
    if step < 0.35:
        yield referral.triaged(at + timedelta(days=1), "signpost", "signposted")
        return
    if step < 0.5:
        where = Destination(kind="service", id=str(listing.service_id), name="Befriending")
        yield referral.triaged(at + timedelta(days=1), "route", "routed", where)
        yield referral.moved(at + timedelta(days=2), "start", "in_progress")
    else:
        where = Destination(kind="neighbourhood_mdt", id=person.neighbourhood, name="MDT")
        yield referral.triaged(
            at + timedelta(days=1), "accept", "accepted", where, breached=rng.random() < 0.1
        )
    if rng.random() < 0.3:
        yield person.updated(
            referral.referral_id,
            at + timedelta(days=3),
            interpreter_needed=True,
            preferred_language="tr",
        )
    org = rng.choice(["RAP", "RKE", "VCSE01"])
    member, goal, action = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    day = at + timedelta(days=4)
    yield person.record_created(day)
    yield from person.plan_saved(day, org)
    yield from person.plan_saved(day + timedelta(hours=1), org)
    yield person.member(member, day + timedelta(hours=1), org, key_worker=True)
    yield person.goal(goal, day + timedelta(hours=1), org)
    due = (day + timedelta(days=rng.choice([7, 30, 400]))).date()
    yield person.action(action, member, day + timedelta(hours=1), org, due=due)
    first = rng.uniform(15, 25)
    yield person.measured(day, first)
    if rng.random() < 0.5:
        yield person.action(action, member, day + timedelta(days=8), org, due=due, kind="overdue")
    if rng.random() < 0.4:
        yield from person.plan_saved(day + timedelta(days=10), org)
        yield person.action(
            action, member, day + timedelta(days=10), org, due=due, kind="completed"
        )
        yield person.goal(goal, day + timedelta(days=10), org, achieved=True)
    if rng.random() < 0.2:
        yield from person.plan_saved(day + timedelta(days=11), org)
        yield person.member(member, day + timedelta(days=11), org, joined=False)
    if rng.random() < 0.2:
        yield person.record_updated(day + timedelta(days=12), ["gp_practice_code"])
    yield person.measured(day + timedelta(days=30), first + rng.uniform(-5, 5), first=first)
    if rng.random() < 0.2:
        yield referral.moved(at + timedelta(days=40), "complete", "completed")
        yield from person.plan_saved(day + timedelta(days=40), org, status="completed")


def merged_story(
    person: Person, at: datetime, *, nhs_number: str | None = None, into: Person | None = None
) -> Iterator[CloudEvent]:
    """After a person's story: a trace finds their NHS number and the front door merges
    them; then a measure the outcomes service still files under the old id, and the front
    door's next move of their referral, under the new one."""
    old = Person(person.n, neighbourhood=person.neighbourhood, person_id=person.person_id)
    yield person.traced(at, nhs_number=nhs_number, into=into)
    yield old.measured(at + timedelta(hours=1), 20.0)
    referral = person.referrals[-1]
    if referral.status != "completed":
        yield referral.moved(at + timedelta(hours=2), "complete", "completed")


def history(people: int, *, seed: int = 7) -> list[CloudEvent]:
    """A generated history of ``people`` people (about 12 events each) and a few listings.
    Some of the people with no NHS number are traced later and merged: the first one
    into an earlier person's record (two records, one person), the second into a record
    of their own, and about a third of the rest either way."""
    rng = random.Random(seed)
    listing = Listing()
    events = [listing.published(START, "Befriending")]
    numbers = synthetic_nhs_numbers(start=100_000)
    known: list[Person] = []  # those with an NHS number, someone's duplicate may be one
    unnumbered = 0
    for n in range(people):
        nhs = next(numbers) if rng.random() < 0.85 else None
        person = Person(
            n,
            neighbourhood=NEIGHBOURHOOD if rng.random() < 0.8 else OTHER_NEIGHBOURHOOD,
            nhs_number=nhs,
            imd_quintile=rng.choice([1, 1, 2, 3, 4, 5]),
            gp_practice_code=PRACTICE if nhs else None,
        )
        at = START + timedelta(hours=n)
        events.extend(person_story(person, at, rng, listing))
        if nhs is not None:
            known.append(person)
            continue
        unnumbered += 1
        traced_at = at + timedelta(days=45)
        if known and (unnumbered == 1 or rng.random() < 0.15):
            events.extend(merged_story(person, traced_at, into=rng.choice(known)))
        elif unnumbered == 2 or rng.random() < 0.2:
            events.extend(merged_story(person, traced_at, nhs_number=next(numbers)))
    events.append(
        listing.published(
            START + timedelta(days=5),
            "Befriending Plus",
            update=True,
            organization="Synthetic Community Partnership",
        )
    )
    events.append(
        listing.capacity(START + timedelta(days=6), "Befriending Plus", "accepting", "waiting_list")
    )
    return events
