"""Outcome instruments: how each is scored, range-checked and compared before and after.

Only scorers and codes live here, never item wording: WEMWBS/SWEMWBS, PAM and EQ-5D are
licensed, and the deployer supplies the questionnaire text. Answers come in the
instrument's published item order.

Every scorer returns one or more *scales* (ONS4 reports its four items separately; SWEMWBS
its raw and metric score); each scale says which way is better and the change a person must
make on it for the change to count as meaningful, so pre/post pairs can be judged alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from outcomes.domain import gas, swemwbs


class InstrumentId(StrEnum):
    ONS4 = "ons4"
    SWEMWBS = "swemwbs"
    GAD7 = "gad7"
    PHQ9 = "phq9"
    GAS = "gas"  # goal attainment scaling (Kiresuk-Sherman)
    PAM = "pam"  # Patient Activation Measure: scored by the licensee's own tool
    EQ5D = "eq5d"  # EQ-5D index and VAS: computed with the licensed value set


class InvalidAnswers(ValueError):
    """Answers that cannot be scored; ``field`` names the part of the request at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Scale:
    """One reported score of an instrument."""

    name: str
    higher_is_better: bool
    meaningful_change: float | None  # None: no published threshold; change is reported only
    low: float
    high: float


@dataclass(frozen=True)
class Score:
    scale: str
    value: float
    band: str | None = None


@dataclass(frozen=True)
class Scored:
    instrument: InstrumentId
    scores: tuple[Score, ...]

    @property
    def headline(self) -> Score:
        """The score that stands for the whole instrument (the first scale's)."""
        return self.scores[0]

    def as_dict(self) -> dict[str, float]:
        return {s.scale: s.value for s in self.scores}


@dataclass(frozen=True)
class Answers:
    """What a practitioner recorded: item answers, or (for the externally scored
    instruments) the scores their licensed tool computed."""

    items: Sequence[float] = ()
    external: Mapping[str, float] | None = None
    weights: Sequence[float] | None = None  # goal attainment: the goals' weights


@dataclass(frozen=True)
class Instrument:
    id: InstrumentId
    title: str
    scales: tuple[Scale, ...]
    items: int | None  # how many answers; None: scores are supplied, not items
    item_range: tuple[int, int] | None
    licensed: bool
    score: Callable[[Answers], Scored]

    def scale(self, name: str) -> Scale:
        for s in self.scales:
            if s.name == name:
                return s
        raise KeyError(name)


# --- item checks -----------------------------------------------------------------------


def _whole_items(answers: Answers, count: int, low: int, high: int) -> list[int]:
    if answers.external:
        raise InvalidAnswers("scores", "this instrument is scored from its items: send answers")
    items = list(answers.items)
    if len(items) != count:
        raise InvalidAnswers(
            "answers", f"expected {count} answers in the published item order, got {len(items)}"
        )
    out = []
    for i, value in enumerate(items):
        if value != int(value) or not low <= value <= high:
            raise InvalidAnswers(
                f"answers.{i}", f"item {i + 1} must be a whole number from {low} to {high}"
            )
        out.append(int(value))
    return out


def _external(answers: Answers, name: str, low: float, high: float) -> float:
    if answers.items:
        raise InvalidAnswers("answers", "this instrument is scored externally: send scores")
    value = (answers.external or {}).get(name)
    if value is None:
        raise InvalidAnswers(f"scores.{name}", f"the externally computed {name} is required")
    if not low <= value <= high:
        raise InvalidAnswers(f"scores.{name}", f"{name} must be from {low} to {high}")
    return float(value)


def _band(value: float, bands: Sequence[tuple[float, str]]) -> str:
    """The label of the last band whose lower bound ``value`` reaches."""
    label = bands[0][1]
    for lower, name in bands:
        if value >= lower:
            label = name
    return label


# --- ONS4 personal wellbeing -----------------------------------------------------------
# Items in published order: life satisfaction, worthwhile, happiness, anxiety (all 0-10).
# ONS thresholds: for the first three 0-4 low, 5-6 medium, 7-8 high, 9-10 very high; for
# anxiety (where lower is better) 0-1 very low, 2-3 low, 4-5 medium, 6-10 high.
ONS4_POSITIVE_BANDS = ((0, "low"), (5, "medium"), (7, "high"), (9, "very high"))
ONS4_ANXIETY_BANDS = ((0, "very low"), (2, "low"), (4, "medium"), (6, "high"))
ONS4_ITEMS = ("life_satisfaction", "worthwhile", "happiness", "anxiety")
# ONS publishes no individual threshold; one point on the 0-10 scale is the convention of
# social prescribing evaluations and is used here (a deployment may choose otherwise).
ONS4_MEANINGFUL_CHANGE = 1.0


def _ons4(answers: Answers) -> Scored:
    items = _whole_items(answers, 4, 0, 10)
    scores = tuple(
        Score(
            name,
            float(v),
            _band(v, ONS4_ANXIETY_BANDS if name == "anxiety" else ONS4_POSITIVE_BANDS),
        )
        for name, v in zip(ONS4_ITEMS, items, strict=True)
    )
    return Scored(InstrumentId.ONS4, scores)


# --- SWEMWBS ---------------------------------------------------------------------------
# Seven positively worded items 1-5, none reverse scored; raw 7-35 converted to the metric
# score with the published Rasch conversion table (see swemwbs.py).


def _swemwbs(answers: Answers) -> Scored:
    raw = sum(_whole_items(answers, 7, 1, 5))
    return Scored(
        InstrumentId.SWEMWBS,
        (Score("metric", swemwbs.metric_score(raw)), Score("raw", float(raw))),
    )


