"""Who a person is, put together from what each source last said about them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol


class ReferralDetails(Protocol):
    """What a referral's intake says about the person (the fallback for everything)."""

    @property
    def given_name(self) -> str: ...
    @property
    def family_name(self) -> str: ...
    @property
    def birth_date(self) -> date | None: ...
    @property
    def has_nhs_number(self) -> bool: ...
    @property
    def gp_practice_code(self) -> str | None: ...
    @property
    def imd_quintile(self) -> int | None: ...
    @property
    def neighbourhood(self) -> str | None: ...


@dataclass(frozen=True)
class Identity:
    given_name: str
    family_name: str
    birth_date: date | None
    has_nhs_number: bool
    gp_practice_code: str | None
    neighbourhood: str | None
    imd_quintile: int | None
    interpreter_needed: bool
    known: bool  # False when no source has described the person yet


UNKNOWN = Identity("", "", None, True, None, None, None, False, known=False)


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def identify(
    front_door: Mapping[str, Any] | None,
    care_record: Mapping[str, Any] | None,
    referral: ReferralDetails | None,
) -> Identity:
    """The front door's person details first (the fullest: deprivation, interpreter), then
    the shared care record's, then the latest referral's summary. Each source is already
    its own latest version, so the answer does not depend on which event came first."""
    if front_door is not None:
        return Identity(
            given_name=front_door["given_name"],
            family_name=front_door["family_name"],
            birth_date=_date(front_door.get("birth_date")),
            has_nhs_number=front_door.get("nhs_number") is not None,
            gp_practice_code=front_door.get("gp_practice_code"),
            neighbourhood=front_door.get("neighbourhood")
            or (care_record or {}).get("neighbourhood")
            or (referral.neighbourhood if referral else None),
            imd_quintile=front_door.get("imd_quintile"),
            interpreter_needed=bool(front_door.get("interpreter_needed")),
            known=True,
        )
    if care_record is not None:
        return Identity(
            given_name=care_record["given_name"],
            family_name=care_record["family_name"],
            birth_date=_date(care_record.get("birth_date")),
            has_nhs_number=bool(care_record.get("has_nhs_number")),
            gp_practice_code=care_record.get("gp_practice_code"),
            neighbourhood=care_record.get("neighbourhood")
            or (referral.neighbourhood if referral else None),
            imd_quintile=referral.imd_quintile if referral else None,
            interpreter_needed=False,
            known=True,
        )
    if referral is not None:
        return Identity(
            given_name=referral.given_name,
            family_name=referral.family_name,
            birth_date=referral.birth_date,
            has_nhs_number=referral.has_nhs_number,
            gp_practice_code=referral.gp_practice_code,
            neighbourhood=referral.neighbourhood,
            imd_quintile=referral.imd_quintile,
            interpreter_needed=False,
            known=True,
        )
    return UNKNOWN
