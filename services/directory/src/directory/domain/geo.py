"""Distances on the Earth's surface."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


@dataclass(frozen=True)
class Box:
    """Latitude and longitude bounds around a circle: what an index on the coordinates can
    narrow a radius search to, before the true distance is checked."""

    south: float
    north: float
    west: float
    east: float


def box_around(lat: float, lon: float, radius_km: float) -> Box:
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)  # wider towards the poles
    return Box(lat - dlat, lat + dlat, lon - dlon, lon + dlon)


def is_valid_coordinate(lat: float | None, lon: float | None) -> bool:
    return lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180


# Grid cells for proximity searches: about 2 km square in England (0.018 degrees of latitude
# and 0.0288 of longitude near 51.5 degrees north). A search row carries its location's cell;
# a radius search asks for the cells that reach into its circle, so that one index answers
# the words and the radius together; the true distance is checked on the rows found. On the
# benchmark's 100,000 services, 2 km cells cost less than 1 km ones (fewer cells to merge in
# the index for a 5 km radius: about 30, not 100) and no more than 3 km ones (fewer rows
# read at the circle's edge).
CELL_LAT_DEG = 0.018
CELL_LON_DEG = 0.0288
# Beyond this many cells a radius search narrows by its box instead (a wide radius).
CELLS_UP_TO = 500
CELL_ROW = 100_000  # a cell's number: its row times this plus its column (|column| < 6,250)


def cell_of(lat: float, lon: float) -> int:
    """The grid cell of a point (the search rows compute the same in SQL)."""
    return math.floor(lat / CELL_LAT_DEG) * CELL_ROW + math.floor(lon / CELL_LON_DEG)


def cells_around(lat: float, lon: float, radius_km: float) -> list[int] | None:
    """Every cell holding a point within ``radius_km`` of the point (a few more at the edge,
    never fewer), or None if there would be more than ``CELLS_UP_TO``."""
    box = box_around(lat, lon, radius_km)
    rows = range(math.floor(box.south / CELL_LAT_DEG), math.floor(box.north / CELL_LAT_DEG) + 1)
    cols = math.floor(box.east / CELL_LON_DEG) - math.floor(box.west / CELL_LON_DEG) + 1
    if len(rows) * cols > CELLS_UP_TO:
        return None
    # Row by row: at the row's latitude nearest the centre, the circle reaches this far east
    # and west (haversine solved for the longitude); with a margin for the little a row's
    # other latitudes reach further on a sphere (metres here).
    reach = math.sin((radius_km * 1.01 + 0.05) / (2 * EARTH_RADIUS_KM)) ** 2
    p0 = math.radians(lat)
    out = []
    for i in rows:
        nearest = math.radians(min(max(lat, i * CELL_LAT_DEG), (i + 1) * CELL_LAT_DEG))
        left = reach - math.sin((nearest - p0) / 2) ** 2
        if left < 0:
            continue
        across = math.cos(p0) * math.cos(nearest)
        half = math.degrees(2 * math.asin(min(1.0, math.sqrt(left / across))))
        first = math.floor((lon - half) / CELL_LON_DEG)
        last = math.floor((lon + half) / CELL_LON_DEG)
        out += [i * CELL_ROW + j for j in range(first, last + 1)]
    return out
