"""Whether a directory service can take a referral routed from the front door."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Listing:
    """A directory service as the front door last heard of it."""

    name: str
    status: str  # active | withdrawn
    capacity: str  # accepting | waiting_list | full
    referral_route: str | None  # formal_referral | with_support | self_referral | signpost_only


def why_not_routable(listing: Listing) -> str | None:
    """None when the service can take the referral, else why not (for the triager)."""
    if listing.status == "withdrawn":
        return f"{listing.name} has been withdrawn from the directory"
    if listing.capacity == "full":
        return f"{listing.name} is full and takes no new referrals: choose another service"
    if listing.referral_route == "signpost_only":
        return f"{listing.name} takes no referrals (signpost only): signpost the person instead"
    return None
