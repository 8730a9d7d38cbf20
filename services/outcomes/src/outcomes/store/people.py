"""The outcomes copy of each person: demographics for breakdowns, PLUS groups, opt-outs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from carethread.db import UnitOfWork
from carethread.events.referrals import PersonDetails
from outcomes.domain.population import declared_flags, plus_groups
from outcomes.store.rows import Rows
from outcomes.store.tables import DataOptOutRow, PersonRow

CARERS_REASON = "carers"


def note_reasons(row: PersonRow, reason_codes: Sequence[str]) -> None:
    """A referral for carers' support makes the person a carer (a PLUS group) for good."""
    if CARERS_REASON in reason_codes and not row.referred_as_carer:
        row.referred_as_carer = True
        refresh_groups(row)


@dataclass(frozen=True)
class Details:
    """What a person event (or a referral's summary) says about someone."""

    birth_date: date | None = None
    sex: str | None = None
    ethnicity_code: str | None = None
    borough: str | None = None
    neighbourhood: str | None = None
    lsoa: str | None = None
    imd_quintile: int | None = None
    gp_practice_code: str | None = None
    has_nhs_number: bool = False
    declared_groups: Sequence[str] = ()


DERIVED_GROUPS = ("inclusion_health", "carer")


def from_event(p: PersonDetails) -> tuple[Details, bool | None]:
    """What a person event's details say, and its opt-out flag (None: it says nothing)."""
    groups, opted_out = declared_flags(p.model_extra)
    details = Details(
        birth_date=p.birth_date,
        sex=p.sex,
        ethnicity_code=p.ethnicity_code,
        borough=p.borough,
        neighbourhood=p.neighbourhood,
        lsoa=p.lsoa,
        imd_quintile=p.imd_quintile,
        gp_practice_code=p.gp_practice_code,
        has_nhs_number=p.nhs_number is not None,
        declared_groups=groups,
    )
    return details, opted_out


def declared_groups(row: PersonRow) -> list[str]:
    """The PLUS groups a person event declared (not those derived here)."""
    return [g for g in row.plus_groups or [] if g not in DERIVED_GROUPS]


def refresh_groups(row: PersonRow, declared: Sequence[str] | None = None) -> None:
    """Recompute the PLUS groups from everything known, whatever order it came in;
    ``declared`` (from a person event) replaces the groups declared before."""
    groups = plus_groups(
        registered_with_gp=row.gp_practice_code is not None,
        declared=declared_groups(row) if declared is None else declared,
        referred_as_carer=row.referred_as_carer,
    )
    row.plus_groups = groups
    row.in_plus_group = bool(groups)


def apply_details(
    rows: Rows,
    person_id: uuid.UUID,
    details: Details,
    *,
    changed_at: datetime,
    authoritative: bool = True,
) -> PersonRow:
    """Record a person's details. A person event (``authoritative``) replaces what we had
    unless an event at least as new was applied; a referral's summary only fills in a
    person we have not heard of."""
    row = ensure(rows, person_id, changed_at)
    if not authoritative and not _placeholder(row):
        return row  # a summary only fills in someone we know nothing about yet
    if row.details_changed_at is not None and changed_at <= row.details_changed_at:
        return row  # we know better already (or this is a repeat)
    row.birth_date = details.birth_date
    row.sex = details.sex
    row.ethnicity_code = details.ethnicity_code.upper() if details.ethnicity_code else None
    row.borough = details.borough
    row.neighbourhood = details.neighbourhood
    row.lsoa = details.lsoa
    row.imd_quintile = details.imd_quintile
    row.gp_practice_code = details.gp_practice_code
    row.has_nhs_number = details.has_nhs_number
    if authoritative:
        row.details_changed_at = changed_at
    refresh_groups(row, details.declared_groups if authoritative else None)
    return row


def _placeholder(row: PersonRow) -> bool:
    return row.details_changed_at is None and all(
        v is None for v in (row.birth_date, row.borough, row.neighbourhood, row.imd_quintile)
    )


def ensure(rows: Rows, person_id: uuid.UUID, at: datetime) -> PersonRow:
    """The person's row; for someone an event mentions before the front door has told us
    about them, a row with no details yet (they fill it in when they come)."""
    row = rows.find(PersonRow, person_id)
    if row is None:
        row = PersonRow(
            person_id=person_id,
            plus_groups=[],
            referred_as_carer=False,
            social_prescribed=False,
            has_care_plan=False,
            first_seen_at=at,
        )
        rows.add(row, person_id)
    else:
        row.first_seen_at = min(row.first_seen_at, at)
    return row


def set_opt_out(rows: Rows, person_id: uuid.UUID, opted_out: bool, at: datetime) -> None:
    row = rows.find(DataOptOutRow, person_id)
    if opted_out and row is None:
        rows.add(DataOptOutRow(person_id=person_id, recorded_at=at, source="event"), person_id)
    elif not opted_out and row is not None:
        rows.delete(DataOptOutRow, person_id)


async def get(uow: UnitOfWork, person_id: uuid.UUID) -> PersonRow | None:
    return await uow.session.get(PersonRow, person_id)
