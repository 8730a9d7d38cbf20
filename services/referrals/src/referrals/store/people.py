"""The person record the front door keeps, one row per person id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from carethread.db import UnitOfWork
from referrals.domain.person import Person, Sex
from referrals.store.tables import PersonRow, ReferralRow

PERSON_FIELDS = (
    "nhs_number",
    "given_name",
    "family_name",
    "birth_date",
    "sex",
    "gender_identity",
    "postcode",
    "gp_practice_code",
    "ethnicity_code",
    "preferred_language",
    "interpreter_needed",
    "phone",
    "email",
)


def person_columns(person: Person) -> dict[str, object]:
    """The person's columns, as the person table and each referral row store them."""
    return {
        "nhs_number": person.nhs_number,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "birth_date": person.birth_date,
        "sex": person.sex.value if person.sex else None,
        "gender_identity": person.gender_identity,
        "postcode": person.postcode,
        "gp_practice_code": person.gp_practice_code,
        "ethnicity_code": person.ethnicity_code,
        "preferred_language": person.preferred_language,
        "interpreter_needed": person.interpreter_needed,
        "phone": person.phone,
        "email": person.email,
    }


def from_row(row: PersonRow | ReferralRow | Row[Any]) -> Person:
    """The person from their row, or as a referral recorded them."""
    return Person(
        person_id=row.person_id,
        nhs_number=row.nhs_number,
        given_name=row.given_name,
        family_name=row.family_name,
        birth_date=row.birth_date,
        postcode=row.postcode,
        gp_practice_code=row.gp_practice_code,
        sex=Sex(row.sex) if row.sex else None,
        gender_identity=row.gender_identity,
        ethnicity_code=row.ethnicity_code,
        preferred_language=row.preferred_language,
        interpreter_needed=bool(row.interpreter_needed),
        phone=row.phone,
        email=row.email,
    )


@dataclass(frozen=True)
class Stored:
    """The person as their row holds them, its version, and whether this call created it."""

    person: Person
    version: int
    created: bool


# Core statements on the person table, built once: intake reads the row back only to merge
# what the referral says, so it needs no ORM object (and no identity map to keep).
PERSON = cast(Table, PersonRow.__table__)
_PERSON = PERSON
_INSERT_PERSON = postgres_insert(_PERSON)
# One round trip: the no-op update locks an existing row; xmax = 0 only on a fresh one.
_UPSERT_AND_LOCK = _INSERT_PERSON.on_conflict_do_update(
    index_elements=[_PERSON.c.person_id],
    set_={"person_id": _INSERT_PERSON.excluded.person_id},
).returning(*_PERSON.c, literal_column("xmax = 0").label("inserted"))
_INSERT_IF_NEW = (
    sqlite_insert(_PERSON)
    .on_conflict_do_nothing(index_elements=[_PERSON.c.person_id])
    .returning(_PERSON.c.person_id)
)
_BY_ID = select(_PERSON).where(_PERSON.c.person_id == bindparam("person_id"))
_UPDATE = (
    update(_PERSON)
    .where(_PERSON.c.person_id == bindparam("the_person_id"))
    .values(
        version=_PERSON.c.version + 1,
        updated_at=bindparam("new_updated_at"),
        # A SET clause's bound values may not be named after columns.
        **{name: bindparam(f"new_{name}") for name in PERSON_FIELDS},
    )
)


async def save_changes(uow: UnitOfWork, person: Person, now: datetime) -> None:
    """Write what the person record now says; its version moves on by one."""
    values = {f"new_{name}": value for name, value in person_columns(person).items()}
    await uow.session.execute(
        _UPDATE, {"the_person_id": person.person_id, "new_updated_at": now, **values}
    )


async def insert_or_lock(uow: UnitOfWork, person: Person, now: datetime) -> Stored:
    """The person as stored, their row locked until commit, and whether this call created it.

    Two referrals for the same new person may arrive at once: the second's insert meets the
    first's row, waits for it (PostgreSQL's row lock; SQLite's single writer) and so sees an
    update, never a clash.
    """
    values = {
        "person_id": person.person_id,
        "version": 1,
        "updated_at": now,
        **person_columns(person),
    }
    if uow.is_postgres:
        row = (await uow.session.execute(_UPSERT_AND_LOCK, values)).one()
        return Stored(from_row(row), row.version, bool(row.inserted))
    created = (await uow.session.execute(_INSERT_IF_NEW, values)).first() is not None
    existing = (await uow.session.execute(_BY_ID, {"person_id": person.person_id})).one()
    return Stored(from_row(existing), existing.version, created)
