"""``/api/v1/persons``: the front door's person records — recording an NHS number trace."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field

from carethread.auth import Principal, require_roles
from carethread.reference import load_geography
from carethread.service import UoWDep
from referrals.api.referrals import Now, json_response
from referrals.api.schemas import NhsNumber
from referrals.tracing import record_traced_nhs_number

router = APIRouter(prefix="/api/v1/persons", tags=["persons"])
FrontDoor = Annotated[Principal, Depends(require_roles("triager", "admin"))]


class TraceIn(BaseModel):
    """The NHS number a trace (PDS, or a document the person brought) found for someone the
    front door recorded without one."""

    model_config = ConfigDict(extra="forbid")

    nhs_number: NhsNumber = Field(examples=["9990042438"], max_length=20)


class TraceOut(BaseModel):
    """The person as they are known now, and what moved to them."""

    person_id: uuid.UUID = Field(description="the id the NHS number gives: the person now")
    merged_person_id: uuid.UUID = Field(description="the id the front door had minted: gone")
    nhs_number: str
    referral_ids: list[uuid.UUID] = Field(description="the referrals that moved")
    into_existing_record: bool = Field(
        description="the front door already knew someone by this NHS number: one record now"
    )
    event_id: uuid.UUID = Field(description="the person.merged event, for min_event reads")


@router.post(
    "/{person_id}/nhs-number-trace",
    response_model=TraceOut,
    responses={
        200: {"description": "the same trace again: the first one's result"},
        403: {"description": "not the front door of a borough the person was referred in"},
        404: {"description": "no such person"},
        409: {"description": "the person has another NHS number, or was merged elsewhere"},
        422: {"description": "not a valid NHS number"},
    },
    status_code=status.HTTP_201_CREATED,
)
async def trace_nhs_number(
    person_id: uuid.UUID, body: TraceIn, uow: UoWDep, user: FrontDoor, now: Now
) -> Response:
    """Record the NHS number a trace found for a person recorded without one: their id
    becomes the one the number gives, merging with the record of anyone the front door
    already knows by that number, and every service is told (``person.merged``)."""
    traced = await record_traced_nhs_number(
        uow, person_id, body.nhs_number, user, load_geography(), now=now
    )
    await uow.commit()
    out = TraceOut(
        person_id=traced.person_id,
        merged_person_id=traced.merged_person_id,
        nhs_number=traced.nhs_number,
        referral_ids=traced.referral_ids,
        into_existing_record=traced.into_existing_record,
        event_id=traced.event_id,
    )
    return json_response(out, status.HTTP_200_OK if traced.replayed else status.HTTP_201_CREATED)