# --- GAD-7 and PHQ-9 (Pfizer: free to use) -----------------------------------------------
# Items 0-3 summed; severity cut-offs 5/10/15 (GAD-7) and 5/10/15/20 (PHQ-9). Reliable
# change as NHS Talking Therapies uses it: 4 points on GAD-7, 6 on PHQ-9.
GAD7_BANDS = ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe"))
PHQ9_BANDS = (
    (0, "none-minimal"),
    (5, "mild"),
    (10, "moderate"),
    (15, "moderately severe"),
    (20, "severe"),
)


def _gad7(answers: Answers) -> Scored:
    total = sum(_whole_items(answers, 7, 0, 3))
    return Scored(InstrumentId.GAD7, (Score("total", float(total), _band(total, GAD7_BANDS)),))


def _phq9(answers: Answers) -> Scored:
    total = sum(_whole_items(answers, 9, 0, 3))
    return Scored(InstrumentId.PHQ9, (Score("total", float(total), _band(total, PHQ9_BANDS)),))


# --- Goal attainment scaling -----------------------------------------------------------


def _gas(answers: Answers) -> Scored:
    if answers.external:
        raise InvalidAnswers("scores", "goal attainment is scored from each goal's level")
    levels = list(answers.items)
    if not levels:
        raise InvalidAnswers("answers", "goal attainment needs one level (-2 to +2) per goal")
    for i, level in enumerate(levels):
        if level != int(level) or not -2 <= level <= 2:
            raise InvalidAnswers(f"answers.{i}", f"goal {i + 1}: a level from -2 to +2")
    weights = list(answers.weights) if answers.weights is not None else None
    if weights is not None and (len(weights) != len(levels) or any(w <= 0 for w in weights)):
        raise InvalidAnswers("weights", "one positive weight per goal")
    t = gas.t_score([int(v) for v in levels], weights)
    return Scored(InstrumentId.GAS, (Score("t_score", round(t, 2)),))


# --- Externally computed: PAM and EQ-5D ------------------------------------------------
PAM_LEVELS = (1, 4)


def _pam(answers: Answers) -> Scored:
    score = _external(answers, "score", 0, 100)
    level = _external(answers, "level", *PAM_LEVELS)
    if level != int(level):
        raise InvalidAnswers("scores.level", "level must be a whole number from 1 to 4")
    return Scored(
        InstrumentId.PAM, (Score("score", score, f"level {int(level)}"), Score("level", level))
    )


# The lowest index any UK EQ-5D value set gives (3L: -0.594); 1 is full health.
EQ5D_INDEX_RANGE = (-0.594, 1.0)


def _eq5d(answers: Answers) -> Scored:
    index = _external(answers, "index", *EQ5D_INDEX_RANGE)
    scores = [Score("index", index)]
    if answers.external and "vas" in answers.external:
        scores.append(Score("vas", _external(answers, "vas", 0, 100)))
    return Scored(InstrumentId.EQ5D, tuple(scores))


def _positive(name: str, change: float | None, low: float, high: float) -> Scale:
    return Scale(name, True, change, low, high)


INSTRUMENTS: dict[InstrumentId, Instrument] = {
    i.id: i
    for i in (
        Instrument(
            InstrumentId.ONS4,
            "ONS4 personal wellbeing",
            (
                _positive("life_satisfaction", ONS4_MEANINGFUL_CHANGE, 0, 10),
                _positive("worthwhile", ONS4_MEANINGFUL_CHANGE, 0, 10),
                _positive("happiness", ONS4_MEANINGFUL_CHANGE, 0, 10),
                Scale("anxiety", False, ONS4_MEANINGFUL_CHANGE, 0, 10),
            ),
            4,
            (0, 10),
            False,
            _ons4,
        ),
        Instrument(
            InstrumentId.SWEMWBS,
            "Short Warwick-Edinburgh Mental Wellbeing Scale",
            # Warwick Medical School: a change of 3 metric points or more is meaningful
            # for an individual (1-3 at population level).
            (_positive("metric", 3.0, 7, 35), _positive("raw", None, 7, 35)),
            7,
            (1, 5),
            True,
            _swemwbs,
        ),
        Instrument(
            InstrumentId.GAD7,
            "GAD-7 generalised anxiety",
            (Scale("total", False, 4.0, 0, 21),),
            7,
            (0, 3),
            False,
            _gad7,
        ),
        Instrument(
            InstrumentId.PHQ9,
            "PHQ-9 depression",
            (Scale("total", False, 6.0, 0, 27),),
            9,
            (0, 3),
            False,
            _phq9,
        ),
        Instrument(
            InstrumentId.GAS,
            "Goal attainment scaling (Kiresuk-Sherman T-score)",
            # One goal moving one level moves T by 10 when it is scored alone.
            (_positive("t_score", 10.0, 0, 100),),
            None,
            (-2, 2),
            False,
            _gas,
        ),
        Instrument(
            InstrumentId.PAM,
            "Patient Activation Measure (externally scored)",
            (_positive("score", None, 0, 100), _positive("level", None, 1, 4)),
            None,
            None,
            True,
            _pam,
        ),
        Instrument(
            InstrumentId.EQ5D,
            "EQ-5D (externally computed index and VAS)",
            (_positive("index", None, -0.594, 1), _positive("vas", None, 0, 100)),
            None,
            None,
            True,
            _eq5d,
        ),
    )
}


def instrument(name: str) -> Instrument:
    try:
        return INSTRUMENTS[InstrumentId(name)]
    except ValueError:
        known = ", ".join(i.value for i in InstrumentId)
        raise InvalidAnswers("instrument", f"unknown instrument {name!r}; known: {known}") from None


def score(name: str, answers: Answers) -> Scored:
    return instrument(name).score(answers)
