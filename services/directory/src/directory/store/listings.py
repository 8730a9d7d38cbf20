"""Writing and reading listings: the service row and the rows searches filter on."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Table, delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carethread.db import conflict_insert, on_postgres
from directory.domain.opening import OpeningHours
from directory.domain.search import tokens
from directory.store import search_rows
from directory.store.tables import (
    LocationRow,
    OpeningHoursRow,
    OrganizationRow,
    SearchWordRow,
    ServiceAtLocationRow,
    ServiceFacetRow,
    ServiceRevisionRow,
    ServiceRow,
    ServiceTaxonomyRow,
    ServiceUptakeRow,
    TaxonomyTermRow,
)


@dataclass(frozen=True)
class Indexed:
    """What a listing is found by, derived from its document."""

    term_ids: Sequence[uuid.UUID]
    facets: Sequence[tuple[str, str]]
    hours: Sequence[OpeningHours]
    location_ids: Sequence[tuple[uuid.UUID, uuid.UUID]]  # (service_at_location id, location id)


_AUTOMATIC_PLANS = text("SET LOCAL plan_cache_mode = auto")


async def plan_repeated_writes_once(session: AsyncSession) -> None:
    """For the rest of this transaction, let PostgreSQL plan a statement run again and
    again once. The directory's connections plan every statement for its values (app.py),
    right for searches; an import page runs the same writes for each of hundreds of rows,
    and planning each took a quarter of an import's time."""
    if on_postgres(session):
        await session.execute(_AUTOMATIC_PLANS)


async def upsert(session: AsyncSession, table: Any, values: dict[str, Any], key: str) -> None:
    """Insert a row or update it in place (one statement, on both databases)."""
    statement = conflict_insert(session, table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[key], set_={k: v for k, v in values.items() if k != key}
    )
    await session.execute(statement)


