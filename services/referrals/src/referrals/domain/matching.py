"""Seeing a person's other referrals at the door ("tell my story once").

Referrals for the same person are linked: by NHS number when there is one, otherwise by a
documented demographic match — the same normalised given name, family name, date of birth
and postcode, all four present. A linked referral that is still open, came in within
``DUPLICATE_WINDOW`` and shares a reason is flagged as a *probable duplicate*: shown to the
triager, never merged automatically.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from referrals.domain.lifecycle import OPEN, Status

DUPLICATE_WINDOW = timedelta(days=30)


class MatchedOn(StrEnum):
    NHS_NUMBER = "nhs_number"
    DEMOGRAPHICS = "demographics"


class LinkKind(StrEnum):
    SAME_PERSON = "same_person"
    PROBABLE_DUPLICATE = "probable_duplicate"


@dataclass(frozen=True)
class DemographicKey:
    given: str
    family: str
    birth_date: date
    postcode: str


def _name(value: str) -> str:
    # "Zoë O'Brien-Smith" and "zoe obrien smith" are the same name for matching.
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower())


def demographic_key(
    given: str, family: str, birth_date: date | None, postcode: str | None
) -> DemographicKey | None:
    """The match key, or None when any part is missing (no match is better than a wrong one)."""
    if birth_date is None or not postcode:
        return None
    g, f, p = _name(given), _name(family), re.sub(r"\s", "", postcode.upper())
    if not (g and f and p):
        return None
    return DemographicKey(g, f, birth_date, p)


@dataclass(frozen=True)
class Candidate:
    """Another referral for (possibly) the same person."""

    referral_id: object
    status: Status
    received_at: datetime
    reason_codes: tuple[str, ...]


def link_kind(new_reasons: tuple[str, ...], received_at: datetime, other: Candidate) -> LinkKind:
    recent = received_at - other.received_at <= DUPLICATE_WINDOW
    shared = bool(set(new_reasons) & set(other.reason_codes))
    if other.status in OPEN and recent and shared:
        return LinkKind.PROBABLE_DUPLICATE
    return LinkKind.SAME_PERSON
