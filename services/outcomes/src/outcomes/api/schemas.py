"""Request and response models of the outcomes API (apart from the table models)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

CONTEXT_KINDS = ("referral_id", "social_prescription", "review")


class MeasureContext(BaseModel):
    """Where the measure was taken: exactly one of a referral, a social prescription or a
    review (of a care plan or goal), by its id."""

    model_config = ConfigDict(extra="forbid")

    referral_id: uuid.UUID | None = None
    social_prescription: str | None = Field(default=None, min_length=1, max_length=100)
    review: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def exactly_one(self) -> Self:
        given = [k for k in CONTEXT_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of referral_id, social_prescription or review "
                f"(got {', '.join(given) or 'none'})"
            )
        return self

    @property
    def kind(self) -> str:
        return "referral" if self.referral_id is not None else self._named()[0]

    @property
    def id(self) -> str:
        return str(self.referral_id) if self.referral_id is not None else self._named()[1]

    def _named(self) -> tuple[str, str]:
        if self.social_prescription is not None:
            return "social_prescription", self.social_prescription
        assert self.review is not None
        return "review", self.review


class MeasureCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "person_id": "6f1c7a52-33c2-5b8e-9d0a-2b8f4e1c9a10",
                    "instrument": "swemwbs",
                    "answers": [4, 3, 4, 4, 3, 4, 3],
                    "context": {"referral_id": "0b7e4f4e-8a4c-4a51-9a53-0f3f1c2a7d11"},
                }
            ]
        },
    )

    person_id: uuid.UUID
    instrument: str = Field(
        max_length=30, description="ons4 | swemwbs | gad7 | phq9 | gas | pam | eq5d"
    )
    answers: list[float] = Field(
        default_factory=list,
        max_length=50,
        description="item answers in the instrument's published order (gas: one level per goal)",
    )
    scores: dict[str, float] | None = Field(
        default=None,
        max_length=5,
        description="externally computed scores: pam {score, level}; eq5d {index, vas}",
    )
    weights: list[float] | None = Field(default=None, max_length=50, description="gas weights")
    goal_ids: list[uuid.UUID] | None = Field(default=None, max_length=50)
    context: MeasureContext
    recorded_at: AwareDatetime | None = Field(
        default=None,
        description="when it was taken, with its time zone; now if left out; never in the future",
    )


class ScoreOut(BaseModel):
    scale: str
    value: float
    band: str | None = None


class ContextOut(BaseModel):
    kind: str
    id: str | None


class MeasureRead(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    instrument: str
    answers: list[float]
    scores: list[ScoreOut]
    score: dict[str, float] = Field(description="each scale's score by name, e.g. raw and metric")
    context: ContextOut
    recorded_at: datetime
    recorded_by: str
    recorded_by_name: str | None
    recorded_by_org: str | None


class MeasureReceipt(MeasureRead):
    event_id: uuid.UUID


class ChangeOut(BaseModel):
    scale: str
    before: float
    after: float
    change: float
    meaningful_change: float | None
    direction: str


class PairOut(BaseModel):
    instrument: str
    before_measure_id: uuid.UUID
    before_at: datetime
    after_measure_id: uuid.UUID
    after_at: datetime
    changes: list[ChangeOut]


class PersonMeasures(BaseModel):
    person_id: uuid.UUID
    measures: list[MeasureRead]
    pairs: list[PairOut]


class OptOutList(BaseModel):
    """The people who have registered a national data opt-out, as the data controller's
    latest check against the national service returned them: the list replaces the last."""

    model_config = ConfigDict(extra="forbid")

    nhs_numbers: list[str] = Field(default_factory=list, max_length=100_000)
    person_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100_000)
    checked_on: date | None = None


class OptOutReceipt(BaseModel):
    opted_out: int
