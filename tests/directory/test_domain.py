"""The directory's pure rules: opening hours, query planning, spelling, the taxonomy tree,
listing revisions."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, time, timedelta

import pytest

from directory.domain import listing
from directory.domain.geo import EARTH_RADIUS_KM, cell_of, cells_around, haversine_km
from directory.domain.opening import OpeningHours, is_open, weekly_hours
from directory.domain.search import best_correction, concepts, edit_distance, plan, query_tokens
from directory.domain.taxonomy import top_level, with_descendants


def test_hours_past_midnight_spill_into_the_next_day() -> None:
    assert weekly_hours(["SU"], time(22), time(2)) == [
        OpeningHours(6, 22 * 60, 1440),
        OpeningHours(0, 0, 120),
    ]
    assert weekly_hours(["FR"], time(18), time(0)) == [OpeningHours(4, 18 * 60, 1440)]
    hours = weekly_hours(["SU"], time(22), time(2))
    assert is_open(hours, datetime(2026, 12, 7, 1, 30, tzinfo=UTC))  # Monday 01:30 GMT
    assert not is_open(hours, datetime(2026, 12, 7, 2, 0, tzinfo=UTC))


def test_open_is_judged_in_london_time_across_the_clock_change() -> None:
    hours = weekly_hours(["SU"], time(9), time(10))
    # 29 March 2026: clocks go forward at 01:00 UTC. 08:30 UTC is 09:30 BST.
    assert is_open(hours, datetime(2026, 3, 29, 8, 30, tzinfo=UTC))
    # 25 October 2026: back to GMT. 08:30 UTC is 08:30 GMT: not yet open.
    assert not is_open(hours, datetime(2026, 10, 25, 8, 30, tzinfo=UTC))


def test_a_query_is_planned_longest_phrase_first() -> None:
    known = concepts(
        [
            ("t1", "Mental wellbeing", ["mental health", "anxiety"]),
            ("t2", "Housing", ["rent arrears"]),
            ("t3", "Mental wellbeing", []),  # an imported term of the same name
        ]
    )
    planned = plan(query_tokens("Help with mental health and rent arrears near Archway"), known)
    assert planned.words == ("archway",)
    assert sorted(c.term_ids for c in planned.concepts) == [("t1", "t3"), ("t2",)]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("councelling", "counselling"),  # one substitution
        ("cuonselling", "counselling"),  # a transposition counts as one edit
        ("benfits", "benefits"),
        ("food", None),  # too short to correct
        ("astrology", None),  # nothing close
    ],
)
def test_spelling_corrections(word: str, expected: str | None) -> None:
    vocabulary = ["counselling", "counsellor", "benefits", "foods", "befriending"]
    assert best_correction(word, vocabulary) == expected


def test_edit_distance_is_capped() -> None:
    assert edit_distance("abc", "abc") == 0
    assert edit_distance("ab", "ba") == 1
    assert edit_distance("kitten", "sitting", limit=10) == 3
    assert edit_distance("a", "abcdefgh", limit=3) == 3


def test_descendants_survive_a_cycle_in_an_imported_taxonomy() -> None:
    parent_of = {"root": None, "a": "root", "b": "a", "c": "b", "x": "y", "y": "x"}
    assert with_descendants(["a"], parent_of) == {"a", "b", "c"}
    assert with_descendants(["x"], parent_of) == {"x", "y"}
    assert top_level("c", parent_of) == "root"


def test_revisions_publish_the_right_change() -> None:
    before = {"name": "A", "capacity": "accepting"}
    assert listing.revise(listing.Status.ACTIVE, 3, before, before).change is None
    capacity = listing.revise(listing.Status.ACTIVE, 3, before, before | {"capacity": "full"})
    assert (capacity.change, capacity.version) == (listing.Change.CAPACITY_CHANGED, 4)
    both = listing.revise(listing.Status.ACTIVE, 3, before, {"name": "B", "capacity": "full"})
    assert both.change is listing.Change.UPDATED
    assert both.changes == {"capacity": ["accepting", "full"], "name": ["A", "B"]}
    with pytest.raises(listing.ListingRefused):
        listing.revise(listing.Status.WITHDRAWN, 3, before, {"name": "B"})
    with pytest.raises(listing.ListingRefused):
        listing.withdraw(listing.Status.WITHDRAWN, 3)


def test_staleness() -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    assert listing.is_stale(None, now, timedelta(days=180))
    assert not listing.is_stale(now - timedelta(days=179), now, timedelta(days=180))
    assert listing.is_stale(now - timedelta(days=181), now, timedelta(days=180))


@pytest.mark.parametrize("radius_km", [0.3, 1, 2, 3.5, 5, 10])
def test_the_cells_around_a_point_hold_every_point_within_the_radius(radius_km: float) -> None:
    # A radius search asks the index for these cells only: a point within the radius whose
    # cell were missing would never be found. Points on rings just inside the radius, at
    # every bearing, from centres across the NCL boxes' corners and cell edges.
    rng = random.Random(7)
    centres = [(51.546394, -0.091193), (51.5126, -0.3051), (51.6883, -0.0116)]
    centres += [(rng.uniform(51.5, 51.7), rng.uniform(-0.31, 0.0)) for _ in range(20)]
    for lat, lon in centres:
        cells = cells_around(lat, lon, radius_km)
        assert cells is not None
        held = set(cells)
        for step in range(720):
            bearing = math.radians(step / 2)
            for reach in (radius_km * 0.999, radius_km * rng.random()):
                plat, plon = destination(lat, lon, reach, bearing)
                assert haversine_km(lat, lon, plat, plon) <= radius_km
                assert cell_of(plat, plon) in held, (lat, lon, radius_km, step)
        # ... and not many more than the circle needs (2 km cells, a ring at the edge).
        assert len(cells) * 4 <= math.pi * (radius_km + 3) ** 2 + 16


def test_a_radius_too_wide_for_cells_has_none() -> None:
    assert cells_around(51.5, -0.1, 200) is None
    assert cells_around(51.5, -0.1, 5) is not None


def destination(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """The point ``km`` away on ``bearing`` (radians from north), on the sphere."""
    d = km / EARTH_RADIUS_KM
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), math.degrees(l2)
