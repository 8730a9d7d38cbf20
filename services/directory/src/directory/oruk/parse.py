"""Reading ORUK feeds: 3.0 pages (``contents``) and the v1 shape most councils still publish
(``content``, ``regular_schedules``, ``service_taxonomys``, ``eligibilitys``), one service at
a time, into listings. A service that cannot be read is rejected with the reasons; what can
be kept but not used (coordinates off the globe, an unknown language) is a warning."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from pydantic import ValidationError

from carethread.errors import field_errors
from directory.api.schemas import ServiceIn
from directory.domain.geo import is_valid_coordinate
from directory.domain.languages import language_code
from directory.domain.opening import WEEKDAYS
from directory.oruk.ids import feed_id
from directory.places import boroughs

# ORUK fields CareThread keeps and serves back without interpreting them.
KEPT = ("accreditations", "assured_date", "assurer_email", "alert", "funding", "service_areas")
V1_DAYS = {name: code for code, name in zip(WEEKDAYS, (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
), strict=True)}  # fmt: skip


class FeedError(ValueError):
    """A page that is not an ORUK page at all."""


@dataclass(frozen=True)
class FeedTerm:
    id: uuid.UUID
    name: str
    description: str
    parent_id: uuid.UUID | None
    taxonomy: str | None
    term_uri: str | None


@dataclass
class FeedService:
    index: int
    feed_id: str | None
    name: str | None
    status: str
    listing: ServiceIn | None = None
    terms: list[FeedTerm] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def services_in(page: object) -> list[Any]:
    """The services a page holds, whichever shape it has."""
    if isinstance(page, list):
        return page
    if isinstance(page, dict):
        for key in ("contents", "content"):
            if key in page:
                items = page[key]
                if not isinstance(items, list):
                    raise FeedError(f"'{key}' must be a list of services")
                return items
        if "id" in page and "name" in page:
            return [page]
    raise FeedError(
        "not an ORUK page: expected 'contents' (3.0), 'content' (v1), a list of services "
        "or one service"
    )


def _text(value: object) -> str | None:
    return str(value).strip() or None if value not in (None, "") else None


def _time(value: object) -> time | None:
    try:
        return time.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _int(value: object) -> int | None:
    try:
        return int(float(str(value))) if value not in (None, "") else None
    except ValueError:
        return None


def _organization(raw: dict[str, Any]) -> dict[str, Any] | None:
    org = raw.get("organization")
    if not isinstance(org, dict) or not _text(org.get("name")):
        return None
    return {
        "id": feed_id("organization", org.get("id")),
        "name": _text(org.get("name")),
        "description": _text(org.get("description")) or "",
        "email": _text(org.get("email")),
        "website": _text(org.get("website") or org.get("url")),
        "logo": _text(org.get("logo")),
        "uri": _text(org.get("uri")),
        "parent_organization_id": feed_id("organization", org.get("parent_organization_id")),
        "identifiers": [
            i for i in org.get("organization_identifiers") or [] if isinstance(i, dict)
        ],
    }


def _location(sal: dict[str, Any], index: int, warnings: list[str]) -> dict[str, Any] | None:
    loc = sal.get("location")
    if not isinstance(loc, dict):
        return None
    addresses = loc.get("addresses") or loc.get("physical_addresses") or []
    address = addresses[0] if addresses and isinstance(addresses[0], dict) else {}
    lat, lon = loc.get("latitude"), loc.get("longitude")
    try:
        lat, lon = (float(lat), float(lon)) if lat is not None and lon is not None else (None, None)
    except (TypeError, ValueError):
        lat, lon = None, None
    if lat is not None and not is_valid_coordinate(lat, lon):
        warnings.append(f"service_at_locations[{index}]: coordinates {lat},{lon} ignored")
        lat, lon = None, None
    country = _text(address.get("country"))
    access = loc.get("accessibility") or loc.get("accessibility_for_disabilities") or []
    return {
        "id": feed_id("location", loc.get("id")),
        "service_at_location_id": feed_id("service_at_location", sal.get("id")),
        "location_type": loc.get("location_type")
        if loc.get("location_type") in ("physical", "postal", "virtual")
        else "physical",
        "name": _text(loc.get("name")),
        "description": _text(loc.get("description")),
        "address_1": _text(address.get("address_1")),
        "city": _text(address.get("city")),
        "region": _text(address.get("region") or address.get("state_province")),
        "postcode": _text(address.get("postal_code")),
        "country": country.upper() if country and len(country) == 2 else None,
        "address_id": feed_id("address", address.get("id")),
        "latitude": lat,
        "longitude": lon,
        "external_identifier": _text(loc.get("external_identifier")),
        "external_identifier_type": _text(loc.get("external_identifier_type")),
        "accessibility": [
            {
                "id": feed_id("accessibility", a.get("id")),
                "description": _text(a.get("description") or a.get("accessibility")) or "",
                "details": _text(a.get("details")),
                "url": _text(a.get("url")),
            }
            for a in access
            if isinstance(a, dict)
        ],
    }


def _schedules(raw: dict[str, Any], warnings: list[str]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Weekly schedules CareThread can evaluate, and the others kept as they came."""
    weekly, other = [], []
    for s in raw.get("schedules") or raw.get("regular_schedules") or []:
        if not isinstance(s, dict):
            continue
        days = [d.strip().upper() for d in str(s.get("byday") or "").split(",") if d.strip()]
        weekday = str(s.get("weekday") or "").strip().lower()
        if weekday in V1_DAYS:
            days = [V1_DAYS[weekday]]
        opens, closes = _time(s.get("opens_at")), _time(s.get("closes_at"))
        freq = str(s.get("freq") or "WEEKLY").upper()
        if freq == "WEEKLY" and days and set(days) <= set(WEEKDAYS) and opens and closes:
            weekly.append(
                {
                    "id": feed_id("schedule", s.get("id")),
                    "byday": days,
                    "opens_at": opens,
                    "closes_at": closes,
                    "valid_from": _text(s.get("valid_from")),
                    "valid_to": _text(s.get("valid_to")),
                    "description": _text(s.get("description")),
                    "attending_type": _text(s.get("attending_type")),
                    "notes": _text(s.get("notes")),
                }
            )
        else:
            other.append(s)
            warnings.append(f"schedule {s.get('id')!r} is not a weekly opening time; kept as is")
    return weekly, other


