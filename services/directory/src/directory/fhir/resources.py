"""Listings as UK Core HealthcareService, Location and Organization resources (R4)."""

from __future__ import annotations

from typing import Any

from directory.domain.listing import ReferralRoute
from directory.oruk.render import compact, uri
from directory.store.tables import LocationRow, OrganizationRow, ServiceRow

UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/"
NEEDS_SYSTEM = "https://carethread.example/fhir/CodeSystem/social-needs"
TERM_SYSTEM = "https://carethread.example/fhir/CodeSystem/directory-taxonomy"
PROVISION = "http://terminology.hl7.org/CodeSystem/service-provision-conditions"
REFERRAL_METHOD = "http://terminology.hl7.org/CodeSystem/service-referral-method"
CAPACITY_SYSTEM = "https://carethread.example/fhir/CodeSystem/directory-capacity"
ROUTE_SYSTEM = "https://carethread.example/fhir/CodeSystem/directory-referral-route"
DAYS = {"MO": "mon", "TU": "tue", "WE": "wed", "TH": "thu", "FR": "fri", "SA": "sat", "SU": "sun"}


def _meta(profile: str) -> dict[str, Any]:
    return {"profile": [UK_CORE + profile]}


def _time(value: str) -> str:
    return value if len(value) == 8 else f"{value}:00"[:8]


def healthcare_service(
    row: ServiceRow, locations: list[LocationRow], terms: list[tuple[str, str, bool]]
) -> dict[str, Any]:
    """``terms``: (code, display, is in the needs vocabulary) of each taxonomy term."""
    doc = row.document
    telecom = [
        {"system": "phone", "value": c["phone"]} for c in doc.get("contacts", []) if c.get("phone")
    ]
    if row.email:
        telecom.append({"system": "email", "value": row.email})
    if uri(row.url):
        telecom.append({"system": "url", "value": row.url})
    eligibility = [
        text
        for text in (
            row.eligibility,
            _ages(row.minimum_age, row.maximum_age),
            ("Residents of " + ", ".join(doc["boroughs"])) if doc.get("boroughs") else None,
        )
        if text
    ]
    return compact(
        {
            "resourceType": "HealthcareService",
            "id": str(row.id),
            "meta": _meta("UKCore-HealthcareService") | {"versionId": str(row.version)},
            "active": row.status == "active",
            "providedBy": {"reference": f"Organization/{row.organization_id}"},
            "category": [
                {
                    "coding": [
                        {
                            "system": NEEDS_SYSTEM if needs else TERM_SYSTEM,
                            "code": code,
                            "display": display,
                        }
                    ],
                    "text": display,
                }
                for code, display, needs in terms
            ],
            "location": [{"reference": f"Location/{loc.id}"} for loc in locations],
            "name": row.name,
            "comment": row.description[:1000] or None,
            "telecom": telecom,
            "serviceProvisionCode": [
                {"coding": [{"system": PROVISION, "code": "free" if row.free else "cost"}]}
            ],
            "eligibility": [{"comment": text} for text in eligibility],
            "communication": [
                {"coding": [{"system": "urn:ietf:bcp:47", "code": code}]}
                for code in doc.get("languages", [])
            ],
            "referralMethod": _referral_methods(row),
            "characteristic": [
                {"coding": [{"system": CAPACITY_SYSTEM, "code": row.capacity}]},
                {"coding": [{"system": ROUTE_SYSTEM, "code": row.referral_route}]},
            ],
            "availableTime": [
                {
                    "daysOfWeek": [DAYS[d] for d in s["byday"]],
                    "availableStartTime": _time(s["opens_at"]),
                    "availableEndTime": _time(s["closes_at"]),
                }
                for s in doc.get("schedules", [])
            ],
        }
    )


def _ages(minimum: int | None, maximum: int | None) -> str | None:
    if minimum is None and maximum is None:
        return None
    if maximum is None:
        return f"Aged {minimum} and over"
    if minimum is None:
        return f"Aged up to {maximum}"
    return f"Aged {minimum} to {maximum}"


def _referral_methods(row: ServiceRow) -> list[dict[str, Any]]:
    if row.referral_route == ReferralRoute.SIGNPOST_ONLY:
        return []
    methods = ["elec"] if row.referral_route == ReferralRoute.FORMAL_REFERRAL else []
    if any(c.get("phone") for c in row.document.get("contacts", [])):
        methods.append("phone")
    return [{"coding": [{"system": REFERRAL_METHOD, "code": m}]} for m in methods]


def location(loc: LocationRow) -> dict[str, Any]:
    address = compact(
        {
            "use": "work",
            "line": [loc.address_1] if loc.address_1 else [],
            "city": loc.city,
            "district": loc.borough,
            "postalCode": loc.postcode,
            "country": loc.country,
        }
    )
    return compact(
        {
            "resourceType": "Location",
            "id": str(loc.id),
            "meta": _meta("UKCore-Location"),
            "status": "active",
            "name": loc.name,
            "description": loc.description,
            "mode": "instance",
            "address": address if len(address) > 1 else None,
            "position": {"latitude": loc.latitude, "longitude": loc.longitude}
            if loc.latitude is not None and loc.longitude is not None
            else None,
        }
    )


def organization(org: OrganizationRow) -> dict[str, Any]:
    telecom: list[dict[str, Any]] = []
    if org.email and "@" in org.email:
        telecom.append({"system": "email", "value": org.email})
    if uri(org.website):
        telecom.append({"system": "url", "value": org.website})
    return compact(
        {
            "resourceType": "Organization",
            "id": str(org.id),
            "meta": _meta("UKCore-Organization"),
            "active": True,
            "name": org.name,
            "telecom": telecom,
        }
    )
