"""Synthetic demo listings for ``make run``: 320 plausible VCSE and council services across
the five NCL boroughs, at real NCL postcodes, with opening times, languages, eligibility and
capacity. The organisations are invented (bar the councils); loaded once."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from carethread.auth import Principal
from carethread.observability.logging import get_logger
from carethread.reference import load_geography
from carethread.service import ServiceRuntime
from directory.api.schemas import (
    AccessibilityIn,
    ContactIn,
    LocationIn,
    OrganizationIn,
    ScheduleIn,
    ServiceIn,
)
from directory.domain.listing import Capacity, DeliveryMode, ReferralRoute
from directory.store.tables import ServiceRow
from directory.store.taxonomy import load_terms
from directory.use_cases import save_listing

log = get_logger(__name__)
DEMO_NAMESPACE = uuid.UUID("9a3e5c7b-1d2f-5a4b-8c6d-0e1f2a3b4c5d")
PER_BOROUGH = 64
AREAS = {
    "Barnet": ["Hendon", "Finchley", "Edgware", "Barnet", "Colindale", "Burnt Oak"],
    "Camden": ["Kentish Town", "Somers Town", "Kilburn", "Gospel Oak", "Holborn", "Camden Town"],
    "Enfield": ["Edmonton", "Enfield Town", "Ponders End", "Southgate", "Palmers Green"],
    "Haringey": ["Tottenham", "Wood Green", "Hornsey", "Northumberland Park", "Muswell Hill"],
    "Islington": ["Archway", "Holloway", "Finsbury Park", "Highbury", "Angel", "Caledonian"],
}
ORG_KINDS = ["Community Trust", "Neighbourhood Association", "Voluntary Action", "Together"]
LANGUAGES = ["tr", "so", "bn", "pl", "ar", "el", "pt", "es", "ur", "ku", "sq", "ti", "ro"]


@dataclass(frozen=True)
class Kind:
    name: str
    taxonomy: str
    description: str
    route: ReferralRoute
    modes: tuple[DeliveryMode, ...]
    ages: tuple[int | None, int | None]
    days: tuple[str, ...]
    hours: tuple[int, int]
    free: bool = True


IN_PERSON, PHONE, ONLINE, HOME = (
    DeliveryMode.IN_PERSON, DeliveryMode.PHONE, DeliveryMode.ONLINE, DeliveryMode.HOME_VISIT
)  # fmt: skip
FORMAL, SUPPORTED, SELF, SIGNPOST = (
    ReferralRoute.FORMAL_REFERRAL, ReferralRoute.WITH_SUPPORT,
    ReferralRoute.SELF_REFERRAL, ReferralRoute.SIGNPOST_ONLY,
)  # fmt: skip
KINDS = [
    Kind(
        "Befriending",
        "befriending",
        "Weekly visits or calls from a trained volunteer for people who feel lonely or cut off.",
        FORMAL,
        (HOME, PHONE),
        (55, None),
        ("MO", "TU", "WE", "TH", "FR"),
        (9, 17),
    ),
    Kind(
        "Lunch Club",
        "social-groups",
        "A hot two-course lunch and good company for older neighbours; transport can be arranged.",
        SELF,
        (IN_PERSON,),
        (60, None),
        ("TU", "TH"),
        (11, 14),
        False,
    ),
    Kind(
        "Debt Advice",
        "debt-advice",
        "Free, confidential help with rent and council tax arrears, bailiffs and creditors.",
        SUPPORTED,
        (IN_PERSON, PHONE),
        (18, None),
        ("MO", "WE", "FR"),
        (10, 16),
    ),
    Kind(
        "Benefits Advice",
        "benefits-advice",
        "Help to claim Universal Credit, PIP and Attendance Allowance, and to challenge decisions.",
        FORMAL,
        (IN_PERSON, PHONE, ONLINE),
        (16, None),
        ("TU", "TH"),
        (9, 17),
    ),
    Kind(
        "Food Bank",
        "food-bank",
        "Emergency food parcels with a voucher from a support worker, GP or social prescriber.",
        SUPPORTED,
        (IN_PERSON,),
        (None, None),
        ("SA",),
        (10, 13),
    ),
    Kind(
        "Community Kitchen",
        "community-meals",
        "Pay-as-you-feel community meals cooked with surplus food; everyone welcome.",
        SELF,
        (IN_PERSON,),
        (None, None),
        ("WE",),
        (12, 15),
    ),
    Kind(
        "Carers Support",
        "carers",
        "Advice, breaks and a listening ear for unpaid carers, including carers' assessments.",
        FORMAL,
        (IN_PERSON, PHONE),
        (18, None),
        ("MO", "TU", "WE", "TH", "FR"),
        (9, 17),
    ),
    Kind(
        "Young Carers Club",
        "carers",
        "Fun activities and support for young people who look after someone at home.",
        FORMAL,
        (IN_PERSON,),
        (8, 18),
        ("WE",),
        (16, 19),
    ),
    Kind(
        "Walking Group",
        "physical-activity",
        "Gentle guided walks through local parks for all abilities, with a cuppa afterwards.",
        SELF,
        (IN_PERSON,),
        (None, None),
        ("TH",),
        (10, 12),
    ),
    Kind(
        "Strength and Balance Class",
        "strength-balance",
        "Chair-based exercise and tai chi to build strength and prevent falls.",
        FORMAL,
        (IN_PERSON,),
        (60, None),
        ("MO", "WE"),
        (14, 15),
    ),
    Kind(
        "ESOL Classes",
        "english-language",
        "Free English language classes for speakers of other languages, beginners to Level 2.",
        SELF,
        (IN_PERSON, ONLINE),
        (19, None),
        ("MO", "TU", "TH"),
        (10, 12),
    ),
    Kind(
        "Employment Support",
        "employment-support",
        "One-to-one help with CVs, job search, interviews and confidence to return to work.",
        FORMAL,
        (IN_PERSON, ONLINE),
        (18, 66),
        ("TU", "WE", "TH"),
        (9, 17),
    ),
    Kind(
        "Housing Advice",
        "housing-advice",
        "Advice on tenancy problems, disrepair, eviction and finding a home.",
        SUPPORTED,
        (IN_PERSON, PHONE),
        (18, None),
        ("MO", "TH"),
        (10, 16),
    ),
    Kind(
        "Homelessness Outreach",
        "homelessness-support",
        "Street outreach, day centre and a route into accommodation for people sleeping rough.",
        SELF,
        (IN_PERSON,),
        (18, None),
        ("MO", "TU", "WE", "TH", "FR", "SA", "SU"),
        (8, 20),
    ),
    Kind(
        "Counselling Service",
        "counselling",
        "Short-term counselling for adults experiencing anxiety, low mood, bereavement or stress.",
        FORMAL,
        (IN_PERSON, PHONE, ONLINE),
        (18, None),
        ("MO", "TU", "WE", "TH"),
        (9, 20),
        False,
    ),
    Kind(
        "Wellbeing Peer Support Group",
        "peer-support",
        "A friendly peer support group for people living with anxiety or depression.",
        SELF,
        (IN_PERSON, ONLINE),
        (18, None),
        ("FR",),
        (18, 20),
    ),
    Kind(
        "Creative Arts Group",
        "arts-creativity",
        "Painting, crafts and singing sessions to boost wellbeing and meet people.",
        SELF,
        (IN_PERSON,),
        (None, None),
        ("WE",),
        (13, 16),
    ),
    Kind(
        "Community Garden",
        "arts-creativity",
        "Grow food and flowers together; therapeutic gardening sessions for all.",
        SELF,
        (IN_PERSON,),
        (None, None),
        ("SA", "SU"),
        (10, 15),
    ),
    Kind(
        "Alcohol Recovery Group",
        "substance-use",
        "Recovery support for people cutting down or stopping drinking, and their families.",
        SUPPORTED,
        (IN_PERSON, ONLINE),
        (18, None),
        ("TU",),
        (18, 20),
    ),
    Kind(
        "Telephone Friendship Line",
        "befriending",
        "A regular friendly phone call for anyone who feels isolated, in several languages.",
        FORMAL,
        (PHONE,),
        (50, None),
        ("MO", "TU", "WE", "TH", "FR", "SA", "SU"),
        (10, 18),
    ),
]


ACCESS = [
    {"code": "step_free", "description": "Step-free access"},
    {"code": "hearing_loop", "description": "Hearing loop"},
    {"code": "accessible_toilet", "description": "Accessible toilet"},
]


def demo_id(kind: str, *parts: object) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, ":".join([kind, *map(str, parts)]))


def _organization(borough: str, n: int, rng: random.Random) -> OrganizationIn:
    if n % 8 == 0:
        return OrganizationIn(
            id=demo_id("council", borough),
            name=f"London Borough of {borough}",
            description=f"The council for {borough}: adult social care, housing and public health.",
            website=f"https://www.{borough.lower()}.gov.uk",
        )
    area = AREAS[borough][n % len(AREAS[borough])]
    kind = ORG_KINDS[(n // len(AREAS[borough])) % len(ORG_KINDS)]
    name = f"{area} {kind} (demo)"
    return OrganizationIn(
        id=demo_id("organization", borough, area, kind),
        name=name,
        description=f"A synthetic local charity serving {area} and the rest of {borough}.",
        email=f"hello@{area.lower().replace(' ', '')}.example.org",
    )


def _listing(borough: str, n: int, postcodes: list[str], rng: random.Random) -> ServiceIn:
    kind = KINDS[(n + rng.randrange(3)) % len(KINDS)]
    org = _organization(borough, n, rng)
    area = AREAS[borough][rng.randrange(len(AREAS[borough]))]
    opens, closes = kind.hours
    languages = ["en", *rng.sample(LANGUAGES, k=rng.choice([0, 0, 1, 2, 3]))]
    capacity = rng.choices(list(Capacity), weights=[70, 20, 10])[0]
    return ServiceIn(
        id=demo_id("service", borough, n),
        organization=org,
        name=f"{area} {kind.name}",
        description=kind.description,
        email=org.email,
        taxonomy=[kind.taxonomy],
        minimum_age=kind.ages[0],
        maximum_age=kind.ages[1],
        boroughs=[borough] if n % 5 else [],
        free=kind.free,
        fees=None if kind.free else "Small contribution, waived if you cannot pay",
        languages=languages,
        delivery_modes=list(kind.modes),
        locations=[
            LocationIn(
                id=demo_id("location", borough, n),
                name=f"{area} Community Centre",
                address_1=f"{rng.randint(1, 250)} High Road",
                city="London",
                postcode=rng.choice(postcodes),
                accessibility=[
                    AccessibilityIn.model_validate(a)
                    for a in rng.sample(ACCESS, k=rng.randint(0, 2))
                ],
            )
        ],
        schedules=[
            ScheduleIn(
                byday=list(kind.days),
                opens_at=time(opens),
                closes_at=time(closes),
            )
        ],
        contacts=[ContactIn(name="Duty coordinator", phone=f"020 7946 {n:04d}")],
        referral_route=kind.route,
        capacity=capacity,
    )


async def load_demo_data(runtime: ServiceRuntime) -> None:
    first = demo_id("service", "Barnet", 0)
    async with runtime.uow() as uow:
        if await uow.session.get(ServiceRow, first) is not None:
            return  # loaded on an earlier run: data/ is kept
    rng = random.Random(20261130)
    geography = load_geography()
    by_borough: dict[str, list[str]] = {}
    for postcode in sorted(geography.postcodes.values(), key=lambda p: p.postcode):
        by_borough.setdefault(postcode.borough, []).append(postcode.postcode)
    curator = Principal(sub="demo-curator", org="DEMO", roles=frozenset({"curator"}))
    now = datetime.now(UTC)
    count = 0
    for borough in sorted(AREAS):
        async with runtime.uow() as uow:
            terms = await load_terms(uow.session)
            for n in range(PER_BOROUGH):
                listing = _listing(borough, n, by_borough[borough], rng)
                # Some listings were last checked long ago: the stale list has examples.
                written_at = now - timedelta(days=rng.choice([2, 30, 90, 150, 200, 400]))
                await save_listing(uow, listing, curator, now=written_at, terms=terms)
                count += 1
            await uow.commit()
    log.info("demo listings loaded", count=count)
