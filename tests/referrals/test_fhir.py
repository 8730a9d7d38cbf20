"""The FHIR R4 (UK Core) facade: official UK Core examples in, the same referral as the JSON
API out, one referral per EPR message, a Task that follows triage, and every refusal an
OperationOutcome naming the FHIRPath of what is wrong (with nothing written)."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task
from sqlalchemy import select

from carethread.db import create_engine, session_factory
from carethread.db.tables import AuditRow, OutboxRow
from carethread.messaging import InMemoryBroker
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from carethread.reference import load_geography
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from referrals.settings import ReferralsSettings
from referrals.store.tables import ReferralRow
from tests.referrals.directory import SOCIAL_PRESCRIBING, list_service
from tests.referrals.test_intake_api import counts

FIXTURES = Path(__file__).parent / "fixtures" / "uk-core"
SERVICE_REQUESTS = sorted(p.name for p in FIXTURES.glob("UKCore-ServiceRequest-*.json"))
PATIENT = "UKCore-Patient-RichardSmith-Example"
RICHARD_NHS = "9991200398"  # the example's number, moved into the 999 test range
NHS = next(synthetic_nhs_numbers(start=7311))
NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
SOCIAL_NEEDS = "https://carethread.example/fhir/CodeSystem/social-needs"
EPR_ID = "https://epr.example.nhs.uk/Id/referral"
FHIR_JSON = "application/fhir+json"
MDT = {"kind": "neighbourhood_mdt", "id": "U02795", "name": "North 2 Islington"}
SOCIAL_PRESCRIBING_SERVICE = {"kind": "service", "id": str(SOCIAL_PRESCRIBING)}


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name.removesuffix('.json')}.json").read_text())
    return data


def as_(
    auth: AuthSettings, *roles: str, org: str = "F83004", sub: str = "tester"
) -> dict[str, str]:
    return {**bearer(auth, roles=list(roles), org=org, sub=sub), "content-type": FHIR_JSON}


def with_contained_patient(
    sr: dict[str, Any], patient: dict[str, Any] | None = None
) -> dict[str, Any]:
    sr = copy.deepcopy(sr)
    patient = copy.deepcopy(patient or example(PATIENT))
    sr["contained"] = [*sr.get("contained", []), patient]
    sr["subject"] = {"reference": f"#{patient['id']}"}
    return sr


def entry(resource: dict[str, Any], *, full_url: str | None = None) -> dict[str, Any]:
    return {
        "fullUrl": full_url or f"urn:uuid:{uuid.uuid4()}",
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }


def transaction(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


def referrer_of(sr: dict[str, Any]) -> dict[str, Any]:
    return example(sr["requester"]["reference"].split("/")[1])


def patient(**changes: Any) -> dict[str, Any]:
    """A synthetic Islington patient registered at F83004 (North 2 Islington PCN)."""
    p: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "ada",
        "identifier": [{"system": NHS_SYSTEM, "value": NHS}],
        "name": [{"use": "official", "family": "SYNTHETIC", "given": ["Ada"]}],
        "birthDate": "1948-03-02",
        "address": [{"use": "home", "line": ["1 Example Road"], "postalCode": "N7 9DP"}],
        "generalPractitioner": [
            {"type": "Organization", "identifier": {"system": ODS, "value": "F83004"}}
        ],
    }
    p.update(changes)
    return p


def social_request(**changes: Any) -> dict[str, Any]:
    """A social prescribing referral from a GP at F83004, with its Patient contained."""
    sr: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": EPR_ID, "value": "REF-0001"}],
        "status": "active",
        "intent": "order",
        "priority": "urgent",
        "code": {"coding": [{"system": SNOMED, "code": "871731000000106"}]},
        "contained": [
            patient(),
            {
                "resourceType": "PractitionerRole",
                "id": "gp",
                "practitioner": {"display": "Dr Example"},
                "organization": {"identifier": {"system": ODS, "value": "F83004"}},
            },
        ],
        "subject": {"reference": "#ada"},
        "authoredOn": "2026-11-23T09:00:00Z",
        "requester": {"reference": "#gp"},
        "reasonCode": [
            {"coding": [{"system": SOCIAL_NEEDS, "code": "isolation"}]},
            {"coding": [{"system": SOCIAL_NEEDS, "code": "housing"}]},
        ],
        "note": [{"text": "Lives alone since her husband died; behind on rent."}],
    }
    sr.update(changes)
    return sr


async def post_request(
    client: httpx.AsyncClient, auth: AuthSettings, body: dict[str, Any], **who: Any
) -> httpx.Response:
    return await client.post(
        "/fhir/ServiceRequest", content=json.dumps(body), headers=as_(auth, "referrer", **who)
    )


async def json_referral(
    client: httpx.AsyncClient, auth: AuthSettings, referral_id: str
) -> dict[str, Any]:
    r = await client.get(
        f"/api/v1/referrals/{referral_id}", headers=bearer(auth, roles=["triager"])
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def rows(settings: ReferralsSettings) -> list[ReferralRow]:
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as s:
        found = list((await s.scalars(select(ReferralRow))).all())
    await engine.dispose()
    return found


def outcome(r: httpx.Response, status: int) -> list[dict[str, Any]]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == FHIR_JSON
    body = r.json()
    OperationOutcome.model_validate(body)
    issues: list[dict[str, Any]] = body["issue"]
    return issues


def expressions(issues: list[dict[str, Any]]) -> list[str]:
    return [e for i in issues for e in i.get("expression", [])]


# -- the official examples --------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICE_REQUESTS)
async def test_every_uk_core_service_request_is_accepted_with_its_patient_contained(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    referrals_settings: ReferralsSettings,
    name: str,
) -> None:
    official = example(name)
    r = await post_request(referrals_client, auth, with_contained_patient(official))
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == FHIR_JSON
    sr = r.json()
    ServiceRequest.model_validate(sr)
    assert r.headers["location"] == f"/fhir/ServiceRequest/{sr['id']}"
    assert sr["subject"]["identifier"] == {"system": NHS_SYSTEM, "value": RICHARD_NHS}
    assert sr["status"] == "active"

    # The same referral as one sent to the JSON API: person id, queue, audit, event.
    same = await json_referral(referrals_client, auth, sr["id"])
    assert same["person_id"] == str(person_id_for_nhs_number(RICHARD_NHS))
    assert same["status"] == "received"
    assert (
        same["referrer_org"] == "F83004"
    )  # the examples' Practitioner has no ODS code: the token's
    assert same["neighbourhood"] is None  # Leeds: outside the NCL reference data
    (row,) = await rows(referrals_settings)
    assert (
        row.given_name,
        row.family_name,
        row.birth_date.isoformat() if row.birth_date else None,
    ) == (
        "Richard",
        "SMITH",
        "1970-09-11",
    )
    coding = official["code"]["coding"][0]
    assert f"Requested: {coding['display']} (SNOMED CT {coding['code']})" in row.story
    for reason in official.get("reasonCode", []):
        c = reason["coding"][0]
        assert f"Reason: {c['display']} (SNOMED CT {c['code']})" in row.story
    engine = create_engine(referrals_settings.database_url)
    async with session_factory(engine)() as s:
        events = [e.event_type for e in (await s.scalars(select(OutboxRow))).all()]
        audit = [(a.action, a.resource_id) for a in (await s.scalars(select(AuditRow))).all()]
    await engine.dispose()
    assert events.count("carethread.referral.received.v1") == 1
    assert ("create", sr["id"]) in audit


@pytest.mark.parametrize("name", SERVICE_REQUESTS)
async def test_every_uk_core_service_request_is_accepted_in_a_transaction_with_the_official_patient(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, name: str
) -> None:
    official = example(name)  # subject stays "Patient/UKCore-Patient-RichardSmith-Example"
    practitioner = referrer_of(official)
    bundle = transaction(entry(example(PATIENT)), entry(practitioner), entry(official))
    r = await referrals_client.post(
        "/fhir", content=json.dumps(bundle), headers=as_(auth, "referrer")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == FHIR_JSON
    response = r.json()
    Bundle.model_validate(response)
    assert response["type"] == "transaction-response"
    patient_entry, practitioner_entry, created = response["entry"]
    assert patient_entry["response"]["status"] == "200 OK"
    assert practitioner_entry["response"]["status"] == "200 OK"
    assert created["response"]["status"] == "201 Created"
    sr = created["resource"]
    assert created["response"]["location"] == f"ServiceRequest/{sr['id']}/_history/1"
    assert created["fullUrl"] == f"http://test/fhir/ServiceRequest/{sr['id']}"
    given = " ".join(
        [*practitioner["name"][0].get("prefix", []), *practitioner["name"][0]["given"]]
    )
    assert sr["requester"]["display"] == f"{given} {practitioner['name'][0]['family']}"
    assert sr["subject"]["identifier"]["value"] == RICHARD_NHS


@pytest.mark.parametrize("name", SERVICE_REQUESTS)
async def test_an_unresolvable_subject_is_refused_saying_so_and_nothing_is_written(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    referrals_settings: ReferralsSettings,
    name: str,
) -> None:
    official = example(name)
    (issue,) = outcome(await post_request(referrals_client, auth, official), 422)
    assert issue["expression"] == ["ServiceRequest.subject"]
    assert issue["code"] == "not-found"
    assert "Patient/UKCore-Patient-RichardSmith-Example" in issue["diagnostics"]
    assert "cannot resolve" in issue["diagnostics"]

    # In a transaction without the Patient, the path is the entry's.
    bundle = transaction(entry(referrer_of(official)), entry(official))
    r = await referrals_client.post(
        "/fhir", content=json.dumps(bundle), headers=as_(auth, "referrer")
    )
    assert expressions(outcome(r, 422)) == ["Bundle.entry[1].resource.subject"]
    assert await counts(referrals_settings) == (0, 0)


async def test_the_subject_by_fullurl_or_by_nhs_number(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    pt = entry(example(PATIENT))
    by_url = example(SERVICE_REQUESTS[0]) | {"subject": {"reference": pt["fullUrl"]}}
    r = await referrals_client.post(
        "/fhir", content=json.dumps(transaction(pt, entry(by_url))), headers=as_(auth, "referrer")
    )
    assert r.status_code == 200, r.text

    logical = social_request(
        identifier=[],
        contained=[],
        requester={"display": "Dr Example"},
        subject={"identifier": {"system": NHS_SYSTEM, "value": NHS}, "display": "Ada SYNTHETIC"},
    )
    r = await post_request(referrals_client, auth, logical)
    assert r.status_code == 201, r.text
    row = next(x for x in await rows(referrals_settings) if str(x.id) == r.json()["id"])
    assert (row.nhs_number, row.given_name, row.family_name) == (NHS, "Ada", "SYNTHETIC")
    assert row.person_id == person_id_for_nhs_number(NHS)

    # A literal reference it cannot resolve is fine when the same reference has the NHS number.
    both = copy.deepcopy(logical) | {
        "identifier": [{"system": EPR_ID, "value": "both"}],
        "subject": {
            "reference": "Patient/elsewhere",
            "identifier": {"system": NHS_SYSTEM, "value": NHS},
        },
    }
    assert (await post_request(referrals_client, auth, both)).status_code == 201

    other = copy.deepcopy(logical) | {
        "subject": {"identifier": {"system": "https://x.example/id", "value": "1"}}
    }
    issues = outcome(await post_request(referrals_client, auth, other), 422)
    assert expressions(issues) == ["ServiceRequest.subject.identifier.system"]


# -- one referral per message -----------------------------------------------------------------


async def test_the_same_message_twice_is_one_referral(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    first = await post_request(referrals_client, auth, social_request())
    again = await post_request(referrals_client, auth, social_request())
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["location"] == first.headers["location"]

    # The same ServiceRequest in a transaction is still the same referral.
    bundle = transaction(entry(social_request()))
    r = await referrals_client.post(
        "/fhir", content=json.dumps(bundle), headers=as_(auth, "referrer")
    )
    (created,) = r.json()["entry"]
    assert created["response"]["status"] == "200 OK"
    assert created["resource"]["id"] == first.json()["id"]
    assert len(await rows(referrals_settings)) == 1

    # An official example has no identifier: the same message (same content and authoredOn)
    # sent twice is still one referral, in a transaction as alone.
    official = transaction(entry(example(PATIENT)), entry(example(SERVICE_REQUESTS[0])))
    ids = set()
    for _ in range(2):
        r = await referrals_client.post(
            "/fhir", content=json.dumps(official), headers=as_(auth, "referrer")
        )
        assert r.status_code == 200, r.text
        ids.add(r.json()["entry"][1]["resource"]["id"])
    assert len(ids) == 1
    assert len(await rows(referrals_settings)) == 2
    referrals, _ = await counts(referrals_settings)
    assert referrals == 2

    # No identifier and no authoredOn: the Idempotency-Key header is the key; without it too,
    # each message is a new referral.
    bare = {k: v for k, v in social_request().items() if k not in ("identifier", "authoredOn")}
    keyed = {**as_(auth, "referrer"), "Idempotency-Key": "epr-msg-42"}
    sent = [
        await referrals_client.post("/fhir/ServiceRequest", content=json.dumps(bare), headers=keyed)
        for _ in range(2)
    ]
    assert [r.status_code for r in sent] == [201, 200]
    assert sent[0].json()["id"] == sent[1].json()["id"]
    assert (await post_request(referrals_client, auth, bare)).status_code == 201
    assert len(await rows(referrals_settings)) == 4

    # Another organisation reusing the identifier gets a conflict, not the other's referral.
    issues = outcome(
        await post_request(referrals_client, auth, social_request(), org="Y12345", sub="x"), 409
    )
    assert expressions(issues) == ["ServiceRequest.identifier"]


async def test_a_transaction_is_all_or_nothing(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    good = social_request()
    bad = social_request(
        identifier=[{"system": EPR_ID, "value": "REF-0002"}],
        subject={"reference": "Patient/nowhere"},
    )
    bundle = transaction(entry(good), entry(bad))
    r = await referrals_client.post(
        "/fhir", content=json.dumps(bundle), headers=as_(auth, "referrer")
    )
    assert expressions(outcome(r, 422)) == ["Bundle.entry[1].resource.subject"]
    assert await counts(referrals_settings) == (0, 0)

    # With both good, both are recorded, in entry order.
    bad["subject"] = {"reference": "#ada"}
    r = await referrals_client.post(
        "/fhir", content=json.dumps(bundle), headers=as_(auth, "referrer")
    )
    assert r.status_code == 200, r.text
    statuses = [e["response"]["status"] for e in r.json()["entry"]]
    assert statuses == ["201 Created", "201 Created"]
    assert len(await rows(referrals_settings)) == 2


# -- reading back -----------------------------------------------------------------------------


async def test_a_service_request_reads_back_as_uk_core(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    created = await post_request(referrals_client, auth, social_request())
    assert created.status_code == 201, created.text
    ref = created.json()["id"]
    r = await referrals_client.get(f"/fhir/ServiceRequest/{ref}", headers=as_(auth, "referrer"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == FHIR_JSON
    assert r.headers["etag"] == 'W/"1"'
    sr = r.json()
    ServiceRequest.model_validate(sr)
    assert sr == created.json()
    assert sr["meta"]["versionId"] == "1"
    assert sr["meta"]["profile"] == [
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest"
    ]
    assert {"system": EPR_ID, "value": "REF-0001"} in sr["identifier"]
    assert (sr["status"], sr["intent"], sr["priority"]) == ("active", "order", "urgent")
    assert sr["subject"]["identifier"] == {"system": NHS_SYSTEM, "value": NHS}
    assert sr["subject"]["display"] == "Ada SYNTHETIC"
    assert sr["authoredOn"]
    # What is requested is the code; why, the reasonCode.
    assert [c["coding"][0]["code"] for c in sr["reasonCode"]] == ["isolation", "housing"]
    assert sr["code"]["coding"][0]["code"] == "871731000000106"
    (role,) = sr["contained"]
    assert sr["requester"] == {"reference": "#requester", "display": "Dr Example"}
    assert role["organization"]["identifier"] == {"system": ODS, "value": "F83004"}
    assert sr["note"] == [{"text": "Lives alone since her husband died; behind on rent."}]

    same = await json_referral(referrals_client, auth, ref)
    assert (same["source"], same["urgency"], same["neighbourhood"], same["borough"]) == (
        "gp",
        "urgent",
        "U02795",
        "Islington",
    )
    assert same["reasons"] == ["871731000000106", "isolation", "housing"]


@pytest.mark.parametrize(
    ("priority", "urgency", "reads_back"),
    [
        ("routine", "routine", "routine"),
        ("urgent", "urgent", "urgent"),
        ("asap", "emergency", "asap"),
        ("stat", "emergency", "asap"),
        (None, "routine", "routine"),
    ],
)
async def test_priority_is_the_urgency(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    priority: str | None,
    urgency: str,
    reads_back: str,
) -> None:
    sr = (
        social_request(priority=priority)
        if priority
        else {k: v for k, v in social_request().items() if k != "priority"}
    )
    r = await post_request(referrals_client, auth, sr)
    assert r.status_code == 201, r.text
    assert r.json()["priority"] == reads_back
    assert (await json_referral(referrals_client, auth, r.json()["id"]))["urgency"] == urgency


# -- the Task: what happened ------------------------------------------------------------------


async def task_of(client: httpx.AsyncClient, auth: AuthSettings, ref: str) -> dict[str, Any]:
    r = await client.get(
        "/fhir/Task", params={"focus": f"ServiceRequest/{ref}"}, headers=as_(auth, "referrer")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == FHIR_JSON
    bundle = r.json()
    Bundle.model_validate(bundle)
    assert (bundle["type"], bundle["total"]) == ("searchset", 1)
    (found,) = bundle["entry"]
    task: dict[str, Any] = found["resource"]
    Task.model_validate(task)
    assert found["fullUrl"].endswith(f"/fhir/Task/{ref}")
    assert task["focus"]["reference"] == f"ServiceRequest/{ref}"
    return task


async def triage(
    client: httpx.AsyncClient, auth: AuthSettings, ref: str, path: str, body: object = None
) -> None:
    r = await client.post(
        f"/api/v1/referrals/{ref}/{path}",
        json=body,
        headers=bearer(auth, roles=["triager"], org="93C", sub="triager.a"),
    )
    assert r.status_code == 200, r.text


async def test_the_task_follows_triage_and_tells_the_referrer_what_happened(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    ref = (await post_request(referrals_client, auth, social_request())).json()["id"]
    official = example("UKCore-Task-Colonoscopy-Example")

    async def status() -> tuple[str, str]:
        t = await task_of(referrals_client, auth, ref)
        return t["status"], t["businessStatus"]["coding"][0]["code"]

    assert await status() == ("requested", "received")
    await triage(referrals_client, auth, ref, "claim")
    assert await status() == ("received", "in_triage")
    await triage(
        referrals_client,
        auth,
        ref,
        "triage",
        {"decision": "request_info", "reason": "Is she on the housing register?"},
    )
    assert await status() == ("on-hold", "more_info_requested")
    held = await task_of(referrals_client, auth, ref)
    assert held["statusReason"] == {"text": "Is she on the housing register?"}
    await triage(referrals_client, auth, ref, "info_provided")
    assert await status() == ("received", "in_triage")
    await triage(
        referrals_client,
        auth,
        ref,
        "triage",
        {
            "decision": "accept",
            "destination": MDT,
            "health_signoff": "Dr H",
            "social_care_signoff": "S. Worker",
        },
    )
    accepted = await task_of(referrals_client, auth, ref)
    assert (accepted["status"], accepted["businessStatus"]["text"]) == ("accepted", "accepted")
    assert accepted["owner"]["identifier"] == {"system": ODS, "value": "U02795"}
    assert accepted["owner"]["display"] == "North 2 Islington"
    await triage(referrals_client, auth, ref, "start")
    assert await status() == ("in-progress", "in_progress")
    await triage(referrals_client, auth, ref, "complete")
    done = await task_of(referrals_client, auth, ref)
    assert done["status"] == "completed"
    assert done["meta"]["versionId"] == "7"
    assert done["lastModified"] == done["executionPeriod"]["end"]

    # The status history is the message back: every move, who made it and when.
    notes = done["note"]
    assert len(notes) == 7  # received, claim, request_info, info_provided, accept, start, complete
    assert notes[0]["text"].startswith("Referral received")
    assert notes[0]["authorString"] == "tester (F83004)"
    accept = notes[4]
    assert accept["authorString"] == "triager.a (93C)"
    assert "Accepted to neighbourhood MDT North 2 Islington (U02795)" in accept["text"]
    assert "Signed off for health by Dr H and for social care by S. Worker" in accept["text"]
    assert "Is she on the housing register?" in notes[2]["text"]

    # The shape of the official UK Core Task example, for the same things.
    shared = {
        "status",
        "intent",
        "priority",
        "code",
        "focus",
        "for",
        "executionPeriod",
        "authoredOn",
        "lastModified",
        "requester",
        "owner",
        "identifier",
    }
    assert shared <= set(official) & set(done)
    assert done["code"]["coding"][0]["code"] == official["code"]["coding"][0]["code"] == "fulfill"

    assert (
        await referrals_client.get(f"/fhir/Task/{ref}", headers=as_(auth, "referrer"))
    ).json() == done
    sr = (
        await referrals_client.get(f"/fhir/ServiceRequest/{ref}", headers=as_(auth, "referrer"))
    ).json()
    assert (sr["status"], sr["meta"]["versionId"]) == ("completed", "7")


@pytest.mark.parametrize(
    ("moves", "task_status", "request_status"),
    [
        ([("triage", {"decision": "decline", "reason": "Not for us"})], "rejected", "revoked"),
        ([("withdraw", {"reason": "Moved away"})], "cancelled", "revoked"),
        (
            [("triage", {"decision": "signpost", "reason": "Citizens Advice"})],
            "completed",
            "completed",
        ),
        (
            [("triage", {"decision": "route", "destination": SOCIAL_PRESCRIBING_SERVICE})],
            "accepted",
            "active",
        ),
    ],
)
async def test_every_ending_has_its_task_and_request_status(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    memory_broker: InMemoryBroker,
    referrals_settings: ReferralsSettings,
    moves: list[tuple[str, dict[str, Any]]],
    task_status: str,
    request_status: str,
) -> None:
    await list_service(memory_broker, referrals_settings)
    ref = (await post_request(referrals_client, auth, social_request())).json()["id"]
    for path, body in moves:
        await triage(referrals_client, auth, ref, path, body)
    task = await task_of(referrals_client, auth, ref)
    assert task["status"] == task_status
    sr = (
        await referrals_client.get(f"/fhir/ServiceRequest/{ref}", headers=as_(auth, "referrer"))
    ).json()
    assert sr["status"] == request_status
    if "reason" in moves[-1][1]:
        assert task["statusReason"]["text"] == moves[-1][1]["reason"]


# -- GP practice outside the reference data ---------------------------------------------------


async def test_an_out_of_area_gp_practice_is_accepted_and_placed_by_postcode(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    leeds_gp = [
        {
            "type": "Organization",
            "identifier": {"system": ODS, "value": "B86001"},
            "display": "A Leeds practice",
        }
    ]
    sr = social_request(
        contained=[patient(generalPractitioner=leeds_gp), social_request()["contained"][1]]
    )
    r = await post_request(referrals_client, auth, sr)
    assert r.status_code == 201, r.text
    same = await json_referral(referrals_client, auth, r.json()["id"])
    assert same["neighbourhood"] == load_geography().neighbourhood_for(None, "N7 9DP")
    assert same["neighbourhood"] is not None
    (row,) = await rows(referrals_settings)
    assert row.gp_practice_code is None
    assert (
        "Registered GP practice: B86001 (A Leeds practice), outside this area's reference data."
        in row.story
    )

    # Out of area and living out of area: accepted with no neighbourhood (triage assigns one).
    # Here the practice is the official White Rose example, a Bundle entry.
    white_rose = example("UKCore-Organization-WhiteRoseMedicalCentre-Example")
    leeds = example(PATIENT) | {
        "generalPractitioner": [
            {"reference": "Organization/UKCore-Organization-WhiteRoseMedicalCentre-Example"}
        ]
    }
    bundle = transaction(entry(leeds), entry(white_rose), entry(example(SERVICE_REQUESTS[0])))
    r = await referrals_client.post(
        "/fhir", content=json.dumps(bundle), headers=as_(auth, "referrer")
    )
    assert r.status_code == 200, r.text
    ref = r.json()["entry"][2]["resource"]["id"]
    assert (await json_referral(referrals_client, auth, ref))["neighbourhood"] is None
    row = next(x for x in await rows(referrals_settings) if str(x.id) == ref)
    assert "Registered GP practice: GP5 (WHITE ROSE MEDICAL CENTRE)" in row.story

    # An NCL practice is recorded and places the person in its PCN.
    assert (await rows(referrals_settings))[0].gp_practice_code is None
    inside = social_request(identifier=[{"system": EPR_ID, "value": "inside"}])
    r = await post_request(referrals_client, auth, inside)
    row = next(x for x in await rows(referrals_settings) if str(x.id) == r.json()["id"])
    assert (row.gp_practice_code, row.neighbourhood) == ("F83004", "U02795")


async def test_the_requester_org_comes_from_the_message_and_sets_the_source(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    role = example("UKCore-PractitionerRole-GeneralPractitioner-Example")
    official = example(SERVICE_REQUESTS[0]) | {
        "requester": {
            "reference": "PractitionerRole/UKCore-PractitionerRole-GeneralPractitioner-Example"
        }
    }
    bundle = transaction(
        entry(example(PATIENT)),
        entry(role),
        entry(example("UKCore-Practitioner-DoctorPaulRastall-Example")),
        entry(example("UKCore-Organization-WhiteRoseMedicalCentre-Example")),
        entry(official),
    )
    r = await referrals_client.post(
        "/fhir", content=json.dumps(bundle), headers=as_(auth, "referrer")
    )
    assert r.status_code == 200, r.text
    sr = r.json()["entry"][4]["resource"]
    assert sr["requester"]["display"] == "Dr Paul Rastall"
    same = await json_referral(referrals_client, auth, sr["id"])
    assert same["referrer_org"] == "GP5"

    trust = example("UKCore-Organization-LeedsTeachingHospital-Example")
    by_trust = example("UKCore-ServiceRequest-ECG-Example") | {
        "requester": {"reference": "Organization/UKCore-Organization-LeedsTeachingHospital-Example"}
    }
    r = await referrals_client.post(
        "/fhir",
        content=json.dumps(transaction(entry(example(PATIENT)), entry(trust), entry(by_trust))),
        headers=as_(auth, "referrer"),
    )
    same = await json_referral(referrals_client, auth, r.json()["entry"][2]["resource"]["id"])
    assert (same["referrer_org"], same["source"]) == ("RR8", "acute_trust")

    # The Colonoscopy example says "Referred by general practitioner" in its UK Core extension.
    colonoscopy = "UKCore-ServiceRequest-ColonoscopyRequest-Example"
    r = await post_request(
        referrals_client, auth, with_contained_patient(example(colonoscopy)), org="Z99"
    )
    same = await json_referral(referrals_client, auth, r.json()["id"])
    assert (same["referrer_org"], same["source"]) == ("Z99", "gp")


async def test_a_person_referring_themselves_is_a_self_referral(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    sr = social_request(requester={"reference": "#ada"})
    sr["contained"] = sr["contained"][:1]
    r = await post_request(referrals_client, auth, sr, org="VCSE01")
    assert r.status_code == 201, r.text
    same = await json_referral(referrals_client, auth, r.json()["id"])
    assert (same["source"], same["referrer_org"]) == ("self", "VCSE01")
    assert r.json()["requester"]["display"] == "Ada SYNTHETIC"


# -- bad input --------------------------------------------------------------------------------

FUTURE = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()


def _sr(**changes: Any) -> dict[str, Any]:
    return social_request(**changes)


def _with_patient(**changes: Any) -> dict[str, Any]:
    sr = social_request()
    sr["contained"][0] = patient(**changes)
    return sr


BAD_REQUESTS: list[tuple[str, dict[str, Any], str]] = [
    (
        "invalid NHS number check digit",
        _with_patient(identifier=[{"system": NHS_SYSTEM, "value": "9991200399"}]),
        "ServiceRequest.contained[0].identifier[0].value",
    ),
    ("future birthDate", _with_patient(birthDate=FUTURE), "ServiceRequest.contained[0].birthDate"),
    (
        "malformed birthDate",
        _with_patient(birthDate="2nd March 1948"),
        "ServiceRequest.contained[0].birthDate",
    ),
    ("malformed authoredOn", _sr(authoredOn="yesterday"), "ServiceRequest.authoredOn"),
    ("unknown element", _sr(surprise=True), "ServiceRequest.surprise"),
    (
        "unknown element in the Patient",
        _with_patient(favouriteColour="blue"),
        "ServiceRequest.contained[0].favouriteColour",
    ),
    (
        "an object where a list belongs",
        _sr(reasonCode={"text": "isolation"}),
        "ServiceRequest.reasonCode",
    ),
    ("a string where an object belongs", _sr(code="871731000000106"), "ServiceRequest.code"),
    (
        "unknown contained resource type",
        _sr(contained=[{"resourceType": "Gizmo", "id": "g"}]),
        "ServiceRequest.contained[0].resourceType",
    ),
    ("wrong resourceType", patient(), "resourceType"),
    ("status draft", _sr(status="draft"), "ServiceRequest.status"),
    (
        "missing status",
        {k: v for k, v in social_request().items() if k != "status"},
        "ServiceRequest.status",
    ),
    ("unknown priority", _sr(priority="whenever"), "ServiceRequest.priority"),
    ("a Group as subject", _sr(subject={"reference": "Group/g1"}), "ServiceRequest.subject"),
    (
        "no subject",
        {k: v for k, v in social_request().items() if k != "subject"},
        "ServiceRequest.subject",
    ),
    (
        "unknown social-needs code",
        _sr(reasonCode=[{"coding": [{"system": SOCIAL_NEEDS, "code": "astrology"}]}]),
        "ServiceRequest.reasonCode[0].coding[0].code",
    ),
    (
        "no reason and no story",
        {k: v for k, v in social_request().items() if k not in ("code", "reasonCode", "note")},
        "ServiceRequest.reasonCode",
    ),
    ("a Patient without a name", _with_patient(name=[]), "ServiceRequest.contained[0].name"),
    (
        "a postcode too long",
        _with_patient(address=[{"postalCode": "N7 9DP N7 9DP"}]),
        "ServiceRequest.contained[0].address[0].postalCode",
    ),
]


@pytest.mark.parametrize(
    ("body", "expression"), [b[1:] for b in BAD_REQUESTS], ids=[b[0] for b in BAD_REQUESTS]
)
async def test_bad_input_is_422_operation_outcome_naming_the_fhirpath_and_nothing_is_written(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    referrals_settings: ReferralsSettings,
    body: dict[str, Any],
    expression: str,
) -> None:
    issues = outcome(await post_request(referrals_client, auth, body), 422)
    assert expression in expressions(issues), issues
    assert all(i["severity"] == "error" and i["diagnostics"] for i in issues)
    assert await counts(referrals_settings) == (0, 0)


def _bundle(*changes: tuple[int, dict[str, Any]], **top: Any) -> dict[str, Any]:
    b = transaction(
        entry(patient()), entry(social_request(subject={"reference": "Patient/ada"}, contained=[]))
    )
    for index, change in changes:
        b["entry"][index].update(change)
    b.update(top)
    return b


BAD_BUNDLES: list[tuple[str, dict[str, Any], str]] = [
    ("a batch, not a transaction", _bundle(type="batch"), "Bundle.type"),
    (
        "future birthDate",
        _bundle((0, {"resource": patient(birthDate=FUTURE)})),
        "Bundle.entry[0].resource.birthDate",
    ),
    (
        "invalid NHS number",
        _bundle((0, {"resource": patient(identifier=[{"system": NHS_SYSTEM, "value": "123"}])})),
        "Bundle.entry[0].resource.identifier[0].value",
    ),
    (
        "an entry this transaction does not take",
        _bundle(
            (
                0,
                {
                    "resource": {
                        "resourceType": "Encounter",
                        "status": "planned",
                        "class": {"code": "AMB"},
                    }
                },
            )
        ),
        "Bundle.entry[0].resource",
    ),
    ("unknown element in an entry", _bundle((1, {"extra": 1})), "Bundle.entry[1].extra"),
    (
        "a ServiceRequest PUT",
        _bundle((1, {"request": {"method": "PUT", "url": "ServiceRequest/1"}})),
        "Bundle.entry[1].request.method",
    ),
    ("no ServiceRequest", transaction(entry(patient())), "Bundle.entry"),
    ("wrong resourceType", social_request(), "resourceType"),
]


@pytest.mark.parametrize(
    ("body", "expression"), [b[1:] for b in BAD_BUNDLES], ids=[b[0] for b in BAD_BUNDLES]
)
async def test_a_bad_transaction_is_422_operation_outcome_and_nothing_is_written(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    referrals_settings: ReferralsSettings,
    body: dict[str, Any],
    expression: str,
) -> None:
    r = await referrals_client.post(
        "/fhir", content=json.dumps(body), headers=as_(auth, "referrer")
    )
    assert expression in expressions(outcome(r, 422))
    assert await counts(referrals_settings) == (0, 0)


async def test_unparseable_json_is_400_and_other_media_types_415(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    for path in ("/fhir/ServiceRequest", "/fhir"):
        r = await referrals_client.post(
            path, content=b'{"resourceType": "Serv', headers=as_(auth, "referrer")
        )
        (issue,) = outcome(r, 400)
        assert "not valid JSON" in issue["diagnostics"]
    r = await referrals_client.post(
        "/fhir/ServiceRequest",
        content=b"<ServiceRequest/>",
        headers={**as_(auth, "referrer"), "content-type": "application/fhir+xml"},
    )
    outcome(r, 415)
    # Plain application/json is taken as FHIR JSON too.
    r = await referrals_client.post(
        "/fhir/ServiceRequest",
        content=json.dumps(social_request()),
        headers={**as_(auth, "referrer"), "content-type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert await counts(referrals_settings) != (0, 0)


async def test_an_oversized_body_is_refused_before_any_route_runs(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    """The body limit answers before routing, for the whole service: 413, as problem+json."""
    big = social_request(note=[{"text": "x" * 70_000}])
    r = await post_request(referrals_client, auth, big)
    assert r.status_code == 413
    assert await counts(referrals_settings) == (0, 0)


# -- who may -----------------------------------------------------------------------------------


async def test_fhir_endpoints_need_a_token_and_a_role(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    body = json.dumps(social_request())
    for path in ("/fhir/ServiceRequest", "/fhir"):
        r = await referrals_client.post(path, content=body, headers={"content-type": FHIR_JSON})
        (issue,) = outcome(r, 401)
        assert issue["code"] == "login"
        assert r.headers["www-authenticate"].startswith("Bearer")
        (issue,) = outcome(
            await referrals_client.post(path, content=body, headers=as_(auth, "analyst")), 403
        )
        assert issue["code"] == "forbidden"
    assert await counts(referrals_settings) == (0, 0)

    ref = (await post_request(referrals_client, auth, social_request())).json()["id"]
    for path in (
        f"/fhir/ServiceRequest/{ref}",
        f"/fhir/Task/{ref}",
        f"/fhir/Task?focus=ServiceRequest/{ref}",
    ):
        outcome(await referrals_client.get(path), 401)
        outcome(await referrals_client.get(path, headers=as_(auth, "referrer", org="OTHER")), 403)
        assert (await referrals_client.get(path, headers=as_(auth, "referrer"))).status_code == 200
        assert (
            await referrals_client.get(path, headers=as_(auth, "triager", org="93C"))
        ).status_code == 200


async def test_unknown_ids_and_interactions(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    who = as_(auth, "triager")
    missing = "00000000-0000-0000-0000-000000000000"
    for path in (
        f"/fhir/ServiceRequest/{missing}",
        "/fhir/ServiceRequest/not-an-id",
        f"/fhir/Task/{missing}",
    ):
        (issue,) = outcome(await referrals_client.get(path, headers=who), 404)
        assert issue["code"] == "not-found"
    # A search that matches nothing is an empty searchset, as FHIR search is.
    r = await referrals_client.get(
        "/fhir/Task", params={"focus": f"ServiceRequest/{missing}"}, headers=who
    )
    assert (r.status_code, r.json()["total"], r.json()["entry"]) == (200, 0, [])
    outcome(await referrals_client.get("/fhir/Task", headers=who), 400)
    outcome(await referrals_client.delete(f"/fhir/ServiceRequest/{missing}", headers=who), 405)
    outcome(await referrals_client.get("/fhir/Patient/1", headers=who), 404)
    # The JSON API keeps problem+json.
    r = await referrals_client.get(f"/api/v1/referrals/{missing}", headers=who)
    assert (r.status_code, r.headers["content-type"]) == (404, "application/problem+json")


async def test_the_capability_statement_is_public(referrals_client: httpx.AsyncClient) -> None:
    r = await referrals_client.get("/fhir/metadata")
    assert r.status_code == 200
    assert r.headers["content-type"] == FHIR_JSON
    statement = CapabilityStatement.model_validate(r.json())
    assert statement.fhirVersion == "4.0.1"
    spec = (await referrals_client.get("/openapi.json")).json()
    assert "/fhir/ServiceRequest" in spec["paths"]
