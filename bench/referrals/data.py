"""Synthetic referrals: JSON bodies, FHIR transaction Bundles, rows for the stored queue.

Everything is invented: 999-range NHS numbers (valid Modulus 11, from
``carethread.nhs.synthetic_nhs_numbers``), made-up names, and real North Central London
postcodes and GP practice codes from the service's reference data, so that every referral
is placed in a neighbourhood and borough as a real one would be.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any

from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from carethread.reference import Geography, load_geography
from referrals.api.schemas import PersonIn, ReferralCreate
from referrals.demo import FAMILY, GIVEN
from referrals.domain.lifecycle import Status
from referrals.domain.referral import SNOMED_REFERRAL_CODES, SOCIAL_NEEDS, Source, Urgency
from referrals.domain.sla import SlaTargets, triage_due
from referrals.store.tables import ReferralRow

# Invented ODS-shaped codes for referrers that are not GP practices.
OTHER_ORGS: dict[Source, tuple[str, ...]] = {
    Source.ACUTE_TRUST: ("RAX01", "RBX02", "RCX03"),
    Source.COMMUNITY: ("RDX04", "RDX05"),
    Source.MENTAL_HEALTH: ("RMX06",),
    Source.ADULT_SOCIAL_CARE: ("LAX701", "LAX702", "LAX703", "LAX704", "LAX705"),
    Source.VCSE: ("VCX801", "VCX802", "VCX803"),
    Source.SELF: ("SELF",),
}
SOURCES = (list(Source), [40, 15, 12, 8, 12, 8, 5])
URGENCIES = ([Urgency.EMERGENCY, Urgency.URGENT, Urgency.ROUTINE], [5, 30, 65])
NEEDS = sorted(SOCIAL_NEEDS)
SNOMED = sorted(SNOMED_REFERRAL_CODES)
STORIES = (
    "Lives alone since a bereavement and has stopped going out; behind on rent.",
    "Recent fall at home, struggling with stairs; daughter is the main carer and exhausted.",
    "Lost job in the spring, rent arrears and a letter from the landlord; low mood.",
    "Sofa surfing for three months; no GP registration until last week.",
    "Carer for a partner with dementia; asking for respite and benefits advice.",
    "Using food bank every week; would like help with debt and budgeting.",
)
NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED_SYSTEM = "http://snomed.info/sct"
SOCIAL_NEEDS_SYSTEM = "https://carethread.example/fhir/CodeSystem/social-needs"
EPR_ID_SYSTEM = "https://epr.example.nhs.uk/Id/referral"
# Fields the request schema may or may not have yet: sent only when it takes them.
PERSON_FIELDS = frozenset(PersonIn.model_fields)
REFERRAL_FIELDS = frozenset(ReferralCreate.model_fields)
LANGUAGES = ("en", "en", "en", "en", "tr", "so", "bn", "pl", "el")
FHIR_PRIORITY = {Urgency.ROUTINE: "routine", Urgency.URGENT: "urgent", Urgency.EMERGENCY: "asap"}


@dataclass(frozen=True)
class SyntheticPerson:
    nhs_number: str | None
    given_name: str
    family_name: str
    birth_date: date
    postcode: str
    gp_practice_code: str | None


class Synthetic:
    """A seeded source of people and referrals.

    ``people`` people are drawn from, so that some are referred more than once (the door's
    matching links them); ``no_nhs_share`` of them have no NHS number, and half of those no
    GP practice either (placed by postcode, as the service does for people with no GP).
    """

    def __init__(
        self,
        seed: int,
        *,
        people: int = 50_000,
        no_nhs_share: float = 0.1,
        geography: Geography | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        geo = geography or load_geography()
        self.practices = sorted(geo.practices)
        self.postcodes = sorted(geo.postcodes)
        self.people = people
        self.no_nhs_share = no_nhs_share
        # One population whatever the seed: client processes refer the same people.
        self._nhs = list(islice(synthetic_nhs_numbers(), people))

    def person(self) -> SyntheticPerson:
        rng = self.rng
        n = rng.randrange(self.people)
        # The same n is always the same person: a stable name, birth date and address.
        pr = random.Random(n)
        no_nhs = pr.random() < self.no_nhs_share
        no_gp = no_nhs and pr.random() < 0.5
        return SyntheticPerson(
            nhs_number=None if no_nhs else self._nhs[n % len(self._nhs)],
            given_name=pr.choice(GIVEN),
            family_name=pr.choice(FAMILY),
            birth_date=date(1930, 1, 1) + timedelta(days=pr.randrange(27_000)),
            postcode=pr.choice(self.postcodes),
            gp_practice_code=None if no_gp else pr.choice(self.practices),
        )

    def referral_parts(self) -> tuple[SyntheticPerson, Source, Urgency, list[str], str]:
        rng = self.rng
        source = rng.choices(*SOURCES)[0]
        urgency = rng.choices(*URGENCIES)[0]
        reasons = rng.sample(NEEDS, rng.choice((1, 1, 2, 2, 3)))
        if rng.random() < 0.2:
            reasons.append(rng.choice(SNOMED))
        return self.person(), source, urgency, reasons, rng.choice(STORIES)

    def referrer_org(self, source: Source, person: SyntheticPerson) -> str:
        if source is Source.GP:
            return person.gp_practice_code or self.rng.choice(self.practices)
        return self.rng.choice(OTHER_ORGS[source])

    def json_referral(self) -> dict[str, Any]:
        """A body for ``POST /api/v1/referrals``."""
        p, source, urgency, reasons, story = self.referral_parts()
        person: dict[str, Any] = {
            "given_name": p.given_name,
            "family_name": p.family_name,
            "birth_date": p.birth_date.isoformat(),
            "postcode": p.postcode,
        }
        if p.nhs_number:
            person["nhs_number"] = p.nhs_number
        if p.gp_practice_code:
            person["gp_practice_code"] = p.gp_practice_code
        if "sex" in PERSON_FIELDS:
            person["sex"] = self.rng.choice(("female", "male"))
        if "preferred_language" in PERSON_FIELDS:
            language = self.rng.choice(LANGUAGES)
            person["preferred_language"] = language
            person["interpreter_needed"] = language != "en" and self.rng.random() < 0.5
        extra = {"consent_to_share": True} if "consent_to_share" in REFERRAL_FIELDS else {}
        return {
            **extra,
            "person": person,
            "referrer": {
                "name": f"{self.rng.choice(GIVEN)} {self.rng.choice(FAMILY)}",
                "role": "Referrer",
                "org": self.referrer_org(source, p),
            },
            "source": source.value,
            "urgency": urgency.value,
            "reasons": reasons,
            "story": story,
        }

    def fhir_bundle(self) -> dict[str, Any]:
        """A transaction Bundle for ``POST /fhir``: a Patient entry and a UK Core
        ServiceRequest referring to it by fullUrl, its requester a contained
        PractitionerRole at the referring organisation."""
        p, _, urgency, reasons, story = self.referral_parts()
        patient: dict[str, Any] = {
            "resourceType": "Patient",
            "name": [{"use": "official", "family": p.family_name, "given": [p.given_name]}],
            "birthDate": p.birth_date.isoformat(),
            "address": [{"use": "home", "line": ["1 Example Road"], "postalCode": p.postcode}],
        }
        if p.nhs_number:
            patient["identifier"] = [{"system": NHS_SYSTEM, "value": p.nhs_number}]
        if p.gp_practice_code:
            patient["generalPractitioner"] = [
                {
                    "type": "Organization",
                    "identifier": {"system": ODS_SYSTEM, "value": p.gp_practice_code},
                }
            ]
        org = p.gp_practice_code or self.rng.choice(self.practices)
        patient_url = f"urn:uuid:{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"
        codings = [
            {"coding": [{"system": SNOMED_SYSTEM, "code": c}]} for c in reasons if c in SNOMED
        ] + [
            {"coding": [{"system": SOCIAL_NEEDS_SYSTEM, "code": c}]}
            for c in reasons
            if c not in SNOMED
        ]
        request: dict[str, Any] = {
            "resourceType": "ServiceRequest",
            "identifier": [
                {
                    "system": EPR_ID_SYSTEM,
                    "value": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                }
            ],
            "status": "active",
            "intent": "order",
            "priority": FHIR_PRIORITY[urgency],
            "code": {"coding": [{"system": SNOMED_SYSTEM, "code": "871731000000106"}]},
            "contained": [
                {
                    "resourceType": "PractitionerRole",
                    "id": "requester",
                    "practitioner": {
                        "display": f"Dr {self.rng.choice(GIVEN)} {self.rng.choice(FAMILY)}"
                    },
                    "organization": {"identifier": {"system": ODS_SYSTEM, "value": org}},
                }
            ],
            "subject": {"reference": patient_url},
            "authoredOn": datetime.now(UTC).isoformat(timespec="seconds"),
            "requester": {"reference": "#requester"},
            "reasonCode": codings,
            "note": [{"text": story}],
        }
        return {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": patient_url,
                    "resource": patient,
                    "request": {"method": "POST", "url": "Patient"},
                },
                {
                    "fullUrl": f"urn:uuid:{uuid.UUID(int=self.rng.getrandbits(128), version=4)}",
                    "resource": request,
                    "request": {"method": "POST", "url": "ServiceRequest"},
                },
            ],
        }


# -- the stored queue ----------------------------------------------------------------------

# Where a referral of a given age has got to: recent ones mostly wait for triage, older
# ones have mostly been decided, started or closed.
RECENT = (
    [Status.RECEIVED, Status.IN_TRIAGE, Status.MORE_INFO_REQUESTED, Status.ACCEPTED],
    [60, 20, 5, 15],
)
OLDER = (
    [
        Status.RECEIVED,
        Status.IN_TRIAGE,
        Status.ACCEPTED,
        Status.ROUTED,
        Status.SIGNPOSTED,
        Status.MORE_INFO_REQUESTED,
        Status.DECLINED,
        Status.IN_PROGRESS,
        Status.COMPLETED,
        Status.WITHDRAWN,
    ],
    [3, 2, 10, 10, 8, 3, 6, 20, 33, 5],
)
UNTRIAGED = frozenset({Status.RECEIVED, Status.IN_TRIAGE})


def stored_rows(
    count: int, *, seed: int, now: datetime, days: int = 365, targets: SlaTargets | None = None
) -> list[dict[str, Any]]:
    """``count`` referral rows (column name → value) received over the last ``days`` days,
    spread over boroughs, neighbourhoods, sources, urgencies and every lifecycle state, with
    SLA clocks computed as the service computes them (some decided late, some still waiting
    past due, their breaches already announced as the service's SLA watch would have)."""
    targets = targets or SlaTargets()
    geo = load_geography()
    synthetic = Synthetic(seed, geography=geo)
    rng = synthetic.rng
    rows: list[dict[str, Any]] = []
    for _ in range(count):
        p, source, urgency, reasons, story = synthetic.referral_parts()
        # More recent referrals are more numerous than old ones still stored.
        age = timedelta(seconds=int(days * 86_400 * rng.random() ** 1.5))
        received = now - age
        due = triage_due(received, urgency, targets)
        status = rng.choices(*(RECENT if age < timedelta(days=7) else OLDER))[0]
        triaged_at: datetime | None = None
        changed = received
        if status not in UNTRIAGED:
            # Decided within the target four times in five, late otherwise.
            span = (due - received) * (rng.uniform(0.05, 1.0) if rng.random() < 0.8 else 1.3)
            triaged_at = min(received + span, now)
            changed = triaged_at
        elif status is Status.IN_TRIAGE:
            changed = received + (now - received) * rng.random()
        place = geo.postcode(p.postcode)
        rid = uuid.UUID(int=rng.getrandbits(128), version=4)
        rows.append(
            {
                "id": rid,
                "person_id": (
                    person_id_for_nhs_number(p.nhs_number)
                    if p.nhs_number
                    else uuid.UUID(int=rng.getrandbits(128), version=4)
                ),
                "nhs_number": p.nhs_number,
                "given_name": p.given_name,
                "family_name": p.family_name,
                "birth_date": p.birth_date,
                "postcode": p.postcode,
                "gp_practice_code": p.gp_practice_code,
                "neighbourhood": geo.neighbourhood_for(p.gp_practice_code, p.postcode),
                "borough": place.borough if place else None,
                "imd_quintile": geo.imd_quintile_for(p.postcode),
                "source": source.value,
                "urgency": urgency.value,
                "reason_codes": reasons,
                "story": story,
                "referrer_org": synthetic.referrer_org(source, p),
                "referrer_name": "Bench Referrer",
                "status": status.value,
                "version": 1 if status is Status.RECEIVED else 2 + rng.randrange(3),
                "received_at": received,
                "created_by": "bench.loader",
                "triage_due_at": due,
                "triaged_at": triaged_at,
                "status_changed_at": changed,
                "claimed_by": "bench.triager" if status is Status.IN_TRIAGE else None,
                "triaged_late": triaged_at is not None and triaged_at > due,
                # The service's SLA watch announced each breach when it happened (within
                # its interval): rows held this long have no backlog of breaches for it to
                # publish during the timed window.
                "sla_breach_published_at": (
                    due
                    if (triaged_at is None and status in UNTRIAGED and due < now)
                    or (triaged_at is not None and triaged_at > due)
                    else None
                ),
                "destination": None,
                "idempotency_key": None,
                "received_event_id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "match_key": None,
                "probable_duplicate": False,
            }
        )
    return _complete(rows)


def _complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Columns added to the table since this was written: NULL where the column takes it,
    its default where it has one (left out, for the insert to fill); else refused."""
    if not rows:
        return rows
    fill: dict[str, Any] = {}
    for column in ReferralRow.__table__.columns:
        if column.name in rows[0] or column.default is not None or column.server_default:
            continue
        if not column.nullable:
            raise RuntimeError(f"the benchmark does not know how to fill referral.{column.name}")
        fill[column.name] = None
    if fill:
        for row in rows:
            row.update(fill)
    return rows


# -- the triage queue's filters ------------------------------------------------------------


@dataclass(frozen=True)
class QueueQuery:
    kind: str  # which combination, for the per-kind breakdown
    params: list[tuple[str, str]]


QUEUE_KINDS = (
    ("borough+status", 30),
    ("borough+status page 2-5", 10),
    ("neighbourhood", 15),
    ("neighbourhood+status", 10),
    ("borough+urgency+status", 15),
    ("borough+breached", 10),
    ("breached", 5),
    ("status only", 5),
)


def queue_query(rng: random.Random, geo: Geography) -> QueueQuery:
    """One triager's request: their borough's front door, filtered the way a team lead or
    triager would, soonest due first, 50 a page."""
    kind = rng.choices([k for k, _ in QUEUE_KINDS], [w for _, w in QUEUE_KINDS])[0]
    hood = rng.choice(sorted(geo.neighbourhoods))
    borough = geo.neighbourhoods[hood].borough
    waiting = [("status", Status.RECEIVED.value), ("status", Status.IN_TRIAGE.value)]
    params: list[tuple[str, str]]
    if kind == "borough+status":
        params = [("borough", borough), *waiting]
    elif kind == "borough+status page 2-5":
        params = [("borough", borough), *waiting, ("offset", str(50 * rng.randint(1, 4)))]
    elif kind == "neighbourhood":
        params = [("neighbourhood", hood)]
    elif kind == "neighbourhood+status":
        params = [("neighbourhood", hood), *waiting]
    elif kind == "borough+urgency+status":
        urgency = rng.choice([u.value for u in Urgency])
        params = [("borough", borough), ("urgency", urgency), *waiting]
    elif kind == "borough+breached":
        params = [("borough", borough), ("breached", "true")]
    elif kind == "breached":
        params = [("breached", "true")]
    else:
        params = [("status", Status.RECEIVED.value)]
    return QueueQuery(kind, [*params, ("limit", "50")])