def _terms(raw: dict[str, Any]) -> list[FeedTerm]:
    found = []
    links = [a.get("taxonomy_term") for a in raw.get("attributes") or [] if isinstance(a, dict)]
    links += [t.get("taxonomy") for t in raw.get("service_taxonomys") or [] if isinstance(t, dict)]
    for term in links:
        if not isinstance(term, dict) or not _text(term.get("name")) or term.get("id") is None:
            continue
        parent = term.get("parent_id", term.get("parent"))
        found.append(
            FeedTerm(
                id=feed_id("taxonomy_term", term["id"]) or uuid.uuid4(),
                name=str(term["name"]).strip(),
                description=_text(term.get("description")) or str(term["name"]).strip(),
                parent_id=feed_id("taxonomy_term", parent)
                if isinstance(parent, str | int)
                else None,
                taxonomy=_text(term.get("taxonomy") or term.get("vocabulary")),
                term_uri=_text(term.get("term_uri")),
            )
        )
    return found


def _ages(raw: dict[str, Any]) -> tuple[int | None, int | None, str | None]:
    minimum, maximum = _int(raw.get("minimum_age")), _int(raw.get("maximum_age"))
    texts = []
    for e in raw.get("eligibilitys") or []:
        if isinstance(e, dict):
            minimum = minimum if minimum is not None else _int(e.get("minimum_age"))
            maximum = maximum if maximum is not None else _int(e.get("maximum_age"))
            if _text(e.get("eligibility")):
                texts.append(str(e["eligibility"]))
    description = _text(raw.get("eligibility_description"))
    return minimum, maximum, description or ("; ".join(texts) or None)


def _served_boroughs(raw: dict[str, Any]) -> list[str]:
    """Boroughs a service area names ("Residents of Camden"): who the service is for."""
    text = " ".join(
        str(a.get(k) or "")
        for a in raw.get("service_areas") or []
        if isinstance(a, dict)
        for k in ("name", "service_area", "extent")
    ).casefold()
    return sorted(b for b in boroughs() if b.casefold() in text)


