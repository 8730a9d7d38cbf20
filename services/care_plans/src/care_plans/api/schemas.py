"""Request and response bodies (apart from the table models and the plan document)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from care_plans.domain.document import AboutMe, Action, PlanDocument
from carethread.nhs import normalise_nhs_number

NhsNumber = Annotated[str, AfterValidator(normalise_nhs_number)]


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonCreate(ApiModel):
    """A person recorded here, for a plan that starts without a referral."""

    nhs_number: NhsNumber | None = Field(None, description="10 digits, Modulus 11; optional")
    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    birth_date: date | None = None
    sex: Literal["male", "female", "other", "unknown"] | None = None
    postcode: str | None = Field(None, max_length=10)
    gp_practice_code: str | None = Field(None, max_length=10, description="ODS code")
    preferred_language: str | None = Field(None, max_length=20)
    interpreter_needed: bool = False
    phone: str | None = Field(None, max_length=50)
    email: str | None = Field(None, max_length=200)


class MergedRecord(BaseModel):
    """A record kept under an id the front door merged into this person's while both had a
    record here: its care team combines it into this one (``merged-records``)."""

    person_id: uuid.UUID = Field(description="the merged id the record is kept under")
    plan_id: uuid.UUID
    plan_version: int
    merged_at: datetime
    combined_at: datetime | None = None
    combined_by: str | None = None


class PersonRead(BaseModel):
    id: uuid.UUID
    nhs_number: str | None
    given_name: str
    family_name: str
    birth_date: date | None
    sex: str | None
    postcode: str | None
    gp_practice_code: str | None
    neighbourhood: str | None
    borough: str | None
    preferred_language: str | None
    interpreter_needed: bool
    phone: str | None
    email: str | None
    recorded_from: str
    created_at: datetime
    updated_at: datetime
    about_me: AboutMe
    plan_id: uuid.UUID
    plan_version: int
    relationship: str
    records_to_combine: list[MergedRecord] = Field(
        default_factory=list, description="kept records of this person awaiting combining"
    )


class ActionRead(Action):
    overdue: bool = Field(description="open, and its due date has passed")


class PlanMeta(BaseModel):
    plan_id: uuid.UUID
    person_id: uuid.UUID
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by: str
    updated_by_org: str | None
    relationship: str = Field(description="why you may see it: care_team, open_referral, ...")
    records_to_combine: list[MergedRecord] = Field(
        default_factory=list,
        description="on reads: records kept under ids merged into this person's, to combine",
    )
    merged_into: uuid.UUID | None = Field(
        None, description="a kept record: the person id it was merged into (read-only)"
    )


class PlanRead(PlanDocument):
    """The plan document (what PUT replaces and PATCH merges into) and, in ``meta``, its
    version and who saved it; ``overdue`` on each action is computed. Both are read-only and
    ignored if sent back."""

    actions: list[ActionRead]  # type: ignore[assignment]
    meta: PlanMeta  # type: ignore[assignment]


class VersionRead(BaseModel):
    version: int
    changed_by: str
    changed_by_name: str | None
    organisation: str | None
    role: str | None
    changed_at: datetime
    reason: str | None
    changes: list[dict[str, str]] = Field(description="[{path (JSON Pointer), op}]")


class ChangeRead(BaseModel):
    path: str
    op: Literal["added", "removed", "changed"]
    before: Any = None
    after: Any = None


class DiffRead(BaseModel):
    person_id: uuid.UUID
    from_version: int
    to_version: int
    changes: list[ChangeRead]


class BreakGlassIn(ApiModel):
    reason: str = Field(
        min_length=10,
        max_length=2_000,
        description="why you need this record without a relationship",
    )


class AccessLogEntry(BaseModel):
    at: datetime
    actor: str
    organisation: str | None
    roles: list[str]
    action: str
    resource_type: str
    purpose: str
    outcome: str
    break_glass: bool
    reason: str | None


class AccessLog(BaseModel):
    person_id: uuid.UUID
    entries: list[AccessLogEntry]


class OverdueSweep(BaseModel):
    announced: int
