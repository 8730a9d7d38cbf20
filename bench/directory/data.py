"""Realistic synthetic ORUK 3.0 services: the demo's twenty kinds of VCSE and council
service, invented organisations, real NCL postcodes, weekly hours, languages, ages."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

from carethread.reference import load_geography
from directory.demo import AREAS, KINDS, LANGUAGES
from directory.domain.languages import CODES

NAMESPACE = uuid.UUID("5c0f1e2d-3b4a-5968-8776-a5b4c3d2e1f0")
LANGUAGE_NAMES = {code: name.title() for name, code in CODES.items()}


def _id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(map(str, parts))))


def services(count: int, seed: int = 2026, start: int = 0) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed + start)
    postcodes = sorted(load_geography().postcodes.values(), key=lambda p: p.postcode)
    for n in range(start, start + count):
        kind = KINDS[rng.randrange(len(KINDS))]
        place = rng.choice(postcodes)
        area = rng.choice(AREAS[place.borough])
        org = n // 4  # four services per organisation
        opens, closes = kind.hours
        languages = ["en", *rng.sample(LANGUAGES, k=rng.choice([0, 1, 2]))]
        yield {
            "id": _id("service", n),
            "name": f"{area} {kind.name} {n}",
            "description": kind.description,
            "status": "active",
            "minimum_age": kind.ages[0],
            "maximum_age": kind.ages[1],
            "organization": {
                "id": _id("organization", org),
                "name": f"{area} Community Organisation {org} (synthetic)",
                "description": f"A synthetic charity in {place.borough}.",
            },
            "service_areas": [{"id": _id("area", n), "name": f"Residents of {place.borough}"}],
            "languages": [
                {"id": _id("language", n, c), "name": LANGUAGE_NAMES.get(c, c)} for c in languages
            ],
            "schedules": [
                {
                    "id": _id("schedule", n),
                    "freq": "WEEKLY",
                    "byday": ",".join(kind.days),
                    "opens_at": f"{opens:02d}:00",
                    "closes_at": f"{closes:02d}:00",
                }
            ],
            "service_at_locations": [
                {
                    "id": _id("sal", n),
                    "location": {
                        "id": _id("location", n),
                        "location_type": "physical",
                        "name": f"{area} Hall",
                        "latitude": place.lat,
                        "longitude": place.lon,
                        "addresses": [
                            {
                                "id": _id("address", n),
                                "address_1": f"{rng.randint(1, 300)} High Road",
                                "city": "London",
                                "state_province": "",
                                "postal_code": place.postcode,
                                "country": "GB",
                            }
                        ],
                    },
                }
            ],
            "attributes": [
                {
                    "id": _id("attribute", n),
                    "taxonomy_term": {
                        "id": _id("term", kind.taxonomy),
                        "name": kind.name,
                        "description": kind.name,
                        "taxonomy": "Synthetic feed categories",
                    },
                }
            ],
        }


def pages(count: int, per_page: int, seed: int = 2026) -> Iterator[dict[str, Any]]:
    batch: list[dict[str, Any]] = []
    total_pages = -(-count // per_page)
    number = 0
    for service in services(count, seed):
        batch.append(service)
        if len(batch) == per_page:
            number += 1
            yield {"total_pages": total_pages, "page_number": number, "contents": batch}
            batch = []
    if batch:
        yield {"total_pages": total_pages, "page_number": number + 1, "contents": batch}
