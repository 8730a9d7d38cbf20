"""The search rows: one narrow row per service at a location, or per service with no
location, denormalised from the listing's tables so that one statement answers a search's
words, filters and radius through its indexes. PostgreSQL: one GIN index on the tsvector
(the listing's words, and its terms as lexemes), the facet values and the location's grid
cell, so that words, needs, language and radius are one index scan (directory_0008); GIN on
the terms and a b-tree on latitude and longitude for taxonomy filters and wide radii.
The table is kept in the order of the rows' cells and, within a cell, of their terms
(directory_0009, directory_0012, ``CLUSTER``), so that the rows a need finds within a radius
lie on few pages; rows rebuilt later go wherever there is room until the table is
clustered again.
SQLite (directory_0007): facet values and term ids as strings of items each closed by a
unit separator (``SEPARATOR``), the words through FTS5, a b-tree on latitude and longitude.

Every write path that changes what a search sees (a listing saved or imported, withdrawn,
reinstated, its capacity changed) calls ``refresh`` in its own transaction, after the
normalised rows are written: the rows are rebuilt from them, so they cannot disagree."""

from __future__ import annotations

import json
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
    column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession

from carethread.db import on_postgres
from directory.domain.geo import CELL_LAT_DEG, CELL_LON_DEG, CELL_ROW

SEPARATOR = "\x1f"  # closes every item of a SQLite row's facets and term_ids
# PostgreSQL: each taxonomy term of a row is also a lexeme of its tsvector, ``#term:<id>``,
# and so is each phrase of the taxonomy its words hold (directory_0011), ``#phrase:<words>``
# (``search_phrase``). No position: they count for nothing in ts_rank/ts_rank_cd, whose
# queries never name them. English text never makes a lexeme with a colon, and no query
# word's prefix (``ter:*``) matches a lexeme starting with ``#``.
TAG_LEXEME = "#term:"
PHRASE_LEXEME = "#phrase:"

# Not in the ORM's metadata: made by migrations (directory_0006, directory_0007); this is
# its PostgreSQL shape (SQLite's facets and term_ids are text).
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
    # The listing's, its terms and its phrases as lexemes (``TAG_LEXEME``, ``PHRASE_LEXEME``).
    Column("search_vector", TSVECTOR),
    Column("cells", ARRAY(Integer)),  # the location's grid cell (``domain.geo.cell_of``)
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
# The grid cell of the row's location (``domain.geo.cell_of``), none without coordinates.
CELL_SQL = (
    "CASE WHEN l.latitude IS NULL OR l.longitude IS NULL THEN CAST('{}' AS integer[]) "
    f"ELSE ARRAY[CAST(floor(l.latitude / CAST({CELL_LAT_DEG} AS float8)) AS integer) "
    f"* {CELL_ROW} + CAST(floor(l.longitude / CAST({CELL_LON_DEG} AS float8)) AS integer)] END"
)
# Every value of the statement is bound; the text is this module's and the geo constants.
_BUILD = text(
    """
    INSERT INTO service_search (
        service_id, location_id, name, status, capacity, referral_route, free, minimum_age,
        maximum_age, latitude, longitude, has_borough, facets, term_ids, search_vector, cells
    )
    SELECT s.id, l.id, s.name, s.status, s.capacity, s.referral_route, s.free, s.minimum_age,
        s.maximum_age, l.latitude, l.longitude,
        EXISTS (SELECT 1 FROM service_facet f WHERE f.service_id = s.id AND f.facet = 'borough'),
        ARRAY(SELECT f.facet || ':' || f.value FROM service_facet f WHERE f.service_id = s.id)
            || ARRAY['capacity:' || s.capacity, 'referral_route:' || s.referral_route,
                'free:' || s.free::text],
        ARRAY(SELECT t.term_id FROM service_taxonomy t WHERE t.service_id = s.id),
        s.search_vector || array_to_tsvector(ARRAY(
            SELECT :tag || t.term_id FROM service_taxonomy t WHERE t.service_id = s.id))
            || array_to_tsvector(ARRAY(
                SELECT :phrase || p.phrase FROM search_phrase p WHERE s.search_vector @@ p.query)),
        """  # noqa: S608
    + CELL_SQL
    + """
    FROM service s
    LEFT JOIN service_at_location sal ON sal.service_id = s.id
    LEFT JOIN location l ON l.id = sal.location_id
    WHERE s.id = ANY(:ids)
    """
).bindparams(
    bindparam("ids", type_=ARRAY(Uuid())),
    bindparam("tag", TAG_LEXEME),
    bindparam("phrase", PHRASE_LEXEME),
)


# SQLite: the same rows, arrays as strings (``SEPARATOR``).
_BUILD_SQLITE = text(
    """
    INSERT INTO service_search (
        service_id, location_id, name, status, capacity, referral_route, free, minimum_age,
        maximum_age, latitude, longitude, has_borough, facets, term_ids
    )
    SELECT s.id, l.id, s.name, s.status, s.capacity, s.referral_route, s.free, s.minimum_age,
        s.maximum_age, l.latitude, l.longitude,
        EXISTS (SELECT 1 FROM service_facet f WHERE f.service_id = s.id AND f.facet = 'borough'),
        char(31) || coalesce((SELECT group_concat(f.facet || ':' || f.value || char(31), '')
            FROM service_facet f WHERE f.service_id = s.id), '')
            || 'capacity:' || s.capacity || char(31)
            || 'referral_route:' || s.referral_route || char(31)
            || 'free:' || CASE WHEN s.free THEN 'true' ELSE 'false' END || char(31),
        char(31) || coalesce((SELECT group_concat(t.term_id || char(31), '')
            FROM service_taxonomy t WHERE t.service_id = s.id), '')
    FROM service s
    LEFT JOIN service_at_location sal ON sal.service_id = s.id
    LEFT JOIN location l ON l.id = sal.location_id
    WHERE s.id IN (SELECT value FROM json_each(:ids))
    """
)
_TOUCHED_SQLITE = text(
    """
    SELECT DISTINCT other.service_id
    FROM service_at_location mine
    JOIN service_at_location other ON other.location_id = mine.location_id
    WHERE mine.service_id IN (SELECT value FROM json_each(:ids))
        AND other.service_id NOT IN (SELECT value FROM json_each(:ids))
    """
).columns(column("service_id", Uuid))
_DELETE_SQLITE = text(
    "DELETE FROM service_search WHERE service_id IN (SELECT value FROM json_each(:ids))"
)


async def refresh(session: AsyncSession, service_ids: Sequence[uuid.UUID]) -> None:
    """Rebuild the search rows of these services (and of those sharing a location with
    them) from their stored listings."""
    if not service_ids:
        return
    # Built from the stored rows: the session's pending changes first (text statements do
    # not flush them by themselves).
    await session.flush()
    ids = list(dict.fromkeys(service_ids))
    if not on_postgres(session):
        # One JSON list parameter (ids as SQLite stores them): no limit on how many.
        listed = json.dumps([i.hex for i in ids])
        ids += (await session.scalars(_TOUCHED_SQLITE, {"ids": listed})).all()
        listed = json.dumps([i.hex for i in ids])
        await session.execute(_DELETE_SQLITE, {"ids": listed})
        await session.execute(_BUILD_SQLITE, {"ids": listed})
        return
    ids += (await session.scalars(_TOUCHED, {"ids": ids})).unique().all()
    await session.execute(_DELETE, {"ids": ids})
    await session.execute(_BUILD, {"ids": ids})
