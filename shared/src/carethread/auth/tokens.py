"""Minting (dev only) and verifying bearer JWTs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel, ConfigDict

from carethread.auth.keys import DEV_KEY_ID, jwks_for, load_or_create_dev_key
from carethread.relationships import Caller
from carethread.settings import AuthSettings


class Principal(BaseModel):
    """Who is calling, from the token's claims."""

    model_config = ConfigDict(frozen=True)

    sub: str
    name: str | None = None
    org: str | None = None
    roles: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    neighbourhoods: frozenset[str] = frozenset()
    # The front doors a triager works for; none means every borough (an ICS-wide team).
    boroughs: frozenset[str] = frozenset()

    def has_any_role(self, roles: Sequence[str]) -> bool:
        return bool(self.roles.intersection(roles))

    def as_caller(self) -> Caller:
        """What the care-relationship rule (``carethread.relationships``) looks at."""
        return Caller(
            sub=self.sub,
            org=self.org,
            roles=self.roles,
            teams=self.teams,
            neighbourhoods=self.neighbourhoods,
        )


_CACHE_SECONDS = 60.0
_CACHE_SIZE = 10_000


class InvalidToken(Exception):
    pass


def mint_token(
    key: rsa.RSAPrivateKey,
    settings: AuthSettings,
    *,
    sub: str,
    org: str,
    roles: Sequence[str],
    teams: Sequence[str] = (),
    neighbourhoods: Sequence[str] = (),
    boroughs: Sequence[str] = (),
    name: str | None = None,
    ttl: timedelta = timedelta(hours=8),
) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": sub,
        "name": name or sub,
        "org": org,
        "roles": list(roles),
        "teams": list(teams),
        "neighbourhoods": list(neighbourhoods),
        "boroughs": list(boroughs),
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": DEV_KEY_ID})


def mint_dev_token(settings: AuthSettings, **claims: Any) -> str:
    return mint_token(load_or_create_dev_key(settings.dev_key_path), settings, **claims)


class TokenVerifier:
    """Verifies RS256 tokens against a JWKS: the identity provider's (``jwks_url``) or, in
    development, the one derived from the dev key."""

    def __init__(self, settings: AuthSettings, *, jwks: dict[str, Any] | None = None) -> None:
        self._settings = settings
        self._client: jwt.PyJWKClient | None = None
        self._keys: dict[str, Any] = {}
        self._verified: dict[str, tuple[float, Principal]] = {}
        if jwks is not None:
            self._load(jwks)
        elif settings.jwks_url:
            self._client = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300)
        else:
            self._load(jwks_for(load_or_create_dev_key(settings.dev_key_path)))

    @property
    def uses_dev_key(self) -> bool:
        return self._client is None

    def _load(self, jwks: dict[str, Any]) -> None:
        for jwk in jwt.PyJWKSet.from_dict(jwks).keys:
            self._keys[jwk.key_id or ""] = jwk.key

    def _key_for(self, token: str) -> Any:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        kid = jwt.get_unverified_header(token).get("kid", "")
        if kid not in self._keys:
            raise InvalidToken("the token was signed by an unknown key")
        return self._keys[kid]

    def verify(self, token: str) -> Principal:
        """The token's principal; a token verified before is answered from memory until a
        minute has passed or it expires, whichever is sooner (a busy client sends the same
        token thousands of times, and an RSA verification is the dearest step of a request)."""
        now = time.monotonic()
        cached = self._verified.get(token)
        if cached is not None and cached[0] > now:
            return cached[1]
        principal, expires_at = self._verify(token)
        if len(self._verified) >= _CACHE_SIZE:
            self._verified.clear()  # simple and bounded; a busy service refills it at once
        lifetime = min(_CACHE_SECONDS, expires_at - time.time())
        self._verified[token] = (now + lifetime, principal)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=["RS256"],
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as e:
            raise InvalidToken("the token has expired") from e
        except (jwt.PyJWTError, ValueError) as e:
            raise InvalidToken(f"the token is not valid: {e}") from e
        principal = Principal(
            sub=claims["sub"],
            name=claims.get("name"),
            org=claims.get("org"),
            roles=frozenset(claims.get("roles", [])),
            teams=frozenset(claims.get("teams", [])),
            neighbourhoods=frozenset(claims.get("neighbourhoods", [])),
            boroughs=frozenset(claims.get("boroughs", [])),
        )
        return principal, float(claims["exp"])
