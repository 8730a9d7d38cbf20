"""Importing ORUK feeds: 3.0 examples and the v1 shape, idempotently, with a report of what
was rejected and why; a bad page is reported, the rest imported, nothing half-written."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from directory.api.imports import feed_client
from directory.settings import DirectorySettings
from directory.store import listings
from tests.directory.support import curator, oruk_example, outbox

IMPORT = "/api/v1/import/oruk"
EXAMPLE_ID = "ac148810-d857-441c-9679-408f346de14b"


async def post(client: httpx.AsyncClient, auth: AuthSettings, body: Any) -> dict[str, Any]:
    r = await client.post(IMPORT, json=body, headers=curator(auth))
    assert r.status_code == 200, r.text
    report: dict[str, Any] = r.json()
    return report


def v1_service(n: int, **overrides: Any) -> dict[str, Any]:
    service: dict[str, Any] = {
        "id": f"v1-{n}",
        "name": f"Highgate Food Bank {n}",
        "description": "Food parcels for families referred by a support worker.",
        "status": "active",
        "organization": {"id": 4400 + n, "name": "Highgate Community Trust (synthetic)"},
        "eligibilitys": [{"eligibility": "Adults", "minimum_age": 18}],
        "languages": [{"language": "English"}, {"language": "Polish"}, {"language": "Klingon"}],
        "regular_schedules": [{"weekday": "Monday", "opens_at": "09:00", "closes_at": "12:30"}],
        "service_taxonomys": [
            {"taxonomy": {"id": "lga-12", "name": "Foodbank", "vocabulary": "LGA services"}}
        ],
        "service_at_locations": [
            {
                "id": f"sal-{n}",
                "location": {
                    "id": f"loc-{n}",
                    "name": "Highgate Hall",
                    "physical_addresses": [
                        {"address_1": "1 Example Hill", "city": "London", "postal_code": "N19 3NU"}
                    ],
                },
            }
        ],
        "contacts": [{"name": "Pat Example", "phones": [{"number": "020 7946 0001"}]}],
    }
    service.update(overrides)
    return service


def v1_page(*services: object) -> dict[str, Any]:
    return {"totalElements": len(services), "totalPages": 1, "number": 1, "content": list(services)}


async def test_the_oruk_3_examples_import_and_read_back(
    directory_client: httpx.AsyncClient,
    auth: AuthSettings,
    directory_settings: DirectorySettings,
) -> None:
    report = await post(
        directory_client,
        auth,
        {"pages": [oruk_example("service_full.json"), oruk_example("service_full.json")]},
    )
    assert [p["status"] for p in report["pages"]] == ["imported", "imported"]
    assert report["totals"] | {"services": 0} == {
        "services": 0,
        "published": 1,
        "updated": 0,
        "unchanged": 1,  # the second page repeats the same service: nothing new
        "withdrawn": 0,
        "rejected": 0,
        "skipped": 0,
        "pages_rejected": 0,
    }
    # The example's coordinates (100, 101) are off the globe: kept out, and said so.
    assert any("coordinates 100.0,101.0 ignored" in w for w in report["pages"][0]["warnings"])

    r = await directory_client.get(f"/api/v1/services/{EXAMPLE_ID}")
    assert r.status_code == 200
    service = r.json()
    assert service["name"] == "Community Counselling"
    assert service["organization"]["id"] == "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
    assert (service["minimum_age"], service["maximum_age"]) == (12, 100)
    assert service["free"] is False  # a cost option of 35
    assert service["referral_route"] == "signpost_only"
    (schedule,) = service["schedules"]
    assert schedule["byday"] == ["TH", "FR"]
    assert (schedule["opens_at"], schedule["closes_at"]) == ("10:00:00", "18:00:00")
    (location,) = service["locations"]
    assert location["id"] == "3a19ff88-4620-4d17-9830-ac1d859eb5d5"
    assert location["latitude"] is None
    assert service["taxonomy"] == ["3f7b145d-84af-42d7-8fae-eaca714b02b2"]
    events = await outbox(directory_settings.database_url)
    assert [e["type"] for e in events] == ["carethread.directory-service.published.v1"]


async def test_reimporting_updates_in_place_and_publishes_only_changes(
    directory_client: httpx.AsyncClient,
    auth: AuthSettings,
    directory_settings: DirectorySettings,
) -> None:
    first = v1_page(v1_service(1), v1_service(2))
    await post(directory_client, auth, {"document": first})
    again = await post(directory_client, auth, {"document": first})
    assert again["totals"]["unchanged"] == 2
    assert again["totals"]["published"] == 0

    changed = copy.deepcopy(first)
    changed["content"][1]["name"] = "Highgate Food Bank (Tuesdays too)"
    third = await post(directory_client, auth, {"document": changed})
    assert (third["totals"]["updated"], third["totals"]["unchanged"]) == (1, 1)

    search = await directory_client.get("/api/v1/services/search", params={"q": "highgate"})
    assert search.json()["total"] == 2  # no duplicates
    events = await outbox(directory_settings.database_url)
    assert [(e["type"].split(".")[2], e["sequence"]) for e in events] == [
        ("published", 1),
        ("published", 1),
        ("updated", 2),
    ]


async def test_the_v1_shape_becomes_a_searchable_listing(
    directory_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    report = await post(directory_client, auth, {"document": v1_page(v1_service(7))})
    (page,) = report["pages"]
    assert page["published"] == 1
    assert any("Klingon" in w for w in page["warnings"])
    found = await directory_client.get(
        "/api/v1/services/search",
        params={
            "taxonomy": "food",  # the feed's "Foodbank" term is the vocabulary's food bank
            "postcode": "N19 3NU",
            "language": "pl",
            "open_at": "2026-12-07T10:00:00",  # a Monday morning
            "age": 40,
        },
    )
    (item,) = found.json()["items"]
    assert item["name"] == "Highgate Food Bank 7"
    assert item["distance_km"] == 0
    assert item["organization_name"] == "Highgate Community Trust (synthetic)"
    assert "food-bank" in item["taxonomy"]


async def test_a_malformed_feed_reports_the_bad_page_and_imports_the_rest(
    directory_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    nameless = v1_service(2)
    del nameless["name"]
    orphan = v1_service(3)
    del orphan["organization"]
    report = await post(
        directory_client,
        auth,
        {
            "pages": [
                v1_page(v1_service(1), nameless, orphan, "not a service"),
                {"contents": "everything"},
                "<html>Server error</html>",
                v1_page(v1_service(4)),
            ]
        },
    )
    pages = report["pages"]
    assert [p["status"] for p in pages] == ["imported", "rejected", "rejected", "imported"]
    assert "'contents' must be a list" in pages[1]["error"]
    assert "not an ORUK page" in pages[2]["error"]
    rejected = {r["index"]: r for r in pages[0]["rejected"]}
    assert set(rejected) == {1, 2, 3}
    assert [e["field"] for e in rejected[1]["errors"]] == ["name"]
    assert rejected[2]["errors"][0]["field"] == "organization"
    assert report["totals"]["published"] == 2
    search = await directory_client.get("/api/v1/services/search", params={"q": "highgate"})
    assert [i["name"] for i in search.json()["items"]] == [
        "Highgate Food Bank 1",
        "Highgate Food Bank 4",
    ]


async def test_a_page_that_fails_to_save_leaves_nothing_behind(
    directory_client: httpx.AsyncClient,
    auth: AuthSettings,
    directory_settings: DirectorySettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The first page's listings are written together; its text index fails after its
    # organisations, locations, service rows and index rows were written.
    real = listings.index_texts
    calls = 0

    async def fails_on_the_first(session: Any, rows: Any, *, replacing: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        await real(session, rows, replacing=replacing)

    monkeypatch.setattr(listings, "index_texts", fails_on_the_first)
    report = await post(
        directory_client,
        auth,
        {"pages": [v1_page(v1_service(1), v1_service(2)), v1_page(v1_service(3))]},
    )
    assert [p["status"] for p in report["pages"]] == ["rejected", "imported"]
    assert "nothing from it was kept" in report["pages"][0]["error"]
    search = await directory_client.get("/api/v1/services/search", params={"q": "highgate"})
    assert [i["name"] for i in search.json()["items"]] == ["Highgate Food Bank 3"]
    events = await outbox(directory_settings.database_url)
    assert len(events) == 1


async def test_a_feed_that_marks_a_service_inactive_withdraws_it(
    directory_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    await post(directory_client, auth, {"document": v1_page(v1_service(1))})
    report = await post(
        directory_client, auth, {"document": v1_page(v1_service(1, status="inactive"))}
    )
    assert report["totals"]["withdrawn"] == 1
    search = await directory_client.get("/api/v1/services/search", params={"q": "highgate"})
    assert search.json()["total"] == 0


@pytest.fixture
def feed_server(directory_client: httpx.AsyncClient) -> Iterator[list[str]]:
    """The feed a URL import fetches: three pages (3.0 summaries, a broken one, v1), and
    the full 3.0 service the summary points to."""
    requested: list[str] = []
    first = oruk_example("service_list.json") | {"total_pages": 3, "page_number": 1}

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        if request.url.path == f"/services/{EXAMPLE_ID}":
            return httpx.Response(200, json=oruk_example("service_full.json"))
        page = request.url.params.get("page", "1")
        if page == "1":
            return httpx.Response(200, json=first)
        if page == "2":
            return httpx.Response(502, text="bad gateway")
        return httpx.Response(200, json=v1_page(v1_service(9)))

    async def client() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
            yield c

    app: FastAPI = directory_client._transport.app  # type: ignore[attr-defined]
    app.dependency_overrides[feed_client] = client
    yield requested
    app.dependency_overrides.clear()


async def test_a_url_import_follows_the_paging_and_reports_a_page_it_could_not_fetch(
    directory_client: httpx.AsyncClient, auth: AuthSettings, feed_server: list[str]
) -> None:
    report = await post(directory_client, auth, {"url": "https://feeds.example/services"})
    assert feed_server == [
        "https://feeds.example/services",
        f"https://feeds.example/services/{EXAMPLE_ID}",
        "https://feeds.example/services?page=2",
        "https://feeds.example/services?page=3",
    ]
    assert [p["status"] for p in report["pages"]] == ["imported", "rejected", "imported"]
    assert "502" in report["pages"][1]["error"]
    assert report["totals"]["published"] == 2
    r = await directory_client.get(f"/api/v1/services/{EXAMPLE_ID}")
    assert r.json()["schedules"][0]["byday"] == ["TH", "FR"]  # from the full document


async def test_importing_needs_a_curator_and_one_source(
    directory_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    page = v1_page(v1_service(1))
    r = await directory_client.post(
        IMPORT, json={"document": page}, headers=bearer(auth, roles=["practitioner"])
    )
    assert r.status_code == 403
    r = await directory_client.post(
        IMPORT, json={"document": page, "url": "https://x.example"}, headers=curator(auth)
    )
    assert r.status_code == 422
    assert "exactly one" in r.text


async def test_a_term_an_import_brings_is_searchable_at_once(
    directory_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    """The taxonomy a search reads is reused while it is unchanged: a term added since the
    last search is still known to the next one."""
    term = "3f7b145d-84af-42d7-8fae-eaca714b02b2"  # the example's, new to the directory
    before = await directory_client.get("/api/v1/services/search", params={"taxonomy": term})
    assert before.status_code == 422, before.text
    await post(directory_client, auth, {"pages": [oruk_example("service_full.json")]})
    after = await directory_client.get("/api/v1/services/search", params={"taxonomy": term})
    assert after.status_code == 200, after.text
    assert [i["name"] for i in after.json()["items"]] == ["Community Counselling"]


async def test_an_imported_listing_keeps_its_edit_history(
    directory_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    """A page's listings are written together: each still gets its own history, in order,
    with who made each change."""
    first = v1_page(v1_service(1), v1_service(2), v1_service(3))
    await post(directory_client, auth, {"document": first})
    changed = copy.deepcopy(first)
    changed["content"][1]["name"] = "Highgate Food Bank (Tuesdays too)"
    await post(directory_client, auth, {"document": changed})
    search = await directory_client.get(
        "/api/v1/services/search", params={"q": "highgate", "sort": "name"}
    )
    ids = {item["name"]: item["id"] for item in search.json()["items"]}
    assert len(ids) == 3
    for name, changes in (
        ("Highgate Food Bank 1", ["published"]),
        ("Highgate Food Bank (Tuesdays too)", ["published", "updated"]),
    ):
        r = await directory_client.get(
            f"/api/v1/services/{ids[name]}/history", headers=curator(auth)
        )
        assert r.status_code == 200, r.text
        history = r.json()
        assert [(h["version"], h["change"]) for h in history] == list(enumerate(changes, start=1))
        assert {h["actor"] for h in history} == {"curator.one"}
    service = (await directory_client.get(f"/api/v1/services/{ids['Highgate Food Bank 1']}")).json()
    assert service["version"] == 1
