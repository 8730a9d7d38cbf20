"""Synthetic demo referrals for ``make run``: 999-range NHS numbers, invented people."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from carethread.auth import Principal
from carethread.nhs import synthetic_nhs_numbers
from carethread.observability.logging import get_logger
from carethread.reference import load_geography
from carethread.service import ServiceRuntime
from referrals import use_cases
from referrals.api.schemas import ContactIn, PersonIn, ReferralCreate, ReferrerIn
from referrals.domain.directory import Listing, why_not_routable
from referrals.domain.lifecycle import Action
from referrals.domain.person import ETHNIC_CATEGORIES, Sex
from referrals.domain.referral import SOCIAL_NEEDS, Destination, DestinationKind, Source, Urgency
from referrals.domain.sla import SlaTargets
from referrals.domain.triage import Move
from referrals.settings import ReferralsSettings
from referrals.store.tables import DirectoryServiceRow, ReferralRow
from referrals.triage_use_cases import move_referral

log = get_logger(__name__)
GIVEN = [
    "Amara",
    "Ben",
    "Chloe",
    "Deniz",
    "Efua",
    "Farhan",
    "Grace",
    "Hamid",
    "Ines",
    "Jonah",
    "Kemi",
    "Luca",
    "Maya",
    "Nikos",
    "Olu",
    "Priya",
    "Rosa",
    "Sami",
    "Tomasz",
    "Yusuf",
    "Zofia",
    "Aziz",
    "Bea",
    "Callum",
    "Dara",
    "Elif",
    "Femi",
    "Gita",
    "Hana",
    "Ivo",
]
FAMILY = [
    "Adeyemi",
    "Brennan",
    "Costa",
    "Demir",
    "Evans",
    "Francis",
    "Gashi",
    "Hussain",
    "Ivanova",
    "Jones",
    "Kowalski",
    "Lopez",
    "Mensah",
    "Nguyen",
    "O'Brien",
    "Patel",
    "Quinn",
    "Rahman",
    "Silva",
    "Tran",
    "Uddin",
    "Vasquez",
    "Walsh",
    "Yilmaz",
    "Zhou",
]
DEMO_REFERRALS = 300
# Where demo referrals end up, so every lifecycle state (and queue filter) has examples.
JOURNEYS: list[list[tuple[Action, str | None]]] = [
    [],
    [],
    [(Action.CLAIM, None)],
    [(Action.CLAIM, None), (Action.ACCEPT, "mdt")],
    [(Action.ROUTE, "service")],
    [(Action.CLAIM, None), (Action.SIGNPOST, "Signposted to Citizens Advice Islington")],
    [(Action.REQUEST_INFO, "Is the person aware of and agreeing to this referral?")],
    [(Action.DECLINE, "Already open to the community mental health team")],
    [(Action.ACCEPT, "mdt"), (Action.START, None)],
    [(Action.ROUTE, "service"), (Action.START, None), (Action.COMPLETE, None)],
    [(Action.WITHDRAW, "The person moved out of the area")],
]


# The directory loads its own demo listings at the same time; routes go to those of its
# services that take referrals, once the front door has heard of them.
DIRECTORY_WAIT_SECONDS = 30
MIN_DIRECTORY_SERVICES = 20
# Languages spoken across NCL besides English (BCP 47), for people who prefer another.
LANGUAGES = ["tr", "so", "bn", "pl", "ar", "el", "pt", "es", "ti", "ku", "bfi"]


async def _routable_services(runtime: ServiceRuntime) -> list[Destination]:
    deadline = time.monotonic() + DIRECTORY_WAIT_SECONDS
    while True:
        async with runtime.uow() as uow:
            rows = await uow.session.scalars(
                select(DirectoryServiceRow).order_by(DirectoryServiceRow.name).limit(2000)
            )
            found = [
                Destination(DestinationKind.SERVICE, str(r.service_id), r.name)
                for r in rows
                if why_not_routable(Listing(r.name, r.status, r.capacity, r.referral_route)) is None
            ]
        if len(found) >= MIN_DIRECTORY_SERVICES or time.monotonic() > deadline:
            return found
        await asyncio.sleep(1)


def _destination(
    kind: str, neighbourhood: str | None, services: list[Destination], rng: random.Random
) -> Destination | None:
    if kind == "mdt" and neighbourhood:
        return Destination(DestinationKind.NEIGHBOURHOOD_MDT, neighbourhood)
    if kind == "service" and services:
        return rng.choice(services)
    return None


async def load_demo_data(runtime: ServiceRuntime) -> None:
    async with runtime.uow() as uow:
        if await uow.session.scalar(select(func.count()).select_from(ReferralRow)):
            return  # loaded on an earlier run: data/ is kept
    rng = random.Random(20261122)
    geography = load_geography()
    practices = sorted(geography.practices.values(), key=lambda p: p.code)
    postcodes = sorted(geography.postcodes)
    nhs_numbers = synthetic_nhs_numbers(start=100)
    referrer = Principal(sub="demo-loader", org="93C", roles=frozenset({"referrer"}))
    triager = Principal(sub="demo-triager", org="93C", roles=frozenset({"triager"}))
    settings = runtime.settings
    targets = settings.sla_targets if isinstance(settings, ReferralsSettings) else SlaTargets()
    services = await _routable_services(runtime)
    log.info("directory services to route demo referrals to", count=len(services))
    now = datetime.now(UTC)
    for i in range(DEMO_REFERRALS):
        unregistered = i % 9 == 0  # inclusion health: no GP, no NHS number
        practice = None if unregistered else rng.choice(practices)
        language = rng.choice(LANGUAGES) if rng.random() < 0.2 else None
        request = ReferralCreate(
            person=PersonIn(
                nhs_number=None if unregistered else next(nhs_numbers),
                given_name=rng.choice(GIVEN),
                family_name=rng.choice(FAMILY),
                birth_date=date(1930, 1, 1) + timedelta(days=rng.randrange(0, 32000)),
                postcode=practice.postcode if practice else rng.choice(postcodes),
                gp_practice_code=practice.code if practice else None,
                sex=rng.choice([Sex.FEMALE, Sex.MALE, Sex.FEMALE, Sex.MALE, Sex.UNKNOWN]),
                ethnicity_code=rng.choice(sorted(ETHNIC_CATEGORIES)),
                preferred_language=language,
                interpreter_needed=language is not None and rng.random() < 0.6,
                contact=ContactIn(phone=f"07700 900{rng.randrange(1000):03d}"),
            ),
            consent_to_share=rng.random() < 0.9,
            referrer=ReferrerIn(
                name="Demo Referrer", role="GP", org=practice.code if practice else "93C"
            ),
            source=list(Source)[i % len(Source)],
            urgency=list(Urgency)[i % len(Urgency)],
            reasons=rng.sample(sorted(SOCIAL_NEEDS), k=rng.randint(1, 3)),
            story="Synthetic demo referral.",
        )
        # Received up to ten days ago; old untriaged ones breach their response time.
        at = now - timedelta(hours=rng.randrange(0, 240))
        async with runtime.uow() as uow:
            received = await use_cases.receive_referral(
                uow, request, referrer, geography, now=at, targets=targets
            )
            referral = received.referral
            for step, (planned, planned_detail) in enumerate(JOURNEYS[i % len(JOURNEYS)], 1):
                action, detail = planned, planned_detail
                destination = _destination(detail or "", referral.neighbourhood, services, rng)
                if action is Action.ACCEPT and destination is None:
                    # No neighbourhood (no GP, postcode outside NCL): social prescribing.
                    action = Action.ROUTE
                    destination = _destination("service", None, services, rng)
                if action is Action.ROUTE and destination is None and referral.neighbourhood:
                    # The directory has no services to offer: the neighbourhood MDT takes it.
                    action = Action.ACCEPT
                    destination = _destination("mdt", referral.neighbourhood, services, rng)
                if action is Action.ROUTE and destination is None:
                    # Nowhere to send it: signpost, which ends the journey.
                    signpost = Move(
                        action=Action.SIGNPOST,
                        actor=triager.sub,
                        actor_org=triager.org or "",
                        at=min(now, at + timedelta(hours=rng.randint(1, 30) * step)),
                        reason="Signposted to the borough's social prescribers",
                    )
                    await move_referral(uow, referral.id, signpost, triager)
                    break
                move = Move(
                    action=action,
                    actor=triager.sub,
                    actor_org=triager.org or "",
                    at=min(now, at + timedelta(hours=rng.randint(1, 30) * step)),
                    reason=None if destination else detail,
                    destination=destination,
                )
                referral = (await move_referral(uow, referral.id, move, triager)).referral
            await uow.commit()
    log.info("demo referrals loaded", count=DEMO_REFERRALS)
