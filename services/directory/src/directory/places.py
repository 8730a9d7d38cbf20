"""Where things are: postcode centroids and boroughs from the configured reference geography
(NCL ships with the shared library; another ICS points ``CARETHREAD_REFERENCE_DIR`` at its own)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from carethread.reference import load_geography, normalise_postcode


@dataclass(frozen=True)
class Place:
    postcode: str
    borough: str
    latitude: float
    longitude: float


def find_postcode(value: str) -> Place | None:
    found = load_geography().postcode(value)
    if found is None:
        return None
    return Place(found.postcode, found.borough, found.lat, found.lon)


@cache
def boroughs() -> frozenset[str]:
    return frozenset(p.borough for p in load_geography().postcodes.values())


def canonical_borough(value: str) -> str | None:
    """'camden' → 'Camden'; None when the geography has no such borough."""
    wanted = value.strip().casefold()
    return next((b for b in boroughs() if b.casefold() == wanted), None)


__all__ = ["Place", "boroughs", "canonical_borough", "find_postcode", "normalise_postcode"]
