"""Changes a VCSE organisation proposes to its own listing: pending until a curator approves
(the change is applied) or rejects it (nothing changes)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from directory.domain.listing import ListingRefused


class ProposalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def decide(status: ProposalStatus, *, approve: bool) -> ProposalStatus:
    if status is not ProposalStatus.PENDING:
        raise ListingRefused(f"The proposal was {status.value} already.")
    return ProposalStatus.APPROVED if approve else ProposalStatus.REJECTED


def speaks_for(caller_org: str | None, organization_keys: Iterable[str]) -> bool:
    """Whether the caller's organisation (the token's ``org``) is the listing's: its id or
    one of its identifiers (charity or company number, ODS code)."""
    if not caller_org:
        return False
    wanted = caller_org.strip().casefold()
    return any(wanted == key.strip().casefold() for key in organization_keys if key)
