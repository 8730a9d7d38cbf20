"""Synthetic demo plans for ``make run``: invented people, 999-range NHS numbers.

The people are the first registered people of the referrals service's demo (the same NHS
numbers, so the same person ids); when the front door's person events arrive they bring the
front door's names and details. Each plan has a care team across a GP practice, community
nursing, adult social care and a VCSE organisation, goals in the person's words, some
overdue actions and several versions by different practitioners. To see them, mint a token
with one of the demo teams, e.g. ``carethread token --teams asc-islington-north``.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from care_plans import records
from care_plans.domain.document import (
    AboutMe,
    Action,
    ActionStatus,
    CareTeamMember,
    Communication,
    ContingencyPlan,
    Goal,
    GoalStatus,
    ImportantPerson,
    Need,
    PlanDocument,
    PlanStatus,
)
from care_plans.records import Editor
from care_plans.store.tables import CarePlanRow
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from carethread.observability.logging import get_logger
from carethread.reference import load_geography
from carethread.service import ServiceRuntime

log = get_logger(__name__)
DEMO_PLANS = 12
GIVEN = ["Amara", "Ben", "Chloe", "Deniz", "Efua", "Farhan", "Grace", "Hamid", "Ines", "Jonah"]
FAMILY = ["Adeyemi", "Brennan", "Costa", "Demir", "Evans", "Francis", "Gashi", "Hussain"]
# (what matters, a need, a goal in their words, an action towards it)
STORIES = [
    (
        "Staying in my own home and seeing my grandchildren.",
        "I feel lonely since my wife died",
        "To get out of the house twice a week",
        "Introduce to the lunch club at the community centre",
    ),
    (
        "Keeping my allotment going.",
        "My breathing is worse in winter",
        "To walk to the allotment without stopping",
        "Refer to pulmonary rehabilitation",
    ),
    (
        "Being independent and not a burden on my son.",
        "I am worried about paying the bills",
        "To sort out my benefits so I can pay the heating",
        "Book a benefits check with the advice service",
    ),
    (
        "Going back to church on Sundays.",
        "I had two falls this year",
        "To feel safe on the stairs again",
        "Home safety and falls assessment",
    ),
]


def _team(practice_code: str, practice_name: str) -> list[CareTeamMember]:
    return [
        CareTeamMember(
            name=f"Dr Example, {practice_name}",
            role="GP",
            organisation=practice_code,
            organisation_name=practice_name,
            team=f"gp-{practice_code.lower()}",
            practitioner="demo.gp",
        ),
        CareTeamMember(
            name="District nursing, Islington north",
            role="Community nurse",
            organisation="RKE",
            organisation_name="Whittington Health NHS Trust",
            team="dn-islington-north",
        ),
        CareTeamMember(
            name="Adult social care, north locality",
            role="Social worker",
            organisation_name="Islington Council",
            team="asc-islington-north",
            key_worker=True,
        ),
        CareTeamMember(
            name="Befriending and social prescribing (VCSE)",
            role="Link worker",
            organisation_name="A local VCSE organisation",
            team="vcse-befriending",
        ),
    ]


def _plan(rng: random.Random, team: list[CareTeamMember], at: datetime) -> PlanDocument:
    matters, need_words, goal_words, action_words = rng.choice(STORIES)
    gp, nurse, social, vcse = team
    need = Need(description=need_words)
    goal = Goal(
        need_id=need.id,
        description=goal_words,
        importance=rng.randint(6, 10),
        status=GoalStatus.IN_PROGRESS,
        target_date=(at + timedelta(days=120)).date(),
        outcome_measures=["ONS4"],
    )
    today = at.date()
    return PlanDocument(
        status=PlanStatus.ACTIVE,
        about_me=AboutMe(
            what_matters_to_me=matters,
            people_important_to_me=[
                ImportantPerson(
                    name="A family member",
                    relationship="daughter",
                    is_carer=True,
                    consent_to_involve=True,
                )
            ],
            communication=Communication(language="en", accessible_formats=["large print"]),
            please_do=["Ring before you visit"],
            please_dont=["Talk over me"],
        ),
        story="Synthetic demo story, told once.",
        strengths=["Close to family", "Likes cooking"],
        needs=[need],
        goals=[goal],
        actions=[
            Action(
                goal_id=goal.id,
                description=action_words,
                owner=vcse.id,
                due_date=today + timedelta(days=10),
            ),
            Action(
                description="Medication review",
                owner=gp.id,
                due_date=today + timedelta(days=rng.randint(20, 60)),
            ),
            Action(
                description="Check pressure areas at home",
                owner=nurse.id,
                due_date=today + timedelta(days=14),
            ),
        ],
        care_team=team,
        contingency_plan=ContingencyPlan(
            trigger_factors=["A fall", "Carer unwell"],
            what_should_happen="Call the carer, then the key worker; out of hours NHS 111.",
            who_to_contact=["Carer", "Adult social care duty desk"],
        ),
        review_date=today + timedelta(days=90),
        review_responsible=social.id,
    )


async def load_demo_data(runtime: ServiceRuntime) -> None:
    async with runtime.uow() as uow:
        if await uow.session.scalar(select(func.count()).select_from(CarePlanRow)):
            return  # loaded on an earlier run: data/ is kept
    rng = random.Random(20261130)
    geography = load_geography()
    practices = sorted(geography.practices.values(), key=lambda p: p.code)
    nhs_numbers = synthetic_nhs_numbers(start=100)  # the referrals demo's first numbers
    now = datetime.now(UTC)
    for _ in range(DEMO_PLANS):
        nhs = next(nhs_numbers)
        practice = rng.choice(practices)
        team = _team(practice.code, practice.name)
        gp_editor = Editor("demo.gp", "Dr Example", practice.code, "practitioner")
        social_editor = Editor("demo.sw", "S. Worker", None, "practitioner")
        vcse_editor = Editor("demo.link", "L. Worker", None, "practitioner")
        started = now - timedelta(days=rng.randint(25, 40))
        async with runtime.uow() as uow:
            person, plan = await records.start_record(
                uow,
                person_id=person_id_for_nhs_number(nhs),
                details={
                    "nhs_number": nhs,
                    "given_name": rng.choice(GIVEN),
                    "family_name": rng.choice(FAMILY),
                    "birth_date": (now - timedelta(days=rng.randint(65 * 365, 90 * 365))).date(),
                    "gp_practice_code": practice.code,
                    "postcode": practice.postcode,
                    "neighbourhood": practice.pcn_code,
                },
                recorded_from="care_plans",
                editor=gp_editor,
                care_team=team[:1],
                now=started,
                reason="demo",
            )
            document = _plan(rng, team, started)
            saved = await records.save_version(uow, person, plan, document, social_editor, started)
            later = started + timedelta(days=12)  # the first action is overdue by now
            richer = saved.document.model_copy(
                update={
                    "contingency_plan": saved.document.contingency_plan.model_copy(
                        update={"safety_plan": "Key safe by the front door; carer holds the code."}
                    )
                }
            )
            saved = await records.save_version(uow, person, plan, richer, social_editor, later)
            if rng.random() < 0.5:  # some have moved on: the nurse's visit was done
                actions = [
                    a.model_copy(update={"status": ActionStatus.COMPLETED})
                    if a.owner == team[1].id
                    else a
                    for a in saved.document.actions
                ]
                done = saved.document.model_copy(update={"actions": actions})
                await records.save_version(
                    uow, person, plan, done, vcse_editor, later + timedelta(days=3)
                )
            await uow.commit()
    log.info("demo care plans loaded", count=DEMO_PLANS)
