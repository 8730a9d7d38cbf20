"""Instrument scoring against the published rules: ONS4 thresholds, the SWEMWBS conversion
table, GAD-7 and PHQ-9 severity bands, the Kiresuk-Sherman T-score, and the externally
scored PAM and EQ-5D; out-of-range answers are refused with the item named."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes.domain import gas, swemwbs
from outcomes.domain.change import Direction, Taken, pair
from outcomes.domain.instruments import (
    INSTRUMENTS,
    Answers,
    InstrumentId,
    InvalidAnswers,
    instrument,
    score,
)

# The published SWEMWBS raw-to-metric conversion table (Stewart-Brown et al. 2009), typed
# out here independently of the implementation's copy.
PUBLISHED_SWEMWBS = [
    (7, 7.00), (8, 9.51), (9, 11.25), (10, 12.40), (11, 13.33), (12, 14.08), (13, 14.75),
    (14, 15.32), (15, 15.84), (16, 16.36), (17, 16.88), (18, 17.43), (19, 17.98),
    (20, 18.59), (21, 19.25), (22, 19.98), (23, 20.73), (24, 21.54), (25, 22.35),
    (26, 23.21), (27, 24.11), (28, 25.03), (29, 26.02), (30, 27.03), (31, 28.13),
    (32, 29.31), (33, 30.70), (34, 32.55), (35, 35.00),
]  # fmt: skip


def items(*values: float) -> Answers:
    return Answers(items=values)


def answers_summing_to(raw: int) -> list[int]:
    """Seven 1-5 answers adding up to ``raw``."""
    out, left = [], raw - 7
    for _ in range(7):
        extra = min(4, left)
        out.append(1 + extra)
        left -= extra
    return out


# --- SWEMWBS ----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "metric"), PUBLISHED_SWEMWBS)
def test_swemwbs_raw_converts_to_the_published_metric_score(raw: int, metric: float) -> None:
    scored = score("swemwbs", items(*answers_summing_to(raw)))
    assert scored.as_dict() == {"metric": metric, "raw": raw}


def test_the_swemwbs_table_covers_every_raw_score_once_and_rises() -> None:
    assert sorted(swemwbs.METRIC_BY_RAW) == list(range(7, 36))
    values = [swemwbs.METRIC_BY_RAW[r] for r in range(7, 36)]
    assert values == sorted(values)
    assert len(set(values)) == len(values)


def test_the_contract_example_scores_raw_25_metric_22_35() -> None:
    assert score("swemwbs", items(4, 3, 4, 4, 3, 4, 3)).as_dict() == {"raw": 25, "metric": 22.35}


@given(st.lists(st.integers(1, 5), min_size=7, max_size=7), st.integers(0, 6))
def test_no_swemwbs_item_is_reverse_scored(answers: list[int], i: int) -> None:
    # Every item is positively worded: raising any one answer raises the raw score by as much.
    if answers[i] == 5:
        return
    higher = [*answers]
    higher[i] += 1
    before = score("swemwbs", items(*answers)).as_dict()["raw"]
    assert score("swemwbs", items(*higher)).as_dict()["raw"] == before + 1


@pytest.mark.parametrize("bad", [0, 6, 2.5, -1])
def test_an_out_of_range_swemwbs_answer_names_the_item(bad: float) -> None:
    with pytest.raises(InvalidAnswers) as e:
        score("swemwbs", items(4, 3, bad, 4, 3, 4, 3))
    assert e.value.field == "answers.2"
    assert "item 3" in str(e.value)


@pytest.mark.parametrize("count", [0, 6, 8, 14])
def test_swemwbs_needs_exactly_seven_answers(count: int) -> None:
    with pytest.raises(InvalidAnswers, match="expected 7 answers") as e:
        score("swemwbs", items(*[3] * count))
    assert e.value.field == "answers"


# --- ONS4 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "band"),
    [(0, "low"), (4, "low"), (5, "medium"), (6, "medium"), (7, "high"), (8, "high"),
     (9, "very high"), (10, "very high")],
)  # fmt: skip
def test_ons4_positive_items_follow_the_ons_thresholds(value: int, band: str) -> None:
    scored = score("ons4", items(value, value, value, 0))
    bands = {s.scale: s.band for s in scored.scores}
    assert bands["life_satisfaction"] == bands["worthwhile"] == bands["happiness"] == band


@pytest.mark.parametrize(
    ("value", "band"),
    [(0, "very low"), (1, "very low"), (2, "low"), (3, "low"), (4, "medium"), (5, "medium"),
     (6, "high"), (10, "high")],
)  # fmt: skip
def test_ons4_anxiety_follows_its_own_thresholds(value: int, band: str) -> None:
    scored = score("ons4", items(7, 7, 7, value))
    assert {s.scale: s.band for s in scored.scores}["anxiety"] == band


def test_ons4_reports_the_four_items_separately_in_published_order() -> None:
    scored = score("ons4", items(6, 7, 8, 3))
    assert [(s.scale, s.value) for s in scored.scores] == [
        ("life_satisfaction", 6),
        ("worthwhile", 7),
        ("happiness", 8),
        ("anxiety", 3),
    ]


@pytest.mark.parametrize("bad", [11, -1, 7.5])
def test_ons4_refuses_answers_outside_0_to_10(bad: float) -> None:
    with pytest.raises(InvalidAnswers) as e:
        score("ons4", items(5, 5, 5, bad))
    assert e.value.field == "answers.3"


# --- GAD-7 and PHQ-9 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([0] * 7, 0, "minimal"),
        ([1, 1, 1, 1, 0, 0, 0], 4, "minimal"),
        ([1, 1, 1, 1, 1, 0, 0], 5, "mild"),
        ([2, 2, 2, 1, 1, 1, 0], 9, "mild"),
        ([2, 2, 2, 2, 1, 1, 0], 10, "moderate"),
        ([2, 2, 2, 2, 2, 2, 2], 14, "moderate"),
        ([3, 3, 3, 2, 2, 1, 1], 15, "severe"),
        ([3] * 7, 21, "severe"),
    ],
)
def test_gad7_total_and_severity_bands(answers: list[int], total: int, band: str) -> None:
    (s,) = score("gad7", items(*answers)).scores
    assert (s.value, s.band) == (total, band)


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "none-minimal"), (4, "none-minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (14, "moderate"), (15, "moderately severe"), (19, "moderately severe"), (20, "severe"),
     (27, "severe")],
)  # fmt: skip
def test_phq9_total_and_severity_bands(total: int, band: str) -> None:
    answers = [min(3, max(0, total - 3 * i)) for i in range(9)]
    assert sum(answers) == total
    (s,) = score("phq9", items(*answers)).scores
    assert (s.value, s.band) == (total, band)


def test_phq9_and_gad7_refuse_an_item_above_3_and_the_wrong_count() -> None:
    with pytest.raises(InvalidAnswers) as e:
        score("phq9", items(0, 0, 0, 0, 4, 0, 0, 0, 0))
    assert e.value.field == "answers.4"
    with pytest.raises(InvalidAnswers, match="expected 7 answers"):
        score("gad7", items(*[1] * 9))


# --- Goal attainment scaling ------------------------------------------------------------


def test_gas_every_goal_at_its_expected_outcome_is_t_50() -> None:
    assert score("gas", items(0, 0, 0)).as_dict() == {"t_score": 50.0}


def test_gas_one_goal_alone_moves_ten_points_a_level() -> None:
    assert [score("gas", items(x)).as_dict()["t_score"] for x in (-2, -1, 0, 1, 2)] == [
        30.0,
        40.0,
        50.0,
        60.0,
        70.0,
    ]


def test_gas_equal_weights_use_rho_0_3() -> None:
    # Three goals at +1: 50 + 10*3 / sqrt(0.7*3 + 0.3*9) = 50 + 30/sqrt(4.8)
    expected = 50 + 30 / math.sqrt(4.8)
    assert score("gas", items(1, 1, 1)).as_dict()["t_score"] == round(expected, 2)
    assert round(expected, 2) == 63.69


def test_gas_weights_when_the_goals_were_weighted() -> None:
    # weights 2 and 1, levels +2 and -1: 50 + 10*(4-1)/sqrt(0.7*5 + 0.3*9)
    expected = 50 + 30 / math.sqrt(0.7 * 5 + 0.3 * 9)
    got = score("gas", Answers(items=(2, -1), weights=(2, 1))).as_dict()["t_score"]
    assert got == round(expected, 2)
    assert gas.t_score([2, -1], [2, 1]) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("answers", "field"),
    [(Answers(items=()), "answers"), (Answers(items=(0, 3)), "answers.1"),
     (Answers(items=(1, 1), weights=(1,)), "weights"),
     (Answers(items=(1, 1), weights=(1, 0)), "weights")],
)  # fmt: skip
def test_gas_refuses_levels_outside_minus_2_to_2_and_bad_weights(
    answers: Answers, field: str
) -> None:
    with pytest.raises(InvalidAnswers) as e:
        score("gas", answers)
    assert e.value.field == field


# --- Externally computed: PAM and EQ-5D ---------------------------------------------------


def test_pam_is_recorded_as_the_score_and_level_its_licensed_tool_computed() -> None:
    scored = score("pam", Answers(external={"score": 62.3, "level": 3}))
    assert scored.as_dict() == {"score": 62.3, "level": 3}
    assert scored.headline.band == "level 3"


@pytest.mark.parametrize(
    ("external", "field"),
    [({"score": 101, "level": 3}, "scores.score"), ({"score": 50, "level": 5}, "scores.level"),
     ({"score": 50, "level": 2.5}, "scores.level"), ({"level": 2}, "scores.score")],
)  # fmt: skip
def test_pam_out_of_range_is_refused(external: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidAnswers) as e:
        score("pam", Answers(external=external))
    assert e.value.field == field


def test_pam_and_eq5d_refuse_item_answers_they_cannot_score() -> None:
    with pytest.raises(InvalidAnswers, match="scored externally"):
        score("pam", items(1, 2, 3))
    with pytest.raises(InvalidAnswers, match="scored externally"):
        score("eq5d", items(1, 1, 2, 2, 1))


def test_eq5d_index_and_vas() -> None:
    assert score("eq5d", Answers(external={"index": 0.725, "vas": 70})).as_dict() == {
        "index": 0.725,
        "vas": 70,
    }
    with pytest.raises(InvalidAnswers):
        score("eq5d", Answers(external={"index": 1.2}))
    with pytest.raises(InvalidAnswers):
        score("eq5d", Answers(external={"index": 0.5, "vas": 101}))


def test_an_unknown_instrument_names_the_known_ones() -> None:
    with pytest.raises(InvalidAnswers, match="unknown instrument 'wemwbs14'") as e:
        instrument("wemwbs14")
    assert e.value.field == "instrument"
    assert "swemwbs" in str(e.value)


def test_licensed_instruments_are_marked_and_no_instrument_ships_item_wording() -> None:
    assert {i.id for i in INSTRUMENTS.values() if i.licensed} == {
        InstrumentId.SWEMWBS,
        InstrumentId.PAM,
        InstrumentId.EQ5D,
    }
    for i in INSTRUMENTS.values():
        assert not hasattr(i, "questions")
        assert not hasattr(i, "item_text")


# --- Change before and after ----------------------------------------------------------------

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def taken(n: int, instrument_name: str, answers: Answers) -> Taken:
    return Taken(f"m{n}", T0 + timedelta(days=30 * n), score(instrument_name, answers).as_dict())


def test_swemwbs_change_of_3_metric_points_is_meaningful() -> None:
    swem = instrument("swemwbs")
    before = taken(0, "swemwbs", items(*answers_summing_to(20)))  # 18.59
    after = taken(1, "swemwbs", items(*answers_summing_to(24)))  # 21.54: +2.95
    p = pair(swem, [after, before])
    assert p is not None
    assert (p.before.measure_id, p.after.measure_id) == ("m0", "m1")
    metric = p.changes[0]
    assert (metric.scale, metric.change, metric.direction) == (
        "metric",
        2.95,
        Direction.NO_MEANINGFUL_CHANGE,
    )
    later = taken(2, "swemwbs", items(*answers_summing_to(25)))  # 22.35: +3.76
    p = pair(swem, [before, after, later])
    assert p is not None
    assert p.changes[0].direction is Direction.IMPROVED
    assert p.changes[1].direction is Direction.NO_THRESHOLD  # the raw score has none


def test_for_anxiety_and_depression_a_fall_is_an_improvement() -> None:
    before = taken(0, "phq9", items(2, 2, 2, 2, 2, 2, 2, 2, 2))  # 18
    after = taken(1, "phq9", items(1, 1, 1, 1, 1, 1, 2, 2, 2))  # 12: -6
    p = pair(instrument("phq9"), [before, after])
    assert p is not None
    assert (p.changes[0].change, p.changes[0].direction) == (-6, Direction.IMPROVED)
    worse = pair(instrument("gad7"), [taken(0, "gad7", items(*[0] * 7)),
                                      taken(1, "gad7", items(1, 1, 1, 1, 0, 0, 0))])  # fmt: skip
    assert worse is not None
    assert worse.changes[0].direction is Direction.DETERIORATED


def test_ons4_anxiety_falling_is_an_improvement_and_life_satisfaction_rising_too() -> None:
    p = pair(instrument("ons4"), [taken(0, "ons4", items(4, 5, 5, 7)),
                                  taken(1, "ons4", items(6, 5, 5, 4))])  # fmt: skip
    assert p is not None
    assert {c.scale: c.direction for c in p.changes} == {
        "life_satisfaction": Direction.IMPROVED,
        "worthwhile": Direction.NO_MEANINGFUL_CHANGE,
        "happiness": Direction.NO_MEANINGFUL_CHANGE,
        "anxiety": Direction.IMPROVED,
    }


def test_one_measure_is_not_a_pair() -> None:
    assert pair(instrument("gad7"), [taken(0, "gad7", items(*[1] * 7))]) is None
