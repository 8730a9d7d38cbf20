"""``/api/v1/overdue-actions``: announce now what has become overdue (for a scheduler)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from care_plans.api.dependencies import Now
from care_plans.api.schemas import OverdueSweep
from care_plans.overdue import announce_overdue_actions
from carethread.auth import Principal, require_roles
from carethread.service import UoWDep

router = APIRouter(prefix="/api/v1/overdue-actions", tags=["care plans"])
Operator = Annotated[Principal, Depends(require_roles("admin"))]


@router.post("/announce", response_model=OverdueSweep, name="announce_overdue_actions")
async def announce(uow: UoWDep, user: Operator, now: Now) -> OverdueSweep:
    """Publish an overdue event for every open action whose due date has passed and that
    has not been announced yet. The service also does this on its own, periodically."""
    count = await announce_overdue_actions(uow, now=now)
    await uow.commit()
    return OverdueSweep(announced=count)
