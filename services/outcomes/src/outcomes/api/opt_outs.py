"""``/api/v1/data-opt-outs``: the national data opt-out list, as the data controller's
latest check with the national service returned it.

How the flag arrives, two ways, either enough:
- a person event from the front door may carry ``national_data_opt_out: true|false`` in
  its ``person`` (an optional field beyond the schema, applied when present);
- an administrator (or the job that checks the list against the national service) PUTs
  the whole list of NHS numbers (or person ids for people without one); it replaces the
  last list (flags from events stay). Only person ids are kept: an NHS number becomes the
  platform's person id.
Opted-out people are left out of every population indicator, never out of their care.
"""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import delete, select

from carethread.auth import record_access
from carethread.errors import InvalidInput
from carethread.nhs import is_valid_nhs_number, person_id_for_nhs_number
from carethread.service import UoWDep
from outcomes.api.dependencies import Admin, Now
from outcomes.api.schemas import OptOutList, OptOutReceipt
from outcomes.store.pending import refresh_opt_outs_on_commit
from outcomes.store.tables import DataOptOutRow

router = APIRouter(prefix="/api/v1/data-opt-outs", tags=["data opt-outs"])
LIST = "list"


@router.put("", response_model=OptOutReceipt)
async def replace_opt_outs(body: OptOutList, uow: UoWDep, user: Admin, now: Now) -> OptOutReceipt:
    bad = [i for i, n in enumerate(body.nhs_numbers) if not is_valid_nhs_number(n)]
    if bad:
        raise InvalidInput(
            f"{len(bad)} invalid NHS numbers; nothing was changed",
            errors=[
                {
                    "field": f"nhs_numbers.{i}",
                    "in": "body",
                    "pointer": f"#/nhs_numbers/{i}",
                    "message": "not a valid NHS number (10 digits, Modulus 11)",
                    "type": "value_error",
                }
                for i in bad[:20]
            ],
        )
    people = {person_id_for_nhs_number(n) for n in body.nhs_numbers} | set(body.person_ids)
    listed_before = set(
        await uow.session.scalars(
            select(DataOptOutRow.person_id).where(DataOptOutRow.source == LIST)
        )
    )
    await uow.session.execute(delete(DataOptOutRow).where(DataOptOutRow.source == LIST))
    flagged = set(await uow.session.scalars(select(DataOptOutRow.person_id)))
    uow.session.add_all(
        DataOptOutRow(person_id=p, recorded_at=now, source=LIST) for p in sorted(people - flagged)
    )
    await record_access(
        uow,
        user,
        service="outcomes",
        action="update",
        resource_type="DataOptOutList",
        resource_id=None,
        person_id=None,
        purpose="information-governance",
        details={"opted_out": len(people)},
    )
    # Everyone who came off or onto the list: their units' opt-out copies change.
    refresh_opt_outs_on_commit(uow, listed_before | people)
    await uow.commit()
    return OptOutReceipt(opted_out=len(people))
