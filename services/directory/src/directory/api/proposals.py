"""Proposals: ``POST /api/v1/services/{id}/proposals`` (the VCSE organisation that runs the
service), ``GET /api/v1/proposals`` and ``POST /api/v1/proposals/{id}/approve|reject``
(curators)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from carethread.auth import CurrentUser
from carethread.service import UoWDep
from directory import proposals
from directory.api.deps import Curator, Now
from directory.api.schemas import DecisionIn, ProposalIn, ProposalPage, ProposalRead
from directory.domain.proposal import ProposalStatus

router = APIRouter(prefix="/api/v1", tags=["proposals"])


@router.post(
    "/services/{service_id}/proposals",
    status_code=status.HTTP_201_CREATED,
    response_model=ProposalRead,
)
async def propose_change(
    service_id: uuid.UUID, body: ProposalIn, uow: UoWDep, user: CurrentUser, now: Now
) -> ProposalRead:
    proposal = await proposals.propose_change(
        uow, service_id, body.changes, user, now=now, note=body.note
    )
    await uow.commit()
    return ProposalRead.model_validate(proposal, from_attributes=True)


@router.get("/proposals", response_model=ProposalPage)
async def list_proposals(
    uow: UoWDep,
    user: Curator,
    status_: Annotated[ProposalStatus | None, Query(alias="status")] = ProposalStatus.PENDING,
    service_id: uuid.UUID | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ProposalPage:
    total, rows = await proposals.list_proposals(
        uow, status=status_, service_id=service_id, page=page, per_page=per_page
    )
    return ProposalPage(
        total=total,
        page=page,
        per_page=per_page,
        items=[ProposalRead.model_validate(r, from_attributes=True) for r in rows],
    )


async def _decide(
    proposal_id: uuid.UUID,
    body: DecisionIn | None,
    uow: UoWDep,
    user: Curator,
    now: Now,
    *,
    approve: bool,
) -> ProposalRead:
    proposal, _ = await proposals.decide_proposal(
        uow, proposal_id, user, approve=approve, now=now, note=body.note if body else None
    )
    await uow.commit()
    return ProposalRead.model_validate(proposal, from_attributes=True)


@router.post("/proposals/{proposal_id}/approve", response_model=ProposalRead)
async def approve_proposal(
    proposal_id: uuid.UUID, uow: UoWDep, user: Curator, now: Now, body: DecisionIn | None = None
) -> ProposalRead:
    return await _decide(proposal_id, body, uow, user, now, approve=True)


@router.post("/proposals/{proposal_id}/reject", response_model=ProposalRead)
async def reject_proposal(
    proposal_id: uuid.UUID, uow: UoWDep, user: Curator, now: Now, body: DecisionIn | None = None
) -> ProposalRead:
    return await _decide(proposal_id, body, uow, user, now, approve=False)
