"""Authentication (JWT against a JWKS), roles and the audit writer."""

from carethread.auth.audit import record_access
from carethread.auth.dependencies import CurrentUser, authenticate, require_roles
from carethread.auth.tokens import InvalidToken, Principal, TokenVerifier, mint_dev_token

__all__ = [
    "CurrentUser",
    "InvalidToken",
    "Principal",
    "TokenVerifier",
    "authenticate",
    "mint_dev_token",
    "record_access",
    "require_roles",
]
