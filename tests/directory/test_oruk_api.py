"""The ORUK 3.0 API: open, paged as the profile pages, every document valid against the
profile's compiled schemas, and the ORUK examples served back as they were imported."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from carethread.settings import AuthSettings
from tests.directory.support import FIXTURES, curator, listing, oruk_example
from tests.directory.test_import import EXAMPLE_ID, v1_page, v1_service

PAGE_KEYS = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page"}


def _schema(path: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((FIXTURES / "schema" / path).read_text())
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    return schema


REGISTRY: Registry[Any] = Registry().with_resource(
    "taxonomy_term.json", Resource.from_contents(_schema("taxonomy_term.json"), DRAFT202012)
)


def check(document: Any, schema: str) -> None:
    validator = Draft202012Validator(
        _schema(schema), registry=REGISTRY, format_checker=FormatChecker()
    )
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def check_page(page: dict[str, Any], item_schema: str) -> list[dict[str, Any]]:
    assert set(page) >= PAGE_KEYS, page.keys()
    assert page["size"] == len(page["contents"])
    assert page["empty"] is (not page["contents"])
    for item in page["contents"]:
        check(item, item_schema)
    contents: list[dict[str, Any]] = page["contents"]
    return contents


def without_links(value: Any) -> Any:
    """A document without the ids that link a part to its parent (the examples leave them
    out; the API fills them in)."""
    links = {"service_id", "organization_id", "location_id"}
    if isinstance(value, dict):
        return {k: without_links(v) for k, v in value.items() if k not in links}
    if isinstance(value, list):
        return [without_links(v) for v in value]
    return value


def test_the_checker_refuses_what_the_schemas_refuse() -> None:
    bad = oruk_example("service_full.json") | {"status": "sleeping", "id": "not-a-uuid"}
    with pytest.raises(AssertionError, match="status"):
        check(bad, "compiled/service.json")
    check(oruk_example("service_full.json"), "compiled/service.json")


@pytest.fixture
async def filled(directory_client: httpx.AsyncClient, auth: AuthSettings) -> dict[str, str]:
    """The ORUK example, a curator's listing and a v1 import."""
    r = await directory_client.post(
        "/api/v1/import/oruk",
        json={"pages": [oruk_example("service_full.json"), v1_page(v1_service(1))]},
        headers=curator(auth),
    )
    assert r.json()["totals"]["published"] == 2, r.text
    created = await directory_client.post(
        "/api/v1/services",
        json=listing(url="not a url", email="nobody", cost_options=[{"option": "Free"}]),
        headers=curator(auth),
    )
    assert created.status_code == 201, created.text
    return {"curated": created.json()["service"]["id"]}


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    r = await client.get(path, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    return r.json()


async def test_every_document_validates_against_the_compiled_schemas(
    directory_client: httpx.AsyncClient, filled: dict[str, str]
) -> None:
    services = check_page(
        await get(directory_client, "/oruk/services"), "compiled/service_list.json"
    )
    assert len(services) == 3
    for item in services:
        full = await get(directory_client, f"/oruk/services/{item['id']}")
        check(full, "compiled/service.json")
    sals = check_page(
        await get(directory_client, "/oruk/service_at_locations"),
        "compiled/service_at_location_list.json",
    )
    assert len(sals) == 3
    for item in sals:
        one = await get(directory_client, f"/oruk/service_at_locations/{item['id']}")
        check(one, "compiled/service_at_location.json")
        check(one, "compiled/service.json")  # what the profile's OpenAPI says it returns
    orgs = check_page(
        await get(directory_client, "/oruk/organizations"), "compiled/organization_list.json"
    )
    for item in orgs:
        check(
            await get(directory_client, f"/oruk/organizations/{item['id']}"),
            "compiled/organization.json",
        )
    taxonomies = check_page(await get(directory_client, "/oruk/taxonomies"), "taxonomy.json")
    for item in taxonomies:
        check(await get(directory_client, f"/oruk/taxonomies/{item['id']}"), "taxonomy.json")
    terms = check_page(
        await get(directory_client, "/oruk/taxonomy_terms", per_page=500), "taxonomy_term.json"
    )
    assert {"Befriending", "Foodbank", "name"} <= {t["name"] for t in terms}
    check(
        await get(directory_client, f"/oruk/taxonomy_terms/{terms[0]['id']}"), "taxonomy_term.json"
    )


async def test_the_example_is_served_back_as_it_was_imported(
    directory_client: httpx.AsyncClient, filled: dict[str, str]
) -> None:
    example = oruk_example("service_full.json")
    served = await get(directory_client, f"/oruk/services/{EXAMPLE_ID}")
    one_to_one = [k for k, v in example.items() if not isinstance(v, list | dict)]
    assert {k: served.get(k) for k in one_to_one if k != "last_modified"} == {
        k: example[k] for k in one_to_one if k != "last_modified"
    }
    assert without_links(served["organization"]) == example["organization"]
    for part in ("cost_options", "contacts", "funding", "service_areas"):
        assert without_links(served[part]) == example[part], part
    (schedule,) = served["schedules"]
    for key in ("id", "freq", "interval", "byday", "opens_at", "closes_at", "description"):
        assert schedule[key] == example["schedules"][0][key], key
    (sal,) = served["service_at_locations"]
    expected_location = example["service_at_locations"][0]["location"]
    assert sal["id"] == example["service_at_locations"][0]["id"]
    assert sal["location"]["name"] == expected_location["name"]
    assert sal["location"]["addresses"][0]["postal_code"] == "ABC 1234"
    assert sal["location"]["accessibility"][0]["id"] == expected_location["accessibility"][0]["id"]
    assert "latitude" not in sal["location"]  # 100, 101 is not a place on Earth
    (attribute,) = served["attributes"]
    assert attribute["taxonomy_term"]["id"] == example["attributes"][0]["taxonomy_term"]["id"]
    assert attribute["taxonomy_term"]["taxonomy"] == "taxonomy"


async def test_pages_and_filters(
    directory_client: httpx.AsyncClient, filled: dict[str, str]
) -> None:
    page = await get(directory_client, "/oruk/services", per_page=2, page=2)
    assert page | {"contents": None} == {
        "total_items": 3,
        "total_pages": 2,
        "page_number": 2,
        "size": 1,
        "first_page": False,
        "last_page": True,
        "empty": False,
        "contents": None,
    }
    found = await get(directory_client, "/oruk/services", search="councelling")
    assert [s["name"] for s in found["contents"]] == ["Community Counselling"]
    terms = await get(directory_client, "/oruk/taxonomy_terms", per_page=500)
    isolation = next(t for t in terms["contents"] if t["term"] == "isolation")
    by_term = await get(directory_client, "/oruk/services", taxonomy_term_id=isolation["id"])
    assert [s["name"] for s in by_term["contents"]] == ["Archway Befriending"]  # befriending
    monday = await get(directory_client, "/oruk/services", day="Monday", start_time="09:00")
    assert [s["name"] for s in monday["contents"]] == [
        "Archway Befriending",
        "Highgate Food Bank 1",
    ]
    older = await get(directory_client, "/oruk/services", minimum_age=50)
    assert [s["name"] for s in older["contents"]] == ["Archway Befriending"]


async def test_service_at_locations_near_a_postcode(
    directory_client: httpx.AsyncClient, auth: AuthSettings, filled: dict[str, str]
) -> None:
    far = listing(
        "Edmonton Carers Hub",
        taxonomy=["carers"],
        boroughs=["Enfield"],
        locations=[{"name": "Edmonton Green", "postcode": "EN2 6LN"}],
    )
    r = await directory_client.post("/api/v1/services", json=far, headers=curator(auth))
    assert r.status_code == 201
    near = await get(
        directory_client, "/oruk/service_at_locations", postcode="N19 3NU", proximity=2000
    )
    check_page(near, "compiled/service_at_location_list.json")
    assert sorted(s["service"]["name"] for s in near["contents"]) == [
        "Archway Befriending",
        "Highgate Food Bank 1",
    ]
    everywhere = await get(directory_client, "/oruk/service_at_locations", postcode="N19 3NU")
    names = [s["service"]["name"] for s in everywhere["contents"]]
    distances = [s.get("distance") for s in everywhere["contents"]]
    assert names[-2:] == ["Edmonton Carers Hub", "Community Counselling"]  # no coordinates last
    assert distances[-1] is None
    assert distances[:-1] == sorted(distances[:-1])

    r = await directory_client.get("/oruk/service_at_locations", params={"postcode": "ZZ9 9ZZ"})
    assert r.status_code == 422
    assert "unknown postcode" in r.json()["errors"][0]["message"]


async def test_the_api_is_open_to_any_origin(directory_client: httpx.AsyncClient) -> None:
    missing = await directory_client.get(f"/oruk/services/{EXAMPLE_ID}")
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == "*"
    assert missing.headers["content-type"] == "application/problem+json"
    preflight = await directory_client.options(
        "/oruk/services",
        headers={"Origin": "https://finder.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    meta = await get(directory_client, "/oruk/")
    assert meta["version"] == "3.0"
    # Curator endpoints are not opened up.
    curated = await directory_client.get("/api/v1/services/stale")
    assert "access-control-allow-origin" not in curated.headers
