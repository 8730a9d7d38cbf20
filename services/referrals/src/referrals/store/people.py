"""The person record the front door keeps, one row per person id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Result, literal_column, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import ReturningInsert

from carethread.db import UnitOfWork
from referrals.domain.person import Person, Sex
from referrals.store.tables import PersonRow, ReferralRow


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


def from_row(row: PersonRow | ReferralRow) -> Person:
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


def update(row: PersonRow, person: Person, now: datetime) -> None:
    for name, value in person_columns(person).items():
        setattr(row, name, value)
    row.version += 1
    row.updated_at = now


# One round trip: the no-op update locks an existing row; xmax = 0 only on a fresh one. Built
# once: the ON CONFLICT clause's "excluded" alias is costly to make for every referral.
_INSERT_PERSON = postgres_insert(PersonRow)
_UPSERT_AND_LOCK: ReturningInsert[PersonRow, Any] = _INSERT_PERSON.on_conflict_do_update(
    index_elements=[PersonRow.person_id],
    set_={"person_id": _INSERT_PERSON.excluded.person_id},
).returning(PersonRow, literal_column("xmax = 0").label("inserted"))


async def insert_or_lock(uow: UnitOfWork, person: Person, now: datetime) -> tuple[PersonRow, bool]:
    """The person's row, locked until commit, and whether this call created it.

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
        found: Result[PersonRow, bool] = await uow.session.execute(
            _UPSERT_AND_LOCK, values, execution_options={"populate_existing": True}
        )
        row, inserted = found.one()
        return row, bool(inserted)
    created = await uow.session.execute(
        sqlite_insert(PersonRow)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[PersonRow.person_id])
        .returning(PersonRow.person_id)
    )
    was_created = created.first() is not None
    existing = await uow.session.scalar(
        select(PersonRow)
        .where(PersonRow.person_id == person.person_id)
        .execution_options(populate_existing=True)
    )
    assert existing is not None
    return existing, was_created
