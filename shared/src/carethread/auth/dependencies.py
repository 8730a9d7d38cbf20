"""FastAPI dependencies: ``CurrentUser`` and ``require_roles``."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from carethread.auth.tokens import InvalidToken, Principal, TokenVerifier
from carethread.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="A CareThread JWT (`carethread token`)")


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.")
    verifier: TokenVerifier = request.app.state.runtime.verifier
    try:
        return verifier.verify(credentials.credentials)
    except InvalidToken as e:
        raise Unauthorized(str(e)) from e


CurrentUser = Annotated[Principal, Depends(authenticate)]


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that lets through callers holding any of ``roles``."""

    async def check(user: CurrentUser) -> Principal:
        if not user.has_any_role(roles):
            raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
        return user

    return check
