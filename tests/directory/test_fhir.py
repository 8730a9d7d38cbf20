"""The directory as FHIR R4 (UK Core): HealthcareService search by name, category and
nearness, with its Locations and Organizations; errors as OperationOutcomes."""

from __future__ import annotations

from typing import Any

import httpx
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.organization import Organization

from carethread.settings import AuthSettings
from directory.fhir.resources import NEEDS_SYSTEM
from tests.directory.support import curator, listing

FHIR = "application/fhir+json"
MODELS: dict[str, Any] = {
    "HealthcareService": HealthcareService,
    "Location": Location,
    "Organization": Organization,
}


async def fhir(
    client: httpx.AsyncClient, path: str, status: int = 200, params: dict[str, Any] | None = None
) -> Any:
    r = await client.get(path, params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(FHIR)
    return r.json()


async def make(client: httpx.AsyncClient, auth: AuthSettings) -> dict[str, str]:
    bodies = [
        listing(),  # Archway Befriending, N19 3NU
        listing(
            "Camden Food Bank",
            taxonomy=["food-bank"],
            boroughs=["Camden"],
            locations=[{"name": "Somers Town Hall", "postcode": "NW1 2DB"}],
            free=True,
        ),
        listing(
            "Holloway Counselling",
            taxonomy=["counselling"],
            locations=[{"name": "Holloway Centre", "postcode": "N7 9DP"}],
            free=False,
            referral_route="signpost_only",
        ),
    ]
    ids = {}
    for body in bodies:
        r = await client.post("/api/v1/services", json=body, headers=curator(auth))
        assert r.status_code == 201, r.text
        ids[body["name"]] = r.json()["service"]["id"]
    return ids


async def test_healthcare_services_near_a_point_with_their_locations_and_organisations(
    directory_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    ids = await make(directory_client, auth)
    bundle = await fhir(
        directory_client,
        "/fhir/HealthcareService",
        params={
            "location.near": "51.5625|-0.1261|3|km",  # by Archway
            "_include": ["HealthcareService:location", "HealthcareService:providedBy"],
        },
    )
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 2  # Camden's food bank is further than 3 km
    matches = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert [m["name"] for m in matches] == ["Archway Befriending", "Holloway Counselling"]
    included = {
        e["resource"]["resourceType"] for e in bundle["entry"] if e["search"]["mode"] == "include"
    }
    assert included == {"Location", "Organization"}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        MODELS[resource["resourceType"]].model_validate(resource)
        assert resource["meta"]["profile"][0].startswith("https://fhir.hl7.org.uk/")
    archway = matches[0]
    assert archway["id"] == ids["Archway Befriending"]
    assert archway["category"][0]["coding"][0]["code"] == "befriending"
    assert archway["availableTime"] == [
        {
            "daysOfWeek": ["mon", "wed"],
            "availableStartTime": "10:00:00",
            "availableEndTime": "16:00:00",
        }
    ]
    assert {c["coding"][0]["code"] for c in archway["communication"]} == {"en", "tr"}
    assert archway["serviceProvisionCode"][0]["coding"][0]["code"] == "free"
    assert archway["referralMethod"][0]["coding"][0]["code"] == "elec"
    assert "Aged 60 and over" in [e["comment"] for e in archway["eligibility"]]
    assert matches[1]["serviceProvisionCode"][0]["coding"][0]["code"] == "cost"
    assert "referralMethod" not in matches[1]  # signpost only

    one = await fhir(directory_client, f"/fhir/HealthcareService/{ids['Camden Food Bank']}")
    HealthcareService.model_validate(one)
    location = await fhir(directory_client, f"/fhir/{one['location'][0]['reference']}")
    assert location["address"]["postalCode"] == "NW1 2DB"
    assert location["address"]["district"] == "Camden"
    organization = await fhir(directory_client, f"/fhir/{one['providedBy']['reference']}")
    assert organization["name"] == "Islington Friends (synthetic)"


async def test_search_by_name_and_category_with_descendants(
    directory_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    await make(directory_client, auth)
    by_name = await fhir(directory_client, "/fhir/HealthcareService", params={"name": "food"})
    assert [e["resource"]["name"] for e in by_name["entry"]] == ["Camden Food Bank"]
    wellbeing = await fhir(
        directory_client,
        "/fhir/HealthcareService",
        params={"service-category": f"{NEEDS_SYSTEM}|mental-wellbeing"},
    )
    assert [e["resource"]["name"] for e in wellbeing["entry"]] == ["Holloway Counselling"]
    paged = await fhir(directory_client, "/fhir/HealthcareService", params={"_count": 1})
    assert paged["total"] == 3
    assert [link["relation"] for link in paged["link"]] == ["self", "next"]


async def test_errors_are_operation_outcomes(directory_client: httpx.AsyncClient) -> None:
    missing = await fhir(
        directory_client, "/fhir/HealthcareService/7d1f6c1e-0000-4000-8000-000000000000", 404
    )
    assert missing["resourceType"] == "OperationOutcome"
    assert missing["issue"][0]["code"] == "not-found"
    bad_near = await fhir(
        directory_client, "/fhir/HealthcareService", 400, params={"location.near": "x"}
    )
    assert "latitude|longitude" in bad_near["issue"][0]["diagnostics"]
    unknown = await fhir(
        directory_client, "/fhir/HealthcareService", 400, params={"service-category": "astrology"}
    )
    assert "unknown taxonomy term" in unknown["issue"][0]["diagnostics"]
    bad_count = await fhir(directory_client, "/fhir/HealthcareService", 400, params={"_count": 0})
    assert bad_count["resourceType"] == "OperationOutcome"
