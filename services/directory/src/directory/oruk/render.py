"""Listings as Open Referral UK 3.0 documents (the profile's compiled schemas): list items
with one-to-one fields, and fully nested services. Absent values are left out, never null,
and every nested part gets a UUID (derived from its parent's when the listing had none)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from directory.resolve import nested_id
from directory.store.tables import LocationRow, OrganizationRow, ServiceRow, TaxonomyTermRow

PROFILE = "https://openreferral.github.io/uk-profile/"
# ORUK has no "withdrawn": a withdrawn listing is inactive.
STATUS = {"active": "active", "withdrawn": "inactive"}
LANGUAGE_NAMES = {"en": "English"}
KEPT_SCHEDULE_FIELDS = (
    "valid_from", "valid_to", "dtstart", "byday", "bymonthday",
    "description", "opens_at", "closes_at", "attending_type", "notes",
)  # fmt: skip


def compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """Absent (None) values and empty lists left out: the schemas type them as strings."""
    return {k: v for k, v in values.items() if v is not None and v != []}


def uri(value: object) -> str | None:
    """A URL only if it is absolute (the schemas' ``uri`` format); else left out."""
    if not isinstance(value, str):
        return None
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def email(value: object) -> str | None:
    return value if isinstance(value, str) and "@" in value else None


def timestamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _uuid_or(value: object, fallback: uuid.UUID) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(fallback)


def organization_doc(org: OrganizationRow, *, full: bool = False) -> dict[str, Any]:
    doc = compact(
        {
            "id": str(org.id),
            "name": org.name,
            "description": org.description or org.name,
            "email": email(org.email),
            "website": uri(org.website),
            "logo": org.logo,
            "uri": uri(org.uri),
            "parent_organization_id": str(org.parent_organization_id)
            if org.parent_organization_id
            else None,
        }
    )
    if full:
        doc["organization_identifiers"] = [
            compact(
                {
                    "id": _uuid_or(i.get("id"), nested_id(org.id, "identifier", n)),
                    "organization_id": str(org.id),
                    "identifier_scheme": i.get("identifier_scheme"),
                    "identifier_type": str(i["identifier_type"]),
                    "identifier": str(i["identifier"]),
                }
            )
            for n, i in enumerate(org.identifiers or [])
            if i.get("identifier_type") and i.get("identifier")
        ]
    return doc


def _kept(row: ServiceRow, key: str) -> Any:
    return (row.document.get("extra") or {}).get(key)


def service_list_doc(row: ServiceRow, org: OrganizationRow) -> dict[str, Any]:
    age = (row.minimum_age, row.maximum_age)
    return compact(
        {
            "id": str(row.id),
            "organization_id": str(row.organization_id),
            "name": row.name,
            "description": row.description,
            "url": uri(row.url),
            "email": email(row.email),
            "status": STATUS.get(row.status, "inactive"),
            "fees": row.fees,
            "accreditations": _text(_kept(row, "accreditations")),
            "minimum_age": age[0],
            "maximum_age": age[1],
            "assured_date": _text(_kept(row, "assured_date")),
            "assurer_email": email(_kept(row, "assurer_email")),
            "alert": _text(_kept(row, "alert")),
            "last_modified": timestamp(row.updated_at),
            "organization": organization_doc(org),
        }
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _parts(row: ServiceRow, key: str, fields: Iterable[str]) -> list[dict[str, Any]]:
    """A kept list of the feed's (service areas, funding): string fields only, UUID ids."""
    out = []
    for n, part in enumerate(_kept(row, key) or []):
        if isinstance(part, dict):
            out.append(
                compact({f: part[f] for f in fields if isinstance(part.get(f), str)})
                | {
                    "id": _uuid_or(part.get("id"), nested_id(row.id, key, n)),
                    "service_id": str(row.id),
                }
            )
    return out


def _schedules(row: ServiceRow) -> list[dict[str, Any]]:
    out = [
        compact(
            {
                "id": s["id"],
                "service_id": str(row.id),
                "freq": "WEEKLY",
                "interval": 1,
                "byday": ",".join(s["byday"]),
                "opens_at": s["opens_at"],
                "closes_at": s["closes_at"],
                "valid_from": s.get("valid_from"),
                "valid_to": s.get("valid_to"),
                "description": s.get("description"),
                "attending_type": s.get("attending_type"),
                "notes": s.get("notes"),
            }
        )
        for s in row.document.get("schedules", [])
    ]
    for n, s in enumerate(_kept(row, "other_schedules") or []):
        if isinstance(s, dict):
            kept = {k: s[k] for k in KEPT_SCHEDULE_FIELDS if isinstance(s.get(k), str)}
            if s.get("freq") in ("WEEKLY", "MONTHLY"):
                kept["freq"] = s["freq"]
            if isinstance(s.get("interval"), int | float):
                kept["interval"] = s["interval"]
            kept["id"] = _uuid_or(s.get("id"), nested_id(row.id, "other_schedule", n))
            out.append(kept | {"service_id": str(row.id)})
    return out


def location_doc(loc: LocationRow, *, full: bool) -> dict[str, Any]:
    doc = compact(
        {
            "id": str(loc.id),
            "location_type": loc.location_type,
            "name": loc.name,
            "description": loc.description,
            "latitude": loc.latitude,
            "longitude": loc.longitude,
            "external_identifier": loc.external_identifier,
            "external_identifier_type": loc.external_identifier_type,
        }
    )
    if full:
        if loc.address_1 or loc.postcode or loc.city:
            doc["addresses"] = [
                compact(
                    {
                        "id": str(loc.address_id or nested_id(loc.id, "address", 0)),
                        "location_id": str(loc.id),
                        "address_1": loc.address_1 or "",
                        "city": loc.city or "",
                        "region": loc.region,
                        "state_province": loc.region or "",
                        "postal_code": loc.postcode or "",
                        "country": loc.country or "GB",
                        "address_type": "physical",
                    }
                )
            ]
        doc["accessibility"] = [
            compact(
                {
                    "id": _uuid_or(a.get("id"), nested_id(loc.id, "accessibility", n)),
                    "location_id": str(loc.id),
                    "description": a.get("description"),
                    "details": a.get("details"),
                    "url": uri(a.get("url")),
                }
            )
            for n, a in enumerate(loc.accessibility or [])
            if isinstance(a, dict)
        ]
    return doc


def term_doc(term: TaxonomyTermRow, taxonomy_name: str | None = None) -> dict[str, Any]:
    return compact(
        {
            "id": str(term.id),
            "name": term.name,
            "description": term.description or term.name,
            "parent_id": str(term.parent_id) if term.parent_id else None,
            "taxonomy": taxonomy_name,
            "taxonomy_id": str(term.taxonomy_id) if term.taxonomy_id else None,
            "term_uri": uri(term.term_uri),
            "term": term.code or term.name,
        }
    )


def service_full_doc(
    row: ServiceRow,
    org: OrganizationRow,
    locations: list[LocationRow],
    terms: list[tuple[TaxonomyTermRow, str | None]],
) -> dict[str, Any]:
    doc = service_list_doc(row, org)
    sal_ids = {
        str(loc.get("id")): loc.get("service_at_location_id")
        for loc in row.document.get("locations", [])
    }
    doc["organization"] = organization_doc(org, full=True)
    doc["schedules"] = _schedules(row)
    doc["service_areas"] = _parts(
        row, "service_areas", ("name", "extent", "extent_type", "uri", "service_area")
    )
    doc["service_at_locations"] = [
        {
            "id": sal_ids.get(str(loc.id))
            or str(nested_id(row.id, "service_at_location", str(loc.id))),
            "service_id": str(row.id),
            "location_id": str(loc.id),
            "location": location_doc(loc, full=True),
        }
        for loc in locations
    ]
    doc["languages"] = [
        {
            "id": str(nested_id(row.id, "language", code)),
            "service_id": str(row.id),
            "code": code,
            "name": LANGUAGE_NAMES.get(code, code),
        }
        for code in row.document.get("languages", [])
    ]
    doc["funding"] = _parts(row, "funding", ("source",))
    doc["cost_options"] = [
        compact(c | {"service_id": str(row.id)}) for c in row.document.get("cost_options", [])
    ]
    doc["contacts"] = [
        compact(
            {
                "id": c["id"],
                "service_id": str(row.id),
                "name": c.get("name"),
                "title": c.get("title"),
            }
        )
        for c in row.document.get("contacts", [])
    ]
    doc["attributes"] = [
        {
            "id": str(nested_id(row.id, "attribute", str(term.id))),
            "link_id": str(row.id),
            "link_type": "service",
            "taxonomy_term_id": str(term.id),
            "taxonomy_term": term_doc(term, taxonomy),
        }
        for term, taxonomy in terms
    ]
    return doc
