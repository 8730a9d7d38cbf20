"""The search rows (PostgreSQL only): one narrow row per service at a location, or per
service with no location, denormalised from the listing's tables so that one statement
answers a search's words, filters and radius through its indexes (GIN on the tsvector, the
facet values and the terms; a b-tree on latitude and longitude).

Every write path that changes what a search sees (a listing saved or imported, withdrawn,
reinstated, its capacity changed) calls ``refresh`` in its own transaction, after the
normalised rows are written: the rows are rebuilt from them, so they cannot disagree.
SQLite searches the normalised tables and its FTS5 table directly."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession

# Not in the ORM's metadata: the table exists on PostgreSQL only (migration directory_0006).
SEARCH_ROWS = Table(
    "service_search",
    MetaData(),
    Column("service_id", Uuid),
    Column("location_id", Uuid),
    Column("name", String(300)),
    Column("status", String(20)),
    Column("capacity", String(20)),
    Column("referral_route", String(30)),
    Column("free", Boolean),
    Column("minimum_age", Integer),
    Column("maximum_age", Integer),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("has_borough", Boolean),
    # "facet:value": service_facet's (borough, language, ...), then capacity, referral_route
    # and free, so that the facet counts are one unnest.
    Column("facets", ARRAY(Text)),
    Column("term_ids", ARRAY(Uuid)),
    Column("search_vector", TSVECTOR),
)

# The services written, and the others at their locations: a location shared by several
# services may have just been moved by one of them.
_TOUCHED = text(
    """
    SELECT other.service_id
    FROM service_at_location mine
    JOIN service_at_location other ON other.location_id = mine.location_id
    WHERE mine.service_id = ANY(:ids) AND other.service_id <> ALL(:ids)
    """
).bindparams(bindparam("ids", type_=ARRAY(Uuid())))
_DELETE = text("DELETE FROM service_search WHERE service_id = ANY(:ids)").bindparams(
    bindparam("ids", type_=ARRAY(Uuid()))
)
_BUILD = text(
    """
    INSERT INTO service_search (
        service_id, location_id, name, status, capacity, referral_route, free, minimum_age,
        maximum_age, latitude, longitude, has_borough, facets, term_ids, search_vector
    )
    SELECT s.id, l.id, s.name, s.status, s.capacity, s.referral_route, s.free, s.minimum_age,
        s.maximum_age, l.latitude, l.longitude,
        EXISTS (SELECT 1 FROM service_facet f WHERE f.service_id = s.id AND f.facet = 'borough'),
        ARRAY(SELECT f.facet || ':' || f.value FROM service_facet f WHERE f.service_id = s.id)
            || ARRAY['capacity:' || s.capacity, 'referral_route:' || s.referral_route,
                'free:' || s.free::text],
        ARRAY(SELECT t.term_id FROM service_taxonomy t WHERE t.service_id = s.id),
        s.search_vector
    FROM service s
    LEFT JOIN service_at_location sal ON sal.service_id = s.id
    LEFT JOIN location l ON l.id = sal.location_id
    WHERE s.id = ANY(:ids)
    """
).bindparams(bindparam("ids", type_=ARRAY(Uuid())))


async def refresh(session: AsyncSession, service_ids: Sequence[uuid.UUID]) -> None:
    """Rebuild the search rows of these services (and of those sharing a location with
    them) from their stored listings; nothing on SQLite."""
    if not service_ids or session.get_bind().dialect.name != "postgresql":
        return
    # Built from the stored rows: the session's pending changes first (text statements do
    # not flush them by themselves).
    await session.flush()
    ids = list(dict.fromkeys(service_ids))
    ids += (await session.scalars(_TOUCHED, {"ids": ids})).unique().all()
    await session.execute(_DELETE, {"ids": ids})
    await session.execute(_BUILD, {"ids": ids})
