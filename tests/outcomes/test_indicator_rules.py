"""The pure rules behind published indicators: Wilson intervals, the deprivation gap and
slope index, small-number suppression, periods, and the breakdown groups."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes.domain import breakdown, population
from outcomes.domain.breakdown import Cell, RawCount
from outcomes.domain.disclosure import Policy
from outcomes.domain.indicators import BY_ID, INDICATORS, PERSON_FACTS, Dimension, Kind
from outcomes.domain.periods import InvalidPeriod, months, parse_period
from outcomes.domain.statistics import (
    RankedGroup,
    cumulative_rank_midpoints,
    gap,
    slope_index_of_inequality,
    wilson_interval,
)

# --- Wilson ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),  # upper bound z^2/(n+z^2)
        (5, 10, 0.2366, 0.7634),
        (81, 263, 0.2553, 0.3662),  # Newcombe (1998), Statistics in Medicine, example
        (10, 10, 0.7225, 1.0),
    ],
)
def test_wilson_interval_matches_published_values(x: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(x, n)
    assert got == pytest.approx((low, high), abs=5e-5)


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_the_wilson_interval_holds_the_proportion_and_stays_in_0_1(xn: tuple[int, int]) -> None:
    x, n = xn
    low, high = wilson_interval(x, n)
    assert 0 <= low <= x / n <= high <= 1


def test_a_proportion_without_trials_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one trial"):
        wilson_interval(0, 0)


# --- Gap and slope index ----------------------------------------------------------------------


def test_gap_is_most_minus_least_and_most_over_least() -> None:
    g = gap(0.30, 0.60)
    assert g.absolute == pytest.approx(-0.30)
    assert g.relative == pytest.approx(0.5)
    assert gap(0.2, 0.0).relative is None


def test_cumulative_rank_midpoints() -> None:
    assert cumulative_rank_midpoints([100, 300, 100, 200, 300]) == pytest.approx(
        [0.05, 0.25, 0.45, 0.6, 0.85]
    )


def test_sii_recovers_a_straight_line_whatever_the_group_sizes() -> None:
    # value = 0.5 - 0.3 * rank: the least deprived end is 0.3 lower than the most deprived.
    sizes = [100, 300, 100, 200, 300]
    mids = cumulative_rank_midpoints(sizes)
    groups = [RankedGroup(n, 0.5 - 0.3 * x) for n, x in zip(sizes, mids, strict=True)]
    assert slope_index_of_inequality(groups) == pytest.approx(0.3)


def test_sii_is_weighted_by_population() -> None:
    # The same values with a tiny least-deprived group barely move the fitted line's ends
    # compared with an unweighted fit; with equal sizes it is the unweighted slope.
    values = [0.2, 0.3, 0.4, 0.5, 0.9]
    equal = slope_index_of_inequality([RankedGroup(100, v) for v in values])
    skewed = slope_index_of_inequality(
        [RankedGroup(n, v) for n, v in zip([100, 100, 100, 100, 1], values, strict=True)]
    )
    assert equal == pytest.approx(-0.8)  # the OLS slope of values on 0.1..0.9, sign flipped
    assert skewed is not None
    assert equal is not None
    assert skewed != pytest.approx(equal)


def test_sii_needs_two_groups() -> None:
    assert slope_index_of_inequality([RankedGroup(10, 0.5)]) is None
    assert slope_index_of_inequality([RankedGroup(10, 0.5), RankedGroup(0, 0.1)]) is None


# --- Suppression ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "published"),
    [(0, 0), (1, None), (3, None), (7, None), (8, 10), (12, 10), (13, 15), (102, 100)],
)
def test_counts_1_to_7_are_suppressed_and_the_rest_rounded_to_5(
    count: int, published: int | None
) -> None:
    assert Policy().publish(count) == published


@given(st.integers(0, 100_000))
def test_no_small_count_is_ever_published(count: int) -> None:
    shown = Policy().publish(count)
    assert shown is None or shown == 0 or shown >= 10 or (count == 8 and shown == 10)
    assert shown != count or count % 5 == 0


def test_the_policy_is_configurable() -> None:
    p = Policy(max_small=9, round_to=10)
    assert (p.publish(9), p.publish(10), p.publish(14), p.publish(15)) == (None, 10, 10, 20)


def test_a_proportion_is_suppressed_when_the_complement_is_small() -> None:
    cell = breakdown.publish(Cell(("1",), 47, 50), Kind.PROPORTION, Policy())
    assert cell.suppressed
    assert (cell.numerator, cell.denominator, cell.value, cell.ci_low) == (None, None, None, None)
    shown = breakdown.publish(Cell(("1",), 40, 52), Kind.PROPORTION, Policy())
    assert (shown.numerator, shown.denominator, shown.value) == (40, 50, round(40 / 52, 4))
    assert not shown.suppressed


def test_a_cell_of_3_people_is_never_published_as_3() -> None:
    for kind in Kind:
        cell = breakdown.publish(Cell(("female",), 3, 3), kind, Policy())
        assert cell.suppressed
        assert 3 not in (cell.numerator, cell.denominator, cell.value)


# --- Periods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "last"),
    [
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("FY2026", date(2026, 4, 1), date(2027, 3, 31)),
        ("2026-04-01/2026-09-30", date(2026, 4, 1), date(2026, 9, 30)),
    ],
)
def test_periods(text: str, start: date, last: date) -> None:
    p = parse_period(text)
    assert (p.start, p.last_day) == (start, last)


@pytest.mark.parametrize("text", ["26", "2026-Q5", "2026-13", "2026-09-30/2026-04-01", "soon"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(InvalidPeriod):
        parse_period(text)


def test_months_of_a_quarter() -> None:
    p = parse_period("2026-Q4")
    assert [m.label for m in months(p.start, p.end)] == ["2026-10", "2026-11", "2026-12"]


# --- Breakdown groups -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "group"),
    [("A", "White"), ("c", "White"), ("D", "Mixed"), ("H", "Asian or Asian British"),
     ("N", "Black or Black British"), ("R", "Other ethnic groups"), ("Z", "Not stated"),
     (None, "unknown"), ("Q", "unknown")],
)  # fmt: skip
def test_ethnic_category_letters_group_into_the_broad_groups(code: str | None, group: str) -> None:
    assert population.ethnicity_group(code) == group


@pytest.mark.parametrize(
    ("born", "band"),
    [(date(2010, 1, 1), "0-17"), (date(2008, 7, 1), "18-24"), (date(2008, 7, 2), "0-17"),
     (date(1961, 7, 1), "65-74"), (date(1930, 1, 1), "85+"), (None, "unknown")],
)  # fmt: skip
def test_age_bands_on_the_reference_date(born: date | None, band: str) -> None:
    assert population.age_band(born, date(2026, 7, 1)) == band


def test_core20plus5_is_imd_quintile_1_or_a_plus_group() -> None:
    assert population.core20plus5(1, False) == "core20"
    assert population.core20plus5(1, True) == "core20"
    assert population.core20plus5(3, True) == "plus"
    assert population.core20plus5(5, False) == "neither"
    assert population.core20plus5(None, False) == "neither"
    assert population.plus_groups(registered_with_gp=False) == ["inclusion_health"]
    assert population.plus_groups(
        registered_with_gp=True, declared=["smi", "not-a-group"], referred_as_carer=True
    ) == ["carer", "smi"]


def test_raw_counts_merge_into_groups_in_a_stable_order() -> None:
    raw = [
        RawCount(("A",), 3, 10),
        RawCount(("B",), 2, 5),
        RawCount(("N",), 4, 9),
        RawCount((None,), 1, 2),
    ]
    cells = breakdown.group(raw, [Dimension.ETHNICITY], date(2026, 1, 1))
    published = breakdown.breakdown(cells, [Dimension.ETHNICITY], Kind.PROPORTION, Policy(0, 1))
    assert [(c.group, c.numerator, c.denominator) for c in published] == [
        (("Black or Black British",), 4, 9),
        (("White",), 5, 15),
        (("unknown",), 1, 2),
    ]


def test_two_dimensions_read_their_own_raw_fields() -> None:
    raw = [RawCount((1, False, "female"), 2, 4), RawCount((4, True, "female"), 1, 3)]
    cells = breakdown.group(raw, [Dimension.CORE20PLUS5, Dimension.SEX], date(2026, 1, 1))
    assert sorted((c.group, c.denominator) for c in cells) == [
        (("core20", "female"), 4),
        (("plus", "female"), 3),
    ]


def test_every_indicator_is_tagged_and_its_conditions_name_real_facts() -> None:
    assert len(BY_ID) == len(INDICATORS)
    for i in INDICATORS:
        assert i.life_course
        assert i.ncl_priority
        for c in (*i.denominator, *i.numerator):
            assert not c.field.startswith("person.") or c.field in PERSON_FACTS
