"""Indicator definitions, as data: what is counted (the unit), which units form the
denominator, which of those the numerator, the date that places a unit in a period, and
the indicator's place in the ICS outcomes framework (life-course stage, NCL priority).

Conditions name fields of the unit's facts (or the few person-level facts listed in
``PERSON_FACTS``); the store turns them into queries, so adding an indicator means adding
a definition here, not code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class LifeCourse(StrEnum):
    START_WELL = "start_well"
    LIVE_WELL = "live_well"
    AGE_WELL = "age_well"
    DIE_WELL = "die_well"


class Kind(StrEnum):
    PROPORTION = "proportion"  # numerator out of denominator, with a Wilson interval
    COUNT = "count"  # how many units


class Unit(StrEnum):
    """The fact an indicator counts: one row each."""

    REFERRAL = "referral"
    MEASURE_CHANGE = "measure_change"  # a person's first-to-latest change on one scale
    GOAL = "goal"
    OVERDUE_ACTION = "overdue_action"


class Dimension(StrEnum):
    IMD_QUINTILE = "imd_quintile"
    BOROUGH = "borough"
    NEIGHBOURHOOD = "neighbourhood"
    ETHNICITY = "ethnicity"
    AGE_BAND = "age_band"
    SEX = "sex"
    CORE20PLUS5 = "core20plus5"


Op = Literal["eq", "in", "is_true", "is_false", "is_null", "not_null"]
# Facts about the unit's person that a condition may use besides the unit's own fields.
PERSON_FACTS = frozenset({"person.has_care_plan", "person.social_prescribed"})


@dataclass(frozen=True)
class Condition:
    field: str
    op: Op
    value: str | tuple[str, ...] | None = None


@dataclass(frozen=True)
class Indicator:
    id: str
    title: str
    description: str
    unit: Unit
    kind: Kind
    period_field: str
    life_course: LifeCourse
    ncl_priority: str
    higher_is_better: bool
    denominator: tuple[Condition, ...] = ()
    numerator: tuple[Condition, ...] = ()  # applied within the denominator


MENTAL_HEALTH = "Mental health and wellbeing across all ages"
FRONT_DOOR = "Integrated front door: joint triage in good time"
SOCIAL_PRESCRIBING = "Social prescribing and the wider determinants of health"
PERSONALISED_CARE = "Personalised care and support planning"


def _wellbeing_after_social_prescribing(
    id_: str, title: str, instrument: str, scale: str, life_course: LifeCourse
) -> Indicator:
    return Indicator(
        id=id_,
        title=title,
        description=(
            f"People social-prescribed to a VCSE service with a {instrument} measure before "
            f"and after whose {scale} improved by at least the instrument's meaningful "
            "change, of all such people (first to latest measure; period by the latest)."
        ),
        unit=Unit.MEASURE_CHANGE,
        kind=Kind.PROPORTION,
        period_field="after_at",
        life_course=life_course,
        ncl_priority=MENTAL_HEALTH,
        higher_is_better=True,
        denominator=(
            Condition("instrument", "eq", instrument),
            Condition("scale", "eq", scale),
            Condition("person.social_prescribed", "is_true"),
        ),
        numerator=(Condition("direction", "eq", "improved"),),
    )


def _reliable_improvement(id_: str, title: str, instrument: str) -> Indicator:
    return Indicator(
        id=id_,
        title=title,
        description=(
            f"People with a {instrument} measure before and after whose total fell by the "
            "reliable-change amount, of all people measured twice."
        ),
        unit=Unit.MEASURE_CHANGE,
        kind=Kind.PROPORTION,
        period_field="after_at",
        life_course=LifeCourse.LIVE_WELL,
        ncl_priority=MENTAL_HEALTH,
        higher_is_better=True,
        denominator=(Condition("instrument", "eq", instrument), Condition("scale", "eq", "total")),
        numerator=(Condition("direction", "eq", "improved"),),
    )


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        id="referrals-received",
        title="Referrals received at the integrated front door",
        description="Referrals received, from any source and channel.",
        unit=Unit.REFERRAL,
        kind=Kind.COUNT,
        period_field="received_at",
        life_course=LifeCourse.LIVE_WELL,
        ncl_priority=FRONT_DOOR,
        higher_is_better=True,
        denominator=(Condition("received_at", "not_null"),),
    ),
    Indicator(
        id="triaged-within-target",
        title="Referrals triaged within the response-time target",
        description=(
            "Referrals whose first triage decision came within the response time for their "
            "urgency, of all referrals triaged (period by when they were received)."
        ),
        unit=Unit.REFERRAL,
        kind=Kind.PROPORTION,
        period_field="received_at",
        life_course=LifeCourse.LIVE_WELL,
        ncl_priority=FRONT_DOOR,
        higher_is_better=True,
        denominator=(Condition("triaged_at", "not_null"), Condition("received_at", "not_null")),
        numerator=(Condition("triaged_within_sla", "is_true"),),
    ),
    Indicator(
        id="response-time-breached",
        title="Referrals that breached the response-time target",
        description="Referrals still untriaged, or triaged late, past their response time.",
        unit=Unit.REFERRAL,
        kind=Kind.PROPORTION,
        period_field="received_at",
        life_course=LifeCourse.LIVE_WELL,
        ncl_priority=FRONT_DOOR,
        higher_is_better=False,
        denominator=(Condition("received_at", "not_null"),),
        numerator=(Condition("sla_breached", "is_true"),),
    ),
    Indicator(
        id="social-prescription-uptake",
        title="Social prescriptions taken up",
        description=(
            "Referrals routed to a VCSE service in the directory (social prescriptions) "
            "that the service started, of all social prescriptions (period by triage)."
        ),
        unit=Unit.REFERRAL,
        kind=Kind.PROPORTION,
        period_field="triaged_at",
        life_course=LifeCourse.LIVE_WELL,
        ncl_priority=SOCIAL_PRESCRIBING,
        higher_is_better=True,
        denominator=(Condition("social_prescription", "is_true"),),
        numerator=(Condition("started_at", "not_null"),),
    ),
    Indicator(
        id="accepted-with-care-plan",
        title="Accepted referrals whose person has a shared care plan",
        description=(
            "Referrals accepted to a neighbourhood MDT or team whose person has a shared "
            "care plan, of all accepted referrals (conversion to care plans)."
        ),
        unit=Unit.REFERRAL,
        kind=Kind.PROPORTION,
        period_field="triaged_at",
        life_course=LifeCourse.AGE_WELL,
        ncl_priority=PERSONALISED_CARE,
        higher_is_better=True,
        denominator=(Condition("decision", "eq", "accept"),),
        numerator=(Condition("person.has_care_plan", "is_true"),),
    ),
    _wellbeing_after_social_prescribing(
        "wellbeing-improved-after-social-prescribing",
        "Mental wellbeing (SWEMWBS) improved after social prescribing",
        "swemwbs",
        "metric",
        LifeCourse.LIVE_WELL,
    ),
    _wellbeing_after_social_prescribing(
        "life-satisfaction-improved-after-social-prescribing",
        "Life satisfaction (ONS4) improved after social prescribing",
        "ons4",
        "life_satisfaction",
        LifeCourse.LIVE_WELL,
    ),
    _reliable_improvement(
        "anxiety-reliable-improvement", "Anxiety (GAD-7) reliably improved", "gad7"
    ),
    _reliable_improvement(
        "depression-reliable-improvement", "Depression (PHQ-9) reliably improved", "phq9"
    ),
    Indicator(
        id="goals-achieved",
        title="Care-plan goals achieved",
        description="Goals set with the person in a shared care plan that were achieved.",
        unit=Unit.GOAL,
        kind=Kind.PROPORTION,
        period_field="added_at",
        life_course=LifeCourse.AGE_WELL,
        ncl_priority=PERSONALISED_CARE,
        higher_is_better=True,
        numerator=(Condition("achieved_at", "not_null"),),
    ),
    Indicator(
        id="overdue-actions",
        title="Care-plan actions gone overdue",
        description="Actions in shared care plans whose due date passed while still open.",
        unit=Unit.OVERDUE_ACTION,
        kind=Kind.COUNT,
        period_field="due_date",
        life_course=LifeCourse.AGE_WELL,
        ncl_priority=PERSONALISED_CARE,
        higher_is_better=False,
    ),
)

BY_ID: dict[str, Indicator] = {i.id: i for i in INDICATORS}
