"""Other services' events as they publish them, handed to the running outcomes consumer
(inbox included) the way the broker would."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI

from carethread.events import CloudEvent, EventData, new_event
from carethread.events.care_plans import (
    CarePlanCreatedV1,
    CareTeamMemberJoinedV1,
    GoalAchievedV1,
    GoalAddedV1,
    PlanActionOverdueV1,
)
from carethread.events.referrals import (
    Destination,
    PersonDetails,
    PersonRegisteredV1,
    PersonSummary,
    PersonUpdatedV1,
    ReferralReceivedV1,
    ReferralSlaBreachedV1,
    ReferralStatusChangedV1,
    ReferralTriagedV1,
)
from carethread.messaging import IncomingMessage
from carethread.nhs import person_id_for_nhs_number
from carethread.service import ServiceRuntime

AT = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)  # a Monday
GP_ORG = "F83004"  # Archway Medical Centre
NEIGHBOURHOOD = "U02795"  # North 2 Islington PCN
VCSE_SERVICE = "5c0ffee0-0000-4000-8000-00000000a001"  # a directory service (social prescribing)


def envelope(data: EventData, person_id: uuid.UUID, sequence: int | None = 1) -> CloudEvent:
    return new_event(data, subject=str(person_id), person_id=person_id, sequence=sequence)


async def deliver(app: FastAPI, *events: CloudEvent) -> None:
    runtime: ServiceRuntime = app.state.runtime
    assert runtime.consumer is not None
    for offset, event in enumerate(events):
        await runtime.consumer.handle(
            IncomingMessage(
                "carethread.referrals.v1",
                0,
                offset,
                event.personid,
                event.to_json_bytes(),
                (("ce_type", event.type.encode()),),
            )
        )


def person_registered(
    nhs_number: str | None, *, at: datetime = AT, person_id: uuid.UUID | None = None, **details: Any
) -> CloudEvent:
    pid = person_id or person_id_for_nhs_number(nhs_number or "")
    person = {
        "nhs_number": nhs_number,
        "given_name": "Kemi",
        "family_name": "Synthetic",
        "birth_date": date(1952, 2, 29),
        "sex": "female",
        "gp_practice_code": GP_ORG,
        "neighbourhood": NEIGHBOURHOOD,
        "borough": "Islington",
        "lsoa": "E01002710",
        "imd_quintile": 2,
        "ethnicity_code": "N",
        **details,
    }
    data = PersonRegisteredV1(
        person_id=pid,
        person=PersonDetails.model_validate(person),
        referral_id=uuid.uuid4(),
        registered_at=at,
    )
    return envelope(data, pid)


def person_updated(nhs_number: str, *, at: datetime, **details: Any) -> CloudEvent:
    pid = person_id_for_nhs_number(nhs_number)
    person = {"nhs_number": nhs_number, "given_name": "Kemi", "family_name": "Synthetic", **details}
    data = PersonUpdatedV1(
        person_id=pid,
        person=PersonDetails.model_validate(person),
        changed=sorted(details),
        referral_id=uuid.uuid4(),
        updated_at=at,
    )
    return envelope(data, pid)


def referral_received(
    person_id: uuid.UUID,
    referral_id: uuid.UUID,
    *,
    at: datetime = AT,
    source: str = "gp",
    reasons: tuple[str, ...] = ("isolation",),
    imd_quintile: int | None = 2,
) -> CloudEvent:
    data = ReferralReceivedV1(
        referral_id=referral_id,
        person_id=person_id,
        has_nhs_number=True,
        person=PersonSummary(
            given_name="Kemi",
            family_name="Synthetic",
            birth_date=date(1952, 2, 29),
            gp_practice_code=GP_ORG,
            borough="Islington",
            imd_quintile=imd_quintile,
        ),
        source=source,
        urgency="routine",
        reason_codes=list(reasons),
        neighbourhood=NEIGHBOURHOOD,
        referrer_org=GP_ORG,
        received_at=at,
        status="received",
    )
    return envelope(data, person_id, sequence=1)


def referral_triaged(
    person_id: uuid.UUID,
    referral_id: uuid.UUID,
    *,
    decision: str = "route",
    destination: Destination | None = None,
    at: datetime = AT,
    breached: bool = False,
    sequence: int = 2,
) -> CloudEvent:
    status = {"route": "routed", "accept": "accepted", "decline": "declined"}[decision]
    if destination is None and decision == "route":
        destination = Destination(kind="service", id=VCSE_SERVICE, name="Befriending")
    data = ReferralTriagedV1(
        referral_id=referral_id,
        person_id=person_id,
        decision=decision,
        status=status,
        destination=destination,
        decided_by="triager.tom",
        decided_by_org="93C",
        triaged_at=at,
        breached_sla=breached,
    )
    return envelope(data, person_id, sequence=sequence)


def referral_moved(
    person_id: uuid.UUID, referral_id: uuid.UUID, *, status: str, at: datetime, sequence: int
) -> CloudEvent:
    action = {"in_progress": "start", "completed": "complete", "withdrawn": "withdraw"}[status]
    data = ReferralStatusChangedV1(
        referral_id=referral_id,
        person_id=person_id,
        action=action,
        from_status="routed",
        status=status,
        changed_by="link.worker",
        changed_at=at,
    )
    return envelope(data, person_id, sequence=sequence)


def sla_breached(person_id: uuid.UUID, referral_id: uuid.UUID, *, at: datetime) -> CloudEvent:
    data = ReferralSlaBreachedV1(
        referral_id=referral_id,
        person_id=person_id,
        urgency="routine",
        status="received",
        neighbourhood=NEIGHBOURHOOD,
        borough="Islington",
        received_at=AT,
        triage_due_at=at,
        breached_at=at,
    )
    return envelope(data, person_id, sequence=None)


def care_team_joined(person_id: uuid.UUID, team: str, *, version: int = 2) -> CloudEvent:
    data = CareTeamMemberJoinedV1(
        plan_id=uuid.uuid4(),
        person_id=person_id,
        version=version,
        changed_at=AT,
        member_id=uuid.uuid4(),
        organisation="RAP",
        team=team,
        role="Community nurse",
    )
    return envelope(data, person_id, sequence=version)


def care_plan_created(person_id: uuid.UUID, *, at: datetime = AT) -> CloudEvent:
    data = CarePlanCreatedV1(
        plan_id=uuid.uuid4(), person_id=person_id, version=1, changed_at=at, status="active"
    )
    return envelope(data, person_id)


def goal(
    person_id: uuid.UUID, goal_id: uuid.UUID, *, achieved: bool, version: int, at: datetime = AT
) -> CloudEvent:
    model = GoalAchievedV1 if achieved else GoalAddedV1
    data = model(
        plan_id=uuid.uuid4(),
        person_id=person_id,
        version=version,
        changed_at=at,
        goal_id=goal_id,
        status="achieved" if achieved else "active",
    )
    return envelope(data, person_id, sequence=version)


def action_overdue(person_id: uuid.UUID, action_id: uuid.UUID, due: date) -> CloudEvent:
    data = PlanActionOverdueV1(
        plan_id=uuid.uuid4(),
        person_id=person_id,
        version=3,
        changed_at=AT,
        action_id=action_id,
        owner_member_id=uuid.uuid4(),
        owner_org="RAP",
        due_date=due,
        status="open",
    )
    return envelope(data, person_id, sequence=3)


async def deliver_in_polls(app: FastAPI, events: list[CloudEvent], size: int) -> None:
    """The events handed to the consumer ``size`` at a time, as polls of the broker are."""
    runtime: ServiceRuntime = app.state.runtime
    assert runtime.consumer is not None
    messages = [
        IncomingMessage(
            "carethread.referrals.v1", 0, offset, event.personid, event.to_json_bytes(),
            (("ce_type", event.type.encode()),),
        )
        for offset, event in enumerate(events)
    ]  # fmt: skip
    for start in range(0, len(messages), size):
        await runtime.consumer.handle_batch(messages[start : start + size])
