"""``/api/v1/services``: curators create, edit, withdraw, verify; anyone reads a listing."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from carethread.db import UnitOfWork
from carethread.service import UoWDep
from directory import use_cases
from directory.api.deps import Curator, ExpectedVersion, Now, StaleAfter
from directory.api.read import service_read
from directory.api.schemas import (
    CapacityIn,
    RevisionRead,
    ServiceIn,
    ServicePatch,
    ServiceRead,
    StalePage,
    StaleServiceRead,
    VerifyIn,
    WithdrawIn,
    WriteReceipt,
)
from directory.store import listings as store

router = APIRouter(prefix="/api/v1/services", tags=["services"])


async def _read(
    uow: UnitOfWork, service_id: uuid.UUID, *, now: Now, stale: StaleAfter
) -> ServiceRead:
    row = await use_cases.service_or_404(uow, service_id)
    locations = await store.locations_of(uow.session, service_id)
    uptake = await store.uptake_of(uow.session, service_id)
    return service_read(row, locations, uptake, now=now, stale_after=stale)


async def _receipt(
    uow: UnitOfWork, written: use_cases.Written, response: Response, now: Now, stale: StaleAfter
) -> WriteReceipt:
    await uow.commit()
    response.headers["ETag"] = f'"{written.row.version}"'
    return WriteReceipt(
        service=await _read(uow, written.row.id, now=now, stale=stale),
        change=written.change.value if written.change else None,
        event_id=written.event_id,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WriteReceipt)
async def create_service(
    body: ServiceIn, uow: UoWDep, user: Curator, now: Now, stale: StaleAfter, response: Response
) -> WriteReceipt:
    written = await use_cases.save_listing(uow, body, user, now=now, must_be_new=True)
    return await _receipt(uow, written, response, now, stale)


@router.get("/stale", response_model=StalePage)
async def list_stale_services(
    uow: UoWDep,
    user: Curator,
    now: Now,
    stale: StaleAfter,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> StalePage:
    total, rows = await use_cases.stale_services(
        uow, now=now, stale_after=stale, page=page, per_page=per_page
    )
    return StalePage(
        total=total,
        page=page,
        per_page=per_page,
        items=[
            StaleServiceRead(
                id=r.id,
                name=r.name,
                organization_name=org,
                last_verified_at=r.last_verified_at,
                version=r.version,
            )
            for r, org in rows
        ],
    )


@router.get("/{service_id}", response_model=ServiceRead)
async def get_service(
    service_id: uuid.UUID, uow: UoWDep, now: Now, stale: StaleAfter, response: Response
) -> ServiceRead:
    read = await _read(uow, service_id, now=now, stale=stale)
    response.headers["ETag"] = f'"{read.version}"'
    return read


@router.patch("/{service_id}", response_model=WriteReceipt)
async def update_service(
    service_id: uuid.UUID,
    body: ServicePatch,
    uow: UoWDep,
    user: Curator,
    now: Now,
    stale: StaleAfter,
    response: Response,
    version: ExpectedVersion,
) -> WriteReceipt:
    written = await use_cases.update_service(
        uow, service_id, body, user, now=now, expected_version=version
    )
    return await _receipt(uow, written, response, now, stale)


@router.post("/{service_id}/capacity", response_model=WriteReceipt)
async def change_capacity(
    service_id: uuid.UUID,
    body: CapacityIn,
    uow: UoWDep,
    user: Curator,
    now: Now,
    stale: StaleAfter,
    response: Response,
    version: ExpectedVersion,
) -> WriteReceipt:
    written = await use_cases.change_capacity(
        uow, service_id, body.capacity, user, now=now, expected_version=version
    )
    return await _receipt(uow, written, response, now, stale)


@router.post("/{service_id}/withdraw", response_model=WriteReceipt)
async def withdraw_service(
    service_id: uuid.UUID,
    body: WithdrawIn,
    uow: UoWDep,
    user: Curator,
    now: Now,
    stale: StaleAfter,
    response: Response,
    version: ExpectedVersion,
) -> WriteReceipt:
    written = await use_cases.withdraw_service(
        uow, service_id, body.reason, user, now=now, expected_version=version
    )
    return await _receipt(uow, written, response, now, stale)


@router.post("/{service_id}/reinstate", response_model=WriteReceipt)
async def reinstate_service(
    service_id: uuid.UUID,
    uow: UoWDep,
    user: Curator,
    now: Now,
    stale: StaleAfter,
    response: Response,
) -> WriteReceipt:
    written = await use_cases.reinstate_service(uow, service_id, user, now=now)
    return await _receipt(uow, written, response, now, stale)


@router.post("/{service_id}/verify", response_model=WriteReceipt)
async def verify_service(
    service_id: uuid.UUID,
    uow: UoWDep,
    user: Curator,
    now: Now,
    stale: StaleAfter,
    response: Response,
    body: VerifyIn | None = None,
) -> WriteReceipt:
    written = await use_cases.verify_service(
        uow, service_id, user, now=now, note=body.note if body else None
    )
    return await _receipt(uow, written, response, now, stale)


@router.get("/{service_id}/history", response_model=list[RevisionRead])
async def service_history(service_id: uuid.UUID, uow: UoWDep, user: Curator) -> list[RevisionRead]:
    await use_cases.service_or_404(uow, service_id)
    return [
        RevisionRead.model_validate(r, from_attributes=True)
        for r in await store.revisions(uow.session, service_id)
    ]