async def upsert_many(
    session: AsyncSession, table: Any, rows: Sequence[dict[str, Any]], key: str
) -> None:
    """``upsert`` for many rows: one statement per set of columns given."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(sorted(row)), []).append(row)
    for columns, group in by_columns.items():
        statement = conflict_insert(session, table)
        statement = statement.on_conflict_do_update(
            index_elements=[key],
            set_={c: statement.excluded[c] for c in columns if c != key},
        )
        await session.execute(statement, group)


async def save_organization(session: AsyncSession, values: dict[str, Any]) -> None:
    await upsert(session, OrganizationRow.__table__, values, "id")


async def organization_named(session: AsyncSession, name: str) -> uuid.UUID | None:
    found: uuid.UUID | None = await session.scalar(
        select(OrganizationRow.id).where(OrganizationRow.name == name).limit(1)
    )
    return found


async def save_location(session: AsyncSession, values: dict[str, Any]) -> None:
    await upsert(session, LocationRow.__table__, values, "id")


async def replace_index(session: AsyncSession, service_id: uuid.UUID, indexed: Indexed) -> None:
    """Replace the rows a search filters this service on (after the service row exists)."""
    for table in (ServiceTaxonomyRow, ServiceFacetRow, OpeningHoursRow, ServiceAtLocationRow):
        await session.execute(delete(table).where(table.service_id == service_id))
    if indexed.term_ids:
        await session.execute(
            insert(ServiceTaxonomyRow),
            [{"service_id": service_id, "term_id": t} for t in dict.fromkeys(indexed.term_ids)],
        )
    if indexed.facets:
        await session.execute(
            insert(ServiceFacetRow),
            [
                {"service_id": service_id, "facet": f, "value": v}
                for f, v in dict.fromkeys(indexed.facets)
            ],
        )
    if indexed.hours:
        await session.execute(
            insert(OpeningHoursRow),
            [
                {
                    "service_id": service_id,
                    "weekday": h.weekday,
                    "opens": h.opens,
                    "closes": h.closes,
                }
                for h in indexed.hours
            ],
        )
    if indexed.location_ids:
        await session.execute(
            insert(ServiceAtLocationRow),
            [
                {"id": sal, "service_id": service_id, "location_id": loc}
                for sal, loc in indexed.location_ids
            ],
        )


async def replace_indexes(
    session: AsyncSession,
    indexed: dict[uuid.UUID, Indexed],
    *,
    replacing: Sequence[uuid.UUID],
) -> None:
    """``replace_index`` for many services at once; ``replacing`` are those that may have
    rows already (new services have none to delete)."""
    if replacing:
        for table in (ServiceTaxonomyRow, ServiceFacetRow, OpeningHoursRow, ServiceAtLocationRow):
            await session.execute(delete(table).where(table.service_id.in_(list(replacing))))
    # Core inserts on the tables (``insert_rows``): the ORM's bulk insert of the same
    # dictionaries cost more in Python than the rest of these rows' writing.
    rows: dict[Any, list[dict[str, Any]]] = {
        ServiceTaxonomyRow.__table__: [
            {"service_id": s, "term_id": t}
            for s, i in indexed.items()
            for t in dict.fromkeys(i.term_ids)
        ],
        ServiceFacetRow.__table__: [
            {"service_id": s, "facet": f, "value": v}
            for s, i in indexed.items()
            for f, v in dict.fromkeys(i.facets)
        ],
        OpeningHoursRow.__table__: [
            {"service_id": s, "weekday": h.weekday, "opens": h.opens, "closes": h.closes}
            for s, i in indexed.items()
            for h in i.hours
        ],
        ServiceAtLocationRow.__table__: [
            {"id": sal, "service_id": s, "location_id": loc}
            for s, i in indexed.items()
            for sal, loc in i.location_ids
        ],
    }
    for table, values in rows.items():
        await insert_rows(session, table, values)


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dictionaries with the same keys). On PostgreSQL one statement with a
    parameter per column (arrays, ``unnest``): the values of each row bound one by one cost
    more in Python than their insert; SQLite takes an executemany."""
    if not rows:
        return
    if not on_postgres(session):
        await session.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    dialect = session.get_bind().dialect
    arrays = ", ".join(
        f"CAST(:c{i} AS {table.c[name].type.compile(dialect=dialect)}[])"
        for i, name in enumerate(names)
    )
    values = {f"c{i}": [row[name] for row in rows] for i, name in enumerate(names)}
    # The table's and columns' names come from the ORM's metadata; every value is bound.
    statement = f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})"  # noqa: S608
    await session.execute(text(statement), values)


_NEW_WORDS = text(
    "INSERT INTO search_word (word) SELECT unnest(CAST(:words AS text[])) "
    "ON CONFLICT (word) DO NOTHING"
)


