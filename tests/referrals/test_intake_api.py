"""The JSON front door's contract: what is accepted, and how bad input is refused."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from carethread.auth.keys import load_or_create_dev_key
from carethread.auth.tokens import mint_token
from carethread.db import UnitOfWork, create_engine, session_factory
from carethread.db.tables import AuditRow, OutboxRow
from carethread.messaging import InMemoryBroker
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from referrals.settings import ReferralsSettings
from referrals.store.tables import ReferralRow

NHS = next(synthetic_nhs_numbers(start=4242))


PERSON: dict[str, object] = {
    "nhs_number": NHS,
    "given_name": "Ada",
    "family_name": "Synthetic",
    "birth_date": "1948-03-02",
    "postcode": "N7 9DP",
    "gp_practice_code": "F83004",
}


def referral(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "person": dict(PERSON),
        "referrer": {"name": "Dr Example", "role": "GP", "org": "F83004"},
        "source": "gp",
        "urgency": "urgent",
        "reasons": ["isolation", "housing"],
        "story": "Lives alone since her husband died; behind on rent.",
    }
    body.update(overrides)
    return body


async def counts(settings: ReferralsSettings) -> tuple[int, int]:
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as s:
        referrals = await s.scalar(select(func.count()).select_from(ReferralRow))
        outbox = await s.scalar(select(func.count()).select_from(OutboxRow))
    await engine.dispose()
    return referrals or 0, outbox or 0


async def test_a_referral_is_recorded_with_its_event_and_audit(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    r = await referrals_client.post(
        "/api/v1/referrals", json=referral(), headers=bearer(auth, roles=["referrer"])
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["person_id"] == str(person_id_for_nhs_number(NHS))
    assert body["referral"]["neighbourhood"] == "U02795"  # F83004 is in North 2 Islington PCN
    assert body["referral"]["borough"] == "Islington"
    assert body["event_id"]
    engine = create_engine(referrals_settings.database_url)
    async with session_factory(engine)() as s:
        events = (await s.scalars(select(OutboxRow).order_by(OutboxRow.position))).all()
        audit = (await s.scalars(select(AuditRow))).all()
    await engine.dispose()
    received = [e for e in events if e.event_type == "carethread.referral.received.v1"]
    assert [str(e.event_id) for e in received] == [body["event_id"]]
    assert json.loads(received[0].payload)["data"]["person_id"] == body["person_id"]
    assert "Lives alone" not in received[0].payload  # narrative stays in the service
    assert [(a.action, a.actor, str(a.person_id)) for a in audit] == [
        ("create", "tester", body["person_id"])
    ]


async def test_a_person_with_no_nhs_number_is_accepted(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    body = referral()
    body["person"] = {"given_name": "Sam", "family_name": "Nofixed", "postcode": "N1 9GU"}
    r = await referrals_client.post(
        "/api/v1/referrals", json=body, headers=bearer(auth, roles=["referrer"])
    )
    assert r.status_code == 201, r.text
    assert r.json()["referral"]["neighbourhood"]  # placed by postcode


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"person": {**PERSON, "nhs_number": "9991234560"}}, "person.nhs_number"),
        ({"urgency": "whenever"}, "urgency"),
        ({"reasons": "housing"}, "reasons"),
        ({"surprise": True}, "surprise"),
        ({"person": {**PERSON, "birth_date": "not-a-date"}}, "person.birth_date"),
        (
            {"person": {**PERSON, "gp_practice_code": "Z99999"}},
            "person.gp_practice_code",
        ),
        (
            {
                "person": {
                    **PERSON,
                    "birth_date": (datetime.now(UTC).date() + timedelta(days=2)).isoformat(),
                }
            },
            "person.birth_date",
        ),
        ({"reasons": ["housing", "astrology"]}, "reasons"),
        ({"reasons": [], "story": "  "}, "reasons"),
    ],
)
async def test_bad_input_is_422_problem_naming_the_field_and_nothing_is_written(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    referrals_settings: ReferralsSettings,
    change: dict[str, object],
    field: str,
) -> None:
    r = await referrals_client.post(
        "/api/v1/referrals", json=referral(**change), headers=bearer(auth, roles=["referrer"])
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]]
    assert await counts(referrals_settings) == (0, 0)


async def test_malformed_json_is_422_problem(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    r = await referrals_client.post(
        "/api/v1/referrals",
        content=b'{"person": {',
        headers={**bearer(auth, roles=["referrer"]), "content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["type"] == "json_invalid"


async def test_oversized_body_is_413_problem(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    r = await referrals_client.post(
        "/api/v1/referrals",
        json=referral(story="x" * 70_000),
        headers=bearer(auth, roles=["referrer"]),
    )
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert await counts(referrals_settings) == (0, 0)


async def test_tokens_missing_expired_or_forged_are_401(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, tmp_path: object
) -> None:
    r = await referrals_client.post("/api/v1/referrals", json=referral())
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-type"] == "application/problem+json"

    expired = mint_token(
        load_or_create_dev_key(auth.dev_key_path),
        auth,
        sub="x",
        org="X",
        roles=["referrer"],
        ttl=timedelta(hours=-1),
    )
    r = await referrals_client.post(
        "/api/v1/referrals", json=referral(), headers={"Authorization": f"Bearer {expired}"}
    )
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = mint_token(stranger, auth, sub="x", org="X", roles=["admin"])
    r = await referrals_client.post(
        "/api/v1/referrals", json=referral(), headers={"Authorization": f"Bearer {forged}"}
    )
    assert r.status_code == 401

    claims = jwt.decode(expired, options={"verify_signature": False})
    claims["exp"] = datetime.now(UTC) + timedelta(hours=1)
    tampered = jwt.encode(
        claims, "not-the-key-but-long-enough-for-hs256", algorithm="HS256"
    )  # algorithm confusion
    r = await referrals_client.post(
        "/api/v1/referrals", json=referral(), headers={"Authorization": f"Bearer {tampered}"}
    )
    assert r.status_code == 401


async def test_wrong_role_is_403(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    r = await referrals_client.post(
        "/api/v1/referrals", json=referral(), headers=bearer(auth, roles=["analyst"])
    )
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert await counts(referrals_settings) == (0, 0)


async def test_only_the_referrer_org_or_front_door_reads_a_referral(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    created = (
        await referrals_client.post(
            "/api/v1/referrals",
            json=referral(),
            headers=bearer(auth, roles=["referrer"], org="F83004"),
        )
    ).json()
    path = f"/api/v1/referrals/{created['referral_id']}"
    assert (
        await referrals_client.get(path, headers=bearer(auth, roles=["referrer"], org="F83004"))
    ).status_code == 200
    assert (
        await referrals_client.get(path, headers=bearer(auth, roles=["triager"], org="ZZZ"))
    ).status_code == 200
    assert (
        await referrals_client.get(path, headers=bearer(auth, roles=["referrer"], org="OTHER"))
    ).status_code == 403
    missing = await referrals_client.get(
        "/api/v1/referrals/00000000-0000-0000-0000-000000000000",
        headers=bearer(auth, roles=["triager"]),
    )
    assert missing.status_code == 404


async def test_a_failing_commit_is_an_error_response_never_2xx(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    referrals_settings: ReferralsSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken_commit(self: UnitOfWork) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(UnitOfWork, "commit", broken_commit)
    r = await referrals_client.post(
        "/api/v1/referrals", json=referral(), headers=bearer(auth, roles=["referrer"])
    )
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    monkeypatch.undo()
    assert await counts(referrals_settings) == (0, 0)


async def test_health_and_readiness_name_the_dependency_that_is_down(
    referrals_client: httpx.AsyncClient, memory_broker: InMemoryBroker
) -> None:
    assert (await referrals_client.get("/health/live")).status_code == 200
    async with asyncio.timeout(10):
        while (await referrals_client.get("/health/ready")).status_code != 200:
            await asyncio.sleep(0.05)
    memory_broker.available = False
    r = await referrals_client.get("/health/ready")
    assert r.status_code == 503
    assert r.json()["down"] == ["broker"]
    assert r.json()["checks"]["database"] == "ok"
    metrics = await referrals_client.get("/metrics")
    assert "carethread_outbox_backlog" in metrics.text
    assert "carethread_http_request_duration_seconds" in metrics.text


async def test_openapi_and_docs_are_served(referrals_client: httpx.AsyncClient) -> None:
    spec = (await referrals_client.get("/openapi.json")).json()
    assert "/api/v1/referrals" in spec["paths"]
    assert (await referrals_client.get("/docs")).status_code == 200
