"""Front-door events as the referrals service publishes them, handed to the running
care_plans consumer (inbox included) the way the broker would."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from fastapi import FastAPI

from carethread.events import CloudEvent, EventData, new_event
from carethread.events.referrals import (
    Destination,
    PersonDetails,
    PersonRegisteredV1,
    PersonSummary,
    PersonUpdatedV1,
    ReferralReceivedV1,
    ReferralStatusChangedV1,
    ReferralTriagedV1,
)
from carethread.messaging import IncomingMessage
from carethread.nhs import person_id_for_nhs_number
from carethread.service import ServiceRuntime

REFERRER_ORG = "F83004"
MDT = Destination(kind="neighbourhood_mdt", id="U02795", name="North 2 Islington PCN MDT")
AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def envelope(data: EventData, person_id: uuid.UUID, sequence: int = 1) -> CloudEvent:
    return new_event(data, subject=str(person_id), person_id=person_id, sequence=sequence)


async def deliver(app: FastAPI, event: CloudEvent, offset: int = 0) -> None:
    runtime: ServiceRuntime = app.state.runtime
    assert runtime.consumer is not None
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


def person_registered(nhs_number: str, *, at: datetime = AT, **details: object) -> CloudEvent:
    person_id = person_id_for_nhs_number(nhs_number)
    data = PersonRegisteredV1(
        person_id=person_id,
        person=PersonDetails.model_validate(
            {
                "nhs_number": nhs_number,
                "given_name": "Kemi",
                "family_name": "Synthetic",
                "birth_date": date(1952, 2, 29),
                "gp_practice_code": REFERRER_ORG,
                "neighbourhood": "U02795",
                "borough": "Islington",
                "preferred_language": "yo",
                "interpreter_needed": True,
                **details,
            }
        ),
        referral_id=uuid.uuid4(),
        registered_at=at,
    )
    return envelope(data, person_id)


def person_updated(
    nhs_number: str, *, at: datetime, sequence: int, **details: object
) -> CloudEvent:
    person_id = person_id_for_nhs_number(nhs_number)
    data = PersonUpdatedV1(
        person_id=person_id,
        person=PersonDetails.model_validate(
            {"nhs_number": nhs_number, "given_name": "Kemi", "family_name": "Synthetic", **details}
        ),
        changed=sorted(details),
        referral_id=uuid.uuid4(),
        updated_at=at,
    )
    return envelope(data, person_id, sequence=sequence)


def referral_received(person_id: uuid.UUID, referral_id: uuid.UUID) -> CloudEvent:
    data = ReferralReceivedV1(
        referral_id=referral_id,
        person_id=person_id,
        has_nhs_number=True,
        person=PersonSummary(
            given_name="Kemi",
            family_name="Synthetic",
            birth_date=date(1952, 2, 29),
            gp_practice_code=REFERRER_ORG,
            borough="Islington",
        ),
        source="gp",
        urgency="routine",
        reason_codes=["isolation"],
        neighbourhood="U02795",
        referrer_org=REFERRER_ORG,
        received_at=AT,
        status="received",
    )
    return envelope(data, person_id, sequence=1)


def referral_accepted(
    person_id: uuid.UUID,
    referral_id: uuid.UUID,
    destination: Destination = MDT,
    sequence: int = 2,
) -> CloudEvent:
    data = ReferralTriagedV1(
        referral_id=referral_id,
        person_id=person_id,
        decision="accept",
        status="accepted",
        destination=destination,
        decided_by="triager.tom",
        decided_by_org="93C",
        triaged_at=AT,
        breached_sla=False,
    )
    return envelope(data, person_id, sequence=sequence)


def referral_status_changed(
    person_id: uuid.UUID, referral_id: uuid.UUID, status: str, sequence: int
) -> CloudEvent:
    data = ReferralStatusChangedV1(
        referral_id=referral_id,
        person_id=person_id,
        action="withdraw" if status == "withdrawn" else "complete",
        from_status="accepted",
        status=status,
        changed_by="triager.tom",
        changed_at=AT,
    )
    return envelope(data, person_id, sequence=sequence)
