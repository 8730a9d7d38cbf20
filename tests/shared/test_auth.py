"""Bearer tokens: what is accepted, what is refused, JWKS from a real HTTP server, roles, and
production refusing the dev key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI

from care_plans.app import create_app as create_care_plans
from care_plans.settings import CarePlansSettings
from carethread.auth import InvalidToken, Principal, TokenVerifier, mint_dev_token, require_roles
from carethread.auth.keys import DEV_KEY_ID, jwks_for, load_or_create_dev_key
from carethread.auth.tokens import mint_token
from carethread.errors import install_problem_handlers
from carethread.service import InsecureConfiguration
from carethread.settings import AuthSettings, ServiceSettings
from carethread.testing.apps import bearer
from directory.app import create_app as create_directory
from directory.settings import DirectorySettings
from mdt.app import create_app as create_mdt
from mdt.settings import MdtSettings
from outcomes.app import create_app as create_outcomes
from outcomes.settings import OutcomesSettings
from referrals.app import create_app as create_referrals
from referrals.settings import ReferralsSettings


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def claims(settings: AuthSettings, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": "dev.user",
        "org": "F83004",
        "roles": ["triager"],
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(hours=1),
        "jti": str(uuid.uuid4()),
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def sign(
    key: rsa.RSAPrivateKey, body: dict[str, Any], *, kid: str = DEV_KEY_ID, alg: str = "RS256"
) -> str:
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def unsigned(header: dict[str, Any], body: dict[str, Any]) -> str:
    payload = json.dumps(body, default=lambda d: int(d.timestamp())).encode()
    return f"{b64url(json.dumps(header).encode())}.{b64url(payload)}"


@pytest.fixture
def dev_key(auth: AuthSettings) -> rsa.RSAPrivateKey:
    return load_or_create_dev_key(auth.dev_key_path)


@pytest.fixture
def verifier(auth: AuthSettings, dev_key: rsa.RSAPrivateKey) -> TokenVerifier:
    return TokenVerifier(auth)


# The dev key


def test_a_dev_token_verifies_with_its_claims(auth: AuthSettings, verifier: TokenVerifier) -> None:
    token = mint_dev_token(
        auth,
        sub="dev.user",
        org="F83004",
        roles=["referrer", "triager"],
        teams=["team-1"],
        neighbourhoods=["U02795"],
        name="Dev User",
    )
    assert verifier.uses_dev_key
    assert verifier.verify(token) == Principal(
        sub="dev.user",
        name="Dev User",
        org="F83004",
        roles=frozenset({"referrer", "triager"}),
        teams=frozenset({"team-1"}),
        neighbourhoods=frozenset({"U02795"}),
    )


def test_the_dev_key_is_created_once_private_and_reused(tmp_path: Path) -> None:
    settings = AuthSettings(dev_key_path=tmp_path / "nested" / "dev-signing-key.pem")
    token = mint_dev_token(settings, sub="a", org="F83004", roles=["analyst"])
    assert settings.dev_key_path.stat().st_mode & 0o777 == 0o600
    first = settings.dev_key_path.read_bytes()
    # Another process starting later (a second service) reads the same key.
    assert TokenVerifier(AuthSettings(dev_key_path=settings.dev_key_path)).verify(token).sub == "a"
    assert settings.dev_key_path.read_bytes() == first
    assert [p.name for p in settings.dev_key_path.parent.iterdir()] == ["dev-signing-key.pem"]


def test_a_token_just_past_expiry_is_accepted_within_the_leeway(
    auth: AuthSettings, dev_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    assert auth.leeway_seconds >= 30
    token = mint_token(dev_key, auth, sub="a", org="F83004", roles=[], ttl=timedelta(seconds=-1))
    assert verifier.verify(token).sub == "a"


# What is refused


def test_an_expired_token_is_refused(
    auth: AuthSettings, dev_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    token = mint_token(dev_key, auth, sub="a", org="F83004", roles=[], ttl=timedelta(hours=-1))
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)


def test_a_token_not_yet_valid_is_refused(
    auth: AuthSettings, dev_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    token = sign(dev_key, claims(auth, nbf=later, iat=later, exp=later + timedelta(hours=1)))
    with pytest.raises(InvalidToken):
        verifier.verify(token)


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "another-audience"},
        {"iss": "https://issuer.invalid/"},
        {"exp": None},
        {"sub": None},
        {"aud": None},
        {"iss": None},
    ],
    ids=["wrong-audience", "wrong-issuer", "no-exp", "no-sub", "no-aud", "no-iss"],
)
def test_a_token_with_wrong_or_missing_claims_is_refused(
    auth: AuthSettings,
    dev_key: rsa.RSAPrivateKey,
    verifier: TokenVerifier,
    change: dict[str, Any],
) -> None:
    token = sign(dev_key, claims(auth, **change))
    with pytest.raises(InvalidToken, match="not valid"):
        verifier.verify(token)


def test_tokens_minted_for_another_audience_or_issuer_are_refused(
    auth: AuthSettings, verifier: TokenVerifier
) -> None:
    """Same key file, other settings: what a token for another system would look like."""
    for other in (
        AuthSettings(dev_key_path=auth.dev_key_path, audience="some-other-api"),
        AuthSettings(dev_key_path=auth.dev_key_path, issuer="someone-else"),
    ):
        token = mint_dev_token(other, sub="a", org="F83004", roles=["admin"])
        assert TokenVerifier(other).verify(token).sub == "a"  # good for its own system ...
        with pytest.raises(InvalidToken):
            verifier.verify(token)  # ... not for this one


def test_a_forged_token_signed_by_another_key_is_refused(
    auth: AuthSettings, verifier: TokenVerifier
) -> None:
    forged = sign(new_key(), claims(auth, roles=["admin"]))  # same kid, other key
    with pytest.raises(InvalidToken):
        verifier.verify(forged)
    with pytest.raises(InvalidToken, match="unknown key"):
        verifier.verify(sign(new_key(), claims(auth), kid="someone-elses-key"))


def test_a_tampered_token_is_refused(
    auth: AuthSettings, dev_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    header, _, signature = sign(dev_key, claims(auth)).split(".")
    elevated = b64url(
        json.dumps(claims(auth, roles=["admin"]), default=lambda d: int(d.timestamp())).encode()
    )
    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{elevated}.{signature}")


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_an_unsigned_alg_none_token_is_refused(
    auth: AuthSettings, verifier: TokenVerifier, alg: str
) -> None:
    token = unsigned({"alg": alg, "typ": "JWT", "kid": DEV_KEY_ID}, claims(auth, roles=["admin"]))
    for candidate in (token + ".", token):
        with pytest.raises(InvalidToken):
            verifier.verify(candidate)


def test_an_hs256_token_keyed_with_the_public_key_is_refused(
    auth: AuthSettings, dev_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    """The classic algorithm confusion: HMAC with the (public) RSA key as the secret."""
    signing_input = unsigned(
        {"alg": "HS256", "typ": "JWT", "kid": DEV_KEY_ID}, claims(auth, roles=["admin"])
    )
    for public in (
        dev_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        dev_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        ),
        json.dumps(jwks_for(dev_key)["keys"][0]).encode(),
    ):
        mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
        with pytest.raises(InvalidToken):
            verifier.verify(f"{signing_input}.{b64url(mac)}")


def test_only_rs256_is_accepted_even_from_the_right_key(
    auth: AuthSettings, dev_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    for alg in ("RS384", "RS512", "PS256"):
        with pytest.raises(InvalidToken):
            verifier.verify(sign(dev_key, claims(auth), alg=alg))


@pytest.mark.parametrize(
    "token", ["", "not-a-token", "a.b.c", "a.b", "....", "eyJhbGciOiJSUzI1NiJ9.e30.AAAA"]
)
def test_garbage_is_refused_as_an_invalid_token(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_a_non_string_kid_is_refused(auth: AuthSettings, dev_key: rsa.RSAPrivateKey) -> None:
    token = unsigned({"alg": "RS256", "typ": "JWT", "kid": ["x"]}, claims(auth))
    with pytest.raises(InvalidToken):
        TokenVerifier(auth).verify(token + ".AAAA")


# JWKS from a real HTTP server


@dataclass
class JwksServer:
    jwks: dict[str, Any]
    url: str = ""
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    state = JwksServer(jwks={"keys": []})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            if self.path != "/.well-known/jwks.json":
                self.send_error(404)
                return
            body = json.dumps(state.jwks).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def idp_settings(url: str, tmp_path: Path) -> AuthSettings:
    return AuthSettings(
        jwks_url=url,
        issuer="https://login.example.nhs.invalid/",
        audience="api://carethread",
        dev_key_path=tmp_path / "must-not-be-created.pem",
    )


def test_jwks_mode_accepts_the_served_key_and_refuses_others(
    jwks_server: JwksServer, tmp_path: Path
) -> None:
    idp_key, other_key = new_key(), new_key()
    jwks_server.jwks = jwks_for(idp_key)
    settings = idp_settings(jwks_server.url, tmp_path)
    verifier = TokenVerifier(settings)
    assert not verifier.uses_dev_key

    good = mint_token(idp_key, settings, sub="idp.user", org="F83004", roles=["practitioner"])
    principal = verifier.verify(good)
    assert principal.sub == "idp.user"
    assert principal.roles == {"practitioner"}
    assert jwks_server.requests  # the keys really came over HTTP

    forged = mint_token(other_key, settings, sub="idp.user", org="F83004", roles=["admin"])
    with pytest.raises(InvalidToken):
        verifier.verify(forged)
    with pytest.raises(InvalidToken):
        verifier.verify(sign(other_key, claims(settings), kid="unknown-kid"))
    wrong_audience = sign(idp_key, claims(settings, aud="carethread"))
    with pytest.raises(InvalidToken):
        verifier.verify(wrong_audience)
    assert not settings.dev_key_path.exists()


def test_jwks_mode_finds_each_key_of_a_rotating_set_by_kid(
    jwks_server: JwksServer, tmp_path: Path
) -> None:
    old, new = new_key(), new_key()
    keys = []
    for kid, key in (("2026-old", old), ("2026-new", new)):
        jwk = jwks_for(key)["keys"][0]
        keys.append({**jwk, "kid": kid})
    jwks_server.jwks = {"keys": keys}
    settings = idp_settings(jwks_server.url, tmp_path)
    verifier = TokenVerifier(settings)
    assert verifier.verify(sign(old, claims(settings, sub="a"), kid="2026-old")).sub == "a"
    assert verifier.verify(sign(new, claims(settings, sub="b"), kid="2026-new")).sub == "b"
    with pytest.raises(InvalidToken):
        verifier.verify(sign(old, claims(settings), kid="2026-new"))


def test_jwks_mode_refuses_every_token_when_the_keys_cannot_be_fetched(
    jwks_server: JwksServer, tmp_path: Path
) -> None:
    key = new_key()
    settings = idp_settings(jwks_server.url.replace("jwks.json", "missing.json"), tmp_path)
    with pytest.raises(InvalidToken):
        TokenVerifier(settings).verify(sign(key, claims(settings)))


# Production refuses the dev key

ServiceFactory = Callable[[Any], FastAPI]
SERVICES: list[tuple[type[ServiceSettings], ServiceFactory, str]] = [
    (ReferralsSettings, create_referrals, "REFERRALS_"),
    (CarePlansSettings, create_care_plans, "CARE_PLANS_"),
    (DirectorySettings, create_directory, "DIRECTORY_"),
    (OutcomesSettings, create_outcomes, "OUTCOMES_"),
    (MdtSettings, create_mdt, "MDT_"),
]


@pytest.mark.parametrize(
    ("settings_class", "create_app", "prefix"), SERVICES, ids=[p for _, _, p in SERVICES]
)
def test_a_production_service_without_a_jwks_url_refuses_to_start(
    settings_class: type[ServiceSettings],
    create_app: ServiceFactory,
    prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CARETHREAD_AUTH_JWKS_URL", raising=False)
    monkeypatch.setenv(prefix + "ENVIRONMENT", "production")
    monkeypatch.setenv(prefix + "DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CARETHREAD_AUTH_DEV_KEY_PATH", str(tmp_path / "data" / "dev.pem"))
    settings = settings_class()
    assert settings.environment == "production"
    with pytest.raises(InsecureConfiguration, match="CARETHREAD_AUTH_JWKS_URL"):
        create_app(settings)
    assert not (tmp_path / "data").exists()  # nothing was created: no key, no database

    monkeypatch.setenv("CARETHREAD_AUTH_JWKS_URL", "https://login.example.nhs.invalid/jwks")
    assert isinstance(create_app(settings_class()), FastAPI)


def test_development_may_use_the_dev_key(tmp_path: Path) -> None:
    settings = ReferralsSettings(
        environment="development", auth=AuthSettings(dev_key_path=tmp_path / "k.pem")
    )
    assert isinstance(create_referrals(settings), FastAPI)


# Roles


@pytest.fixture
def roles_app(auth: AuthSettings) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.runtime = SimpleNamespace(verifier=TokenVerifier(auth))

    @app.get("/triage")
    async def triage(user: Annotated[Principal, Depends(require_roles("triager", "admin"))]) -> str:
        return user.sub

    return app


async def call(app: FastAPI, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/triage", headers=headers)


async def test_require_roles_refuses_a_caller_without_the_role(
    roles_app: FastAPI, auth: AuthSettings
) -> None:
    r = await call(roles_app, bearer(auth, roles=["referrer", "analyst"]))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 403
    assert "triager" in body["detail"]


@pytest.mark.parametrize("roles", [["triager"], ["admin"], ["referrer", "triager"]])
async def test_require_roles_lets_through_any_of_the_roles(
    roles_app: FastAPI, auth: AuthSettings, roles: list[str]
) -> None:
    r = await call(roles_app, bearer(auth, roles=roles, sub="t.user"))
    assert r.status_code == 200, r.text
    assert r.json() == "t.user"


async def test_no_or_a_bad_token_is_401_not_403(roles_app: FastAPI, auth: AuthSettings) -> None:
    forged = sign(new_key(), claims(auth, roles=["triager"]))
    for headers in (
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": "Bearer not-a-token"},
    ):
        r = await call(roles_app, headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_a_verified_token_is_remembered_for_a_minute_at_most_and_never_past_its_expiry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = AuthSettings(dev_key_path=tmp_path / "key.pem")
    verifier = TokenVerifier(settings)
    clock = SimpleNamespace(now=1_000.0)
    monkeypatch.setattr("carethread.auth.tokens.time.monotonic", lambda: clock.now)
    decoded: list[str] = []
    real_decode = jwt.decode

    def counting_decode(token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr("carethread.auth.tokens.jwt.decode", counting_decode)
    long_lived = mint_dev_token(settings, sub="a", org="X", roles=["referrer"])
    first = verifier.verify(long_lived)
    assert verifier.verify(long_lived) == first
    assert verifier.verify(long_lived) == first
    assert decoded == [long_lived]  # verified once
    clock.now += 61
    assert verifier.verify(long_lived) == first
    assert decoded == [long_lived, long_lived]  # a minute later, verified again

    short_lived = mint_dev_token(
        settings, sub="b", org="X", roles=["referrer"], ttl=timedelta(seconds=5)
    )
    verifier.verify(short_lived)
    clock.now += 6  # past its expiry: not answered from memory
    verifier.verify(short_lived)  # (still inside the clock-skew leeway, so accepted)
    assert decoded.count(short_lived) == 2

    with pytest.raises(InvalidToken):
        verifier.verify(long_lived[:-4] + "AAAA")  # a forged one is never remembered as good