class Indexable(Protocol):
    """What the text index and the spelling vocabulary are made of: a stored
    ``ServiceRow``, or the values of one just inserted."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def name(self) -> str: ...
    @property
    def keywords(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def status(self) -> str: ...


async def index_texts(
    session: AsyncSession, rows: Sequence[Indexable], *, replacing: Sequence[uuid.UUID]
) -> None:
    """``index_text`` for many services at once (``replacing``: those indexed already)."""
    words = {
        w[:100]
        for row in rows
        for w in tokens(f"{row.name} {row.keywords} {row.description}")
        if len(w) > 2
    }
    if words and on_postgres(session):
        # One array of words (thousands a page, nearly all known already).
        await session.execute(_NEW_WORDS, {"words": sorted(words)})
    elif words:
        statement = conflict_insert(session, SearchWordRow).on_conflict_do_nothing(
            index_elements=["word"]
        )
        await session.execute(statement, [{"word": w} for w in sorted(words)])
    await search_rows.refresh(session, [r.id for r in rows])
    if on_postgres(session):
        return
    if replacing:
        await session.execute(
            text("DELETE FROM service_fts WHERE service_id = :id"),
            [{"id": i.hex} for i in replacing],
        )
    active = [
        {"id": r.id.hex, "name": r.name, "keywords": r.keywords, "description": r.description}
        for r in rows
        if r.status == "active"
    ]
    if active:
        await session.execute(
            text(
                "INSERT INTO service_fts (service_id, name, keywords, description) "
                "VALUES (:id, :name, :keywords, :description)"
            ),
            active,
        )


async def index_text(session: AsyncSession, row: ServiceRow) -> None:
    """Keep the full-text index and the spelling vocabulary up to date with ``row``.

    The search rows are rebuilt here (after the rows searches filter on are written).
    PostgreSQL derives its ``tsvector`` from the row itself (a generated column); SQLite's
    FTS5 table is kept here. Only active listings are in it: withdrawn ones drop out."""
    words = {w for w in tokens(f"{row.name} {row.keywords} {row.description}") if len(w) > 2}
    if words:
        statement = conflict_insert(session, SearchWordRow).values(
            [{"word": w[:100]} for w in sorted(words)]
        )
        await session.execute(statement.on_conflict_do_nothing(index_elements=["word"]))
    await search_rows.refresh(session, [row.id])
    if on_postgres(session):
        return
    await session.execute(
        text("DELETE FROM service_fts WHERE service_id = :id"), {"id": row.id.hex}
    )
    if row.status == "active":
        await session.execute(
            text(
                "INSERT INTO service_fts (service_id, name, keywords, description) "
                "VALUES (:id, :name, :keywords, :description)"
            ),
            {
                "id": row.id.hex,
                "name": row.name,
                "keywords": row.keywords,
                "description": row.description,
            },
        )


async def add_revision(
    session: AsyncSession,
    *,
    service_id: uuid.UUID,
    version: int,
    change: str,
    actor: str,
    actor_org: str | None,
    at: datetime,
    changes: dict[str, Any],
    reason: str | None = None,
) -> None:
    session.add(
        ServiceRevisionRow(
            service_id=service_id,
            version=version,
            change=change,
            actor=actor,
            actor_org=actor_org,
            at=at,
            changes=changes,
            reason=reason,
        )
    )


async def revisions(session: AsyncSession, service_id: uuid.UUID) -> Sequence[ServiceRevisionRow]:
    return (
        await session.scalars(
            select(ServiceRevisionRow)
            .where(ServiceRevisionRow.service_id == service_id)
            .order_by(ServiceRevisionRow.id)
        )
    ).all()


async def locations_of(session: AsyncSession, service_id: uuid.UUID) -> list[LocationRow]:
    rows = await session.scalars(
        select(LocationRow)
        .join(ServiceAtLocationRow, ServiceAtLocationRow.location_id == LocationRow.id)
        .where(ServiceAtLocationRow.service_id == service_id)
        .order_by(LocationRow.name, LocationRow.id)
    )
    return list(rows.all())


async def uptake_of(session: AsyncSession, service_id: uuid.UUID) -> ServiceUptakeRow | None:
    return await session.get(ServiceUptakeRow, service_id)


async def term_labels(
    session: AsyncSession, service_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Each service's taxonomy terms as the API names them (code, else id)."""
    ids = list(service_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(ServiceTaxonomyRow.service_id, TaxonomyTermRow.code, TaxonomyTermRow.id)
        .join(TaxonomyTermRow, TaxonomyTermRow.id == ServiceTaxonomyRow.term_id)
        .where(ServiceTaxonomyRow.service_id.in_(ids))
    )
    out: dict[uuid.UUID, list[str]] = {}
    for service_id, code, term_id in rows:
        out.setdefault(service_id, []).append(code or str(term_id))
    return {k: sorted(v) for k, v in out.items()}


async def services_by_id(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ServiceRow]:
    if not ids:
        return {}
    rows = await session.scalars(select(ServiceRow).where(ServiceRow.id.in_(list(ids))))
    return {r.id: r for r in rows.all()}


async def locations_for(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[LocationRow]]:
    """The locations of several services at once."""
    if not ids:
        return {}
    rows = await session.execute(
        select(ServiceAtLocationRow.service_id, LocationRow)
        .join(LocationRow, LocationRow.id == ServiceAtLocationRow.location_id)
        .where(ServiceAtLocationRow.service_id.in_(list(ids)))
        .order_by(LocationRow.name, LocationRow.id)
    )
    out: dict[uuid.UUID, list[LocationRow]] = {}
    for service_id, location in rows.all():
        out.setdefault(service_id, []).append(location)
    return out
