"""Reads the ORUK API needs: organisations, taxonomies and terms, pages of them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.store.tables import (
    LocationRow,
    OrganizationRow,
    ServiceRow,
    ServiceTaxonomyRow,
    TaxonomyRow,
    TaxonomyTermRow,
)


async def page_of(
    session: AsyncSession, model: Any, *, offset: int, limit: int, where: Sequence[Any] = ()
) -> tuple[int, list[Any]]:
    total = await session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    rows = await session.scalars(
        select(model).where(*where).order_by(model.name, model.id).offset(offset).limit(limit)
    )
    return total, list(rows.all())


async def organizations(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, OrganizationRow]:
    if not ids:
        return {}
    rows = await session.scalars(
        select(OrganizationRow).where(OrganizationRow.id.in_(list(set(ids))))
    )
    return {r.id: r for r in rows.all()}


async def locations(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, LocationRow]:
    if not ids:
        return {}
    rows = await session.scalars(select(LocationRow).where(LocationRow.id.in_(list(set(ids)))))
    return {r.id: r for r in rows.all()}


async def terms_of(
    session: AsyncSession, service_id: uuid.UUID
) -> list[tuple[TaxonomyTermRow, str | None]]:
    """A service's terms with the name of the taxonomy each belongs to."""
    rows = await session.execute(
        select(TaxonomyTermRow, TaxonomyRow.name)
        .join(ServiceTaxonomyRow, ServiceTaxonomyRow.term_id == TaxonomyTermRow.id)
        .outerjoin(TaxonomyRow, TaxonomyRow.id == TaxonomyTermRow.taxonomy_id)
        .where(ServiceTaxonomyRow.service_id == service_id)
        .order_by(TaxonomyTermRow.name)
    )
    return [(term, name) for term, name in rows.all()]


async def taxonomy_names(session: AsyncSession) -> dict[uuid.UUID, str]:
    rows = await session.execute(select(TaxonomyRow.id, TaxonomyRow.name))
    return {i: n for i, n in rows.all()}


async def active_services_of(session: AsyncSession, organization_id: uuid.UUID) -> list[ServiceRow]:
    rows = await session.scalars(
        select(ServiceRow)
        .where(ServiceRow.organization_id == organization_id, ServiceRow.status == "active")
        .order_by(ServiceRow.name)
    )
    return list(rows.all())


async def terms_in(session: AsyncSession, taxonomy_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(TaxonomyTermRow.id).where(TaxonomyTermRow.taxonomy_id == taxonomy_id)
    )
    return list(rows.all())
