"""The person a referral is about, as the front door records them.

The front door is where most people first enter the platform, so it announces each person to
the other services (``person registered``) and announces what a later referral changes
(``person updated``). Merging keeps what is known: a later referral that leaves a detail out
does not erase it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from datetime import date
from enum import StrEnum
from typing import Any


class Sex(StrEnum):
    """FHIR administrative gender, as EPRs send it."""

    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


# NHS Data Dictionary "Ethnic Category" (2001 census categories, as UK Core's
# EthnicCategoryEngland code system); the letter is what travels, the group drives breakdowns.
ETHNIC_CATEGORIES: dict[str, tuple[str, str]] = {
    "A": ("White - British", "White"),
    "B": ("White - Irish", "White"),
    "C": ("White - Any other White background", "White"),
    "D": ("Mixed - White and Black Caribbean", "Mixed"),
    "E": ("Mixed - White and Black African", "Mixed"),
    "F": ("Mixed - White and Asian", "Mixed"),
    "G": ("Mixed - Any other mixed background", "Mixed"),
    "H": ("Asian or Asian British - Indian", "Asian or Asian British"),
    "J": ("Asian or Asian British - Pakistani", "Asian or Asian British"),
    "K": ("Asian or Asian British - Bangladeshi", "Asian or Asian British"),
    "L": ("Asian or Asian British - Any other Asian background", "Asian or Asian British"),
    "M": ("Black or Black British - Caribbean", "Black or Black British"),
    "N": ("Black or Black British - African", "Black or Black British"),
    "P": ("Black or Black British - Any other Black background", "Black or Black British"),
    "R": ("Other Ethnic Groups - Chinese", "Other ethnic groups"),
    "S": ("Other Ethnic Groups - Any other ethnic group", "Other ethnic groups"),
    "Z": ("Not stated", "Not stated"),
}


@dataclass(frozen=True)
class Person:
    person_id: uuid.UUID
    nhs_number: str | None
    given_name: str
    family_name: str
    birth_date: date | None
    postcode: str | None
    gp_practice_code: str | None
    sex: Sex | None = None
    gender_identity: str | None = None
    ethnicity_code: str | None = None
    preferred_language: str | None = None  # BCP 47, e.g. "tr", "so", "bfi"
    interpreter_needed: bool = False
    phone: str | None = None
    email: str | None = None


# What a referral may leave out without erasing what an earlier one said; the person id and
# the name are always given.
_KEPT_WHEN_MISSING = frozenset(
    f.name for f in fields(Person) if f.name not in ("person_id", "given_name", "family_name")
)


def merged(known: Person, incoming: Person) -> tuple[Person, list[str]]:
    """``known`` updated with what ``incoming`` says, and the names of the fields that moved.

    A missing value (None) keeps the known one; ``interpreter_needed`` only ever turns on from
    a referral, since a referral that does not mention it is no evidence that it has ended.
    """
    changes: dict[str, Any] = {}
    for f in fields(Person):
        if f.name == "person_id":
            continue
        new = getattr(incoming, f.name)
        old = getattr(known, f.name)
        if f.name in _KEPT_WHEN_MISSING and new in (None, False):
            continue
        if new != old:
            changes[f.name] = new
    return replace(known, **changes), sorted(changes)
