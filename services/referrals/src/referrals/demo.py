"""Synthetic demo referrals for ``make run``: 999-range NHS numbers, invented people."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from carethread.auth import Principal
from carethread.nhs import synthetic_nhs_numbers
from carethread.observability.logging import get_logger
from carethread.reference import load_geography
from carethread.service import ServiceRuntime
from referrals import use_cases
from referrals.api.schemas import PersonIn, ReferralCreate, ReferrerIn
from referrals.domain.referral import SOCIAL_NEEDS, Source, Urgency
from referrals.store.tables import ReferralRow

log = get_logger(__name__)
GIVEN = ["Amara", "Ben", "Chloe", "Deniz", "Efua", "Farhan", "Grace", "Hamid", "Ines", "Jonah",
         "Kemi", "Luca", "Maya", "Nikos", "Olu", "Priya", "Rosa", "Sami", "Tomasz", "Yusuf"]
FAMILY = ["Adeyemi", "Brennan", "Costa", "Demir", "Evans", "Francis", "Gashi", "Hussain",
          "Ivanova", "Jones", "Kowalski", "Lopez", "Mensah", "Nguyen", "O'Brien", "Patel"]
DEMO_REFERRALS = 120


async def load_demo_data(runtime: ServiceRuntime) -> None:
    async with runtime.uow() as uow:
        if await uow.session.scalar(select(func.count()).select_from(ReferralRow)):
            return  # loaded on an earlier run: data/ is kept
    rng = random.Random(20261122)
    geography = load_geography()
    practices = sorted(geography.practices.values(), key=lambda p: p.code)
    postcodes = sorted(geography.postcodes)
    nhs_numbers = synthetic_nhs_numbers(start=100)
    demo_user = Principal(sub="demo-loader", org="93C", roles=frozenset({"referrer"}))
    now = datetime.now(UTC)
    for i in range(DEMO_REFERRALS):
        unregistered = i % 9 == 0  # inclusion health: no GP, no NHS number
        practice = None if unregistered else rng.choice(practices)
        request = ReferralCreate(
            person=PersonIn(
                nhs_number=None if unregistered else next(nhs_numbers),
                given_name=rng.choice(GIVEN),
                family_name=rng.choice(FAMILY),
                birth_date=date(1930, 1, 1) + timedelta(days=rng.randrange(0, 32000)),
                postcode=practice.postcode if practice else rng.choice(postcodes),
                gp_practice_code=practice.code if practice else None,
            ),
            referrer=ReferrerIn(name="Demo Referrer", role="GP", org=practice.code if practice else "93C"),
            source=list(Source)[i % len(Source)],
            urgency=list(Urgency)[i % len(Urgency)],
            reasons=rng.sample(sorted(SOCIAL_NEEDS), k=rng.randint(1, 3)),
            story="Synthetic demo referral.",
        )
        async with runtime.uow() as uow:
            await use_cases.receive_referral(
                uow, request, demo_user, geography, now=now - timedelta(hours=rng.randrange(0, 240))
            )
            await uow.commit()
    log.info("demo referrals loaded", count=DEMO_REFERRALS)