def _languages(raw: dict[str, Any], warnings: list[str]) -> list[str]:
    codes = []
    for item in raw.get("languages") or []:
        value = (
            item.get("code") or item.get("name") or item.get("language")
            if isinstance(item, dict)
            else item
        )
        if not value:
            continue
        code = language_code(str(value))
        if code is None:
            warnings.append(f"language {value!r} is not one CareThread knows; left out")
        else:
            codes.append(code)
    return list(dict.fromkeys(codes)) or ["en"]


def _costs(raw: dict[str, Any]) -> tuple[bool, list[dict[str, Any]]]:
    options: list[dict[str, Any]] = [
        {
            "id": feed_id("cost_option", c.get("id")),
            "option": _text(c.get("option")),
            "amount": c.get("amount") if isinstance(c.get("amount"), int | float) else None,
            "amount_description": _text(c.get("amount_description")),
            "valid_from": _text(c.get("valid_from")),
            "valid_to": _text(c.get("valid_to")),
        }
        for c in raw.get("cost_options") or []
        if isinstance(c, dict)
    ]
    fees = (_text(raw.get("fees")) or "").lower()
    amounts = [float(o["amount"]) for o in options if o["amount"] is not None]
    paid = any(a > 0 for a in amounts) or bool(fees and "free" not in fees)
    return not paid, options


def _contacts(raw: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for c in raw.get("contacts") or []:
        if isinstance(c, dict):
            phones = [p for p in c.get("phones") or [] if isinstance(p, dict)]
            out.append(
                {
                    "id": feed_id("contact", c.get("id")),
                    "name": _text(c.get("name")),
                    "title": _text(c.get("title")),
                    "phone": _text(phones[0].get("number")) if phones else None,
                    "email": _text(c.get("email")),
                }
            )
    return out


def read_service(index: int, raw: object) -> FeedService:
    if not isinstance(raw, dict):
        return FeedService(
            index, None, None, "", errors=[{"field": "", "message": "a service is an object"}]
        )
    item = FeedService(
        index, _text(raw.get("id")), _text(raw.get("name")), str(raw.get("status") or "active")
    )
    organization = _organization(raw)
    if organization is None:
        item.errors.append({"field": "organization", "message": "a service needs its organization"})
        return item
    weekly, other = _schedules(raw, item.warnings)
    free, cost_options = _costs(raw)
    minimum, maximum, eligibility = _ages(raw)
    extra = {k: raw[k] for k in KEPT if raw.get(k) not in (None, "", [])}
    if other:
        extra["other_schedules"] = other
    sals = [s for s in raw.get("service_at_locations") or [] if isinstance(s, dict)]
    locations = [loc for i, s in enumerate(sals) if (loc := _location(s, i, item.warnings))]
    item.terms = _terms(raw)
    body = {
        "id": feed_id("service", raw.get("id")),
        "organization": organization,
        "name": item.name,
        # As written, trailing spaces and all: it is served back to ORUK readers.
        "description": raw["description"] if isinstance(raw.get("description"), str) else "",
        "url": _text(raw.get("url")),
        "email": _text(raw.get("email")),
        "taxonomy": [str(t.id) for t in item.terms],
        "minimum_age": minimum,
        "maximum_age": maximum,
        "boroughs": _served_boroughs(raw),
        "eligibility": eligibility,
        "free": free,
        "fees": _text(raw.get("fees")),
        "cost_options": cost_options,
        "languages": _languages(raw, item.warnings),
        "locations": locations,
        "schedules": weekly,
        "contacts": _contacts(raw),
        # A feed does not say whether the front door may refer formally: signpost until a
        # curator says otherwise.
        "referral_route": "signpost_only",
        "extra": extra,
    }
    try:
        item.listing = ServiceIn.model_validate(body)
    except ValidationError as e:
        item.errors = [
            {"field": err["field"], "message": err["message"]} for err in field_errors(e.errors())
        ]
    return item
