"""From a listing as written (``ServiceIn``) to what is stored: taxonomy codes resolved,
boroughs checked against the geography, postcodes placed, nested parts given stable ids.

Every problem is collected, so one 422 names them all with their field paths."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from carethread.errors import InvalidInput
from directory.api.schemas import LocationIn, ServiceIn
from directory.domain.geo import is_valid_coordinate
from directory.domain.opening import OpeningHours, weekly_hours
from directory.places import canonical_borough, find_postcode, normalise_postcode
from directory.store.listings import Indexed
from directory.store.taxonomy import Term, Terms

# Nested parts written without an id get one derived from the service's, so that saving
# the same listing twice (a re-import, a PATCH) keeps their ids.
UK_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$", re.IGNORECASE)
NESTED_NAMESPACE = uuid.UUID("0e7f3d52-7c1a-5b9e-8d4f-2a6b1c3e5d70")


def nested_id(service_id: uuid.UUID, kind: str, index: int | str) -> uuid.UUID:
    return uuid.uuid5(NESTED_NAMESPACE, f"{service_id}:{kind}:{index}")


def field_error(path: str, message: str) -> dict[str, str]:
    return {
        "field": path,
        "in": "body",
        "pointer": "#/" + path.replace(".", "/").replace("[", "/").replace("]", ""),
        "message": message,
        "type": "value_error",
    }


@dataclass
class Resolved:
    service_id: uuid.UUID
    listing: ServiceIn  # with ids filled in, postcodes normalised, boroughs canonical
    terms: list[Term]
    locations: list[dict[str, Any]]
    indexed: Indexed
    warnings: list[str] = field(default_factory=list)

    @property
    def document(self) -> dict[str, Any]:
        return self.listing.model_dump(mode="json", exclude={"id"})

    @property
    def keywords(self) -> str:
        words = [self.listing.organization.name]
        for term in self.terms:
            words.append(term.name)
            words.extend(term.synonyms)
        return " ".join(words)


def _place_location(
    loc: LocationIn, path: str, strict: bool, errors: list[dict[str, str]], warnings: list[str]
) -> tuple[LocationIn, str | None]:
    updates: dict[str, Any] = {}
    borough = None
    if not is_valid_coordinate(loc.latitude, loc.longitude):
        updates.update(latitude=None, longitude=None)
    if loc.postcode:
        place = find_postcode(loc.postcode)
        if place is not None:
            borough = place.borough
            updates["postcode"] = place.postcode
            if "latitude" in updates or loc.latitude is None:
                updates.update(latitude=place.latitude, longitude=place.longitude)
        elif strict and loc.latitude is None:
            errors.append(
                field_error(
                    f"{path}.postcode",
                    f"unknown postcode {loc.postcode}: check it, or give latitude and longitude",
                )
            )
        else:
            # A UK postcode is written the usual way; anything else (abroad) as it came.
            if UK_POSTCODE.match(loc.postcode.strip()):
                updates["postcode"] = normalise_postcode(loc.postcode)
            if loc.latitude is None:
                warnings.append(f"{path}: postcode {loc.postcode} is not in the geography")
    return loc.model_copy(update=updates), borough


def resolve(
    body: ServiceIn, terms: Terms, service_id: uuid.UUID, *, strict: bool = True
) -> Resolved:
    """``strict`` (curators) refuses unknown taxonomy terms and unplaceable postcodes;
    imports are lenient and keep what they can (reported as warnings)."""
    errors: list[dict[str, str]] = []
    warnings: list[str] = []
    found_terms: list[Term] = []
    for i, value in enumerate(body.taxonomy):
        term = terms.find(value)
        if term is None:
            if strict:
                errors.append(field_error(f"taxonomy[{i}]", f"unknown taxonomy term {value!r}"))
            else:
                warnings.append(f"taxonomy term {value!r} is unknown and was left out")
        elif term not in found_terms:
            found_terms.append(term)
    boroughs: list[str] = []
    for i, value in enumerate(body.boroughs):
        borough = canonical_borough(value)
        if borough is None:
            errors.append(field_error(f"boroughs[{i}]", f"unknown borough {value!r}"))
        elif borough not in boroughs:
            boroughs.append(borough)
    locations: list[LocationIn] = []
    location_rows: list[dict[str, Any]] = []
    for i, loc in enumerate(body.locations):
        placed, borough = _place_location(loc, f"locations[{i}]", strict, errors, warnings)
        location_id = placed.id or nested_id(service_id, "location", i)
        placed = placed.model_copy(
            update={
                "id": location_id,
                "address_id": placed.address_id or nested_id(location_id, "address", 0),
                "service_at_location_id": placed.service_at_location_id
                or nested_id(service_id, "service_at_location", str(location_id)),
                "accessibility": [
                    a.model_copy(update={"id": a.id or nested_id(location_id, "accessibility", j)})
                    for j, a in enumerate(placed.accessibility)
                ],
            }
        )
        locations.append(placed)
        location_rows.append(
            placed.model_dump(mode="json", exclude={"service_at_location_id", "accessibility"})
            | {
                "id": location_id,
                "address_id": placed.address_id,
                "borough": borough,
                "accessibility": [a.model_dump(mode="json") for a in placed.accessibility],
            }
        )
    if errors:
        raise InvalidInput("The listing has invalid fields.", errors=errors)
    hours: list[OpeningHours] = []
    for s in body.schedules:
        hours.extend(weekly_hours(list(s.byday), s.opens_at, s.closes_at))
    listing = body.model_copy(
        update={
            "id": service_id,
            "taxonomy": [t.label for t in found_terms],
            "boroughs": boroughs,
            "languages": list(dict.fromkeys(body.languages)),
            "locations": locations,
            "schedules": [
                s.model_copy(update={"id": s.id or nested_id(service_id, "schedule", i)})
                for i, s in enumerate(body.schedules)
            ],
            "contacts": [
                c.model_copy(update={"id": c.id or nested_id(service_id, "contact", i)})
                for i, c in enumerate(body.contacts)
            ],
            "cost_options": [
                c.model_copy(update={"id": c.id or nested_id(service_id, "cost_option", i)})
                for i, c in enumerate(body.cost_options)
            ],
        }
    )
    facets = [("borough", b) for b in boroughs]
    facets += [("language", code) for code in listing.languages]
    facets += [("delivery", mode.value) for mode in body.delivery_modes]
    facets += [("accessibility", a.code) for loc in locations for a in loc.accessibility if a.code]
    indexed = Indexed(
        term_ids=[t.id for t in found_terms],
        facets=facets,
        hours=hours,
        location_ids=[
            (loc.service_at_location_id or uuid.uuid4(), loc.id or uuid.uuid4())
            for loc in locations
        ],
    )
    return Resolved(service_id, listing, found_terms, location_rows, indexed, warnings)
