"""``GET /api/v1/uptake``: how many referrals the front door routed to each service, and how
many the service started; for curators and commissioners."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from carethread.auth import Principal, require_roles
from carethread.service import UoWDep
from directory.api.schemas import UptakePage, UptakeRow
from directory.places import canonical_borough
from directory.searching import query_error
from directory.store.tables import (
    OrganizationRow,
    ServiceFacetRow,
    ServiceRow,
    ServiceUptakeRow,
)

router = APIRouter(prefix="/api/v1/uptake", tags=["uptake"])
Reader = Annotated[Principal, Depends(require_roles("curator", "analyst", "admin"))]


@router.get("", response_model=UptakePage)
async def list_uptake(
    uow: UoWDep,
    user: Reader,
    borough: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> UptakePage:
    """Services that have had referrals, the most routed first."""
    query = (
        select(ServiceUptakeRow, ServiceRow.name, ServiceRow.status, OrganizationRow.name)
        .join(ServiceRow, ServiceRow.id == ServiceUptakeRow.service_id)
        .join(OrganizationRow, OrganizationRow.id == ServiceRow.organization_id)
    )
    if borough is not None:
        found = canonical_borough(borough)
        if found is None:
            raise query_error("borough", f"unknown borough {borough!r}")
        query = query.where(
            ServiceRow.id.in_(
                select(ServiceFacetRow.service_id).where(
                    ServiceFacetRow.facet == "borough", ServiceFacetRow.value == found
                )
            )
        )
    total = await uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await uow.session.execute(
        query.order_by(ServiceUptakeRow.routed.desc(), ServiceRow.name)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return UptakePage(
        total=total,
        page=page,
        per_page=per_page,
        items=[
            UptakeRow(
                service_id=u.service_id,
                name=name,
                organization_name=org,
                status=status,
                routed=u.routed,
                accepted=u.accepted,
                last_referral_at=u.last_referral_at,
            )
            for u, name, status, org in rows.all()
        ],
    )
