"""Use cases of proposals: a VCSE organisation proposes, a curator approves or rejects."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select

from carethread.auth import Principal
from carethread.db import UnitOfWork
from carethread.errors import Conflict, Forbidden, NotFound
from directory import use_cases
from directory.api.schemas import ServiceIn, ServicePatch
from directory.domain.listing import ListingRefused, Status
from directory.domain.proposal import ProposalStatus, decide, speaks_for
from directory.resolve import resolve
from directory.store.tables import OrganizationRow, ServiceProposalRow
from directory.store.taxonomy import load_terms


async def propose_change(
    uow: UnitOfWork,
    service_id: uuid.UUID,
    changes: ServicePatch,
    principal: Principal,
    *,
    now: datetime,
    note: str | None,
) -> ServiceProposalRow:
    """Record a proposal, checked now as a curator's edit would be (a proposal that could
    never be applied is refused with the same 422)."""
    row = await use_cases.service_or_404(uow, service_id)
    org = await uow.session.get(OrganizationRow, row.organization_id)
    keys = [str(row.organization_id)]
    keys += [str(i.get("identifier", "")) for i in (org.identifiers if org else [])]
    if not speaks_for(principal.org, keys):
        raise Forbidden("Only the organisation that runs the service may propose changes to it.")
    if row.status == Status.WITHDRAWN:
        raise Conflict("The service is withdrawn: there is no listing to change.")
    merged = use_cases.listing_of(row).model_dump() | changes.model_dump(exclude_unset=True)
    resolve(ServiceIn.model_validate(merged), await load_terms(uow.session), service_id)
    proposal = ServiceProposalRow(
        id=uuid.uuid4(),
        service_id=service_id,
        status=ProposalStatus.PENDING.value,
        changes=changes.model_dump(mode="json", exclude_unset=True),
        base_version=row.version,
        proposed_by=principal.sub,
        proposed_by_org=principal.org,
        proposed_at=now,
        note=note,
    )
    uow.session.add(proposal)
    await uow.session.flush()
    return proposal


async def proposal_or_404(uow: UnitOfWork, proposal_id: uuid.UUID) -> ServiceProposalRow:
    proposal = await uow.session.get(ServiceProposalRow, proposal_id)
    if proposal is None:
        raise NotFound(f"No proposal {proposal_id}.")
    return proposal


async def decide_proposal(
    uow: UnitOfWork,
    proposal_id: uuid.UUID,
    principal: Principal,
    *,
    approve: bool,
    now: datetime,
    note: str | None,
) -> tuple[ServiceProposalRow, use_cases.Written | None]:
    """Approving applies the proposed fields to the listing as it is now, as an edit by the
    curator that names the proposal; rejecting changes nothing but the proposal."""
    proposal = await proposal_or_404(uow, proposal_id)
    try:
        status = decide(ProposalStatus(proposal.status), approve=approve)
    except ListingRefused as e:
        raise Conflict(str(e)) from e
    written = None
    if approve:
        patch = ServicePatch.model_validate(proposal.changes)
        who = f"{proposal.proposed_by} ({proposal.proposed_by_org or 'no organisation'})"
        written = await use_cases.update_service(
            uow,
            proposal.service_id,
            patch,
            principal,
            now=now,
            expected_version=None,
            reason=f"Approved proposal {proposal.id} from {who}",
        )
    proposal.status = status.value
    proposal.decided_by, proposal.decided_at, proposal.decision_note = principal.sub, now, note
    await uow.session.flush()
    return proposal, written


async def list_proposals(
    uow: UnitOfWork,
    *,
    status: ProposalStatus | None,
    service_id: uuid.UUID | None,
    page: int,
    per_page: int,
) -> tuple[int, list[ServiceProposalRow]]:
    query = select(ServiceProposalRow)
    if status is not None:
        query = query.where(ServiceProposalRow.status == status.value)
    if service_id is not None:
        query = query.where(ServiceProposalRow.service_id == service_id)
    total = await uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await uow.session.scalars(
        query.order_by(ServiceProposalRow.proposed_at, ServiceProposalRow.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return total, list(rows.all())
