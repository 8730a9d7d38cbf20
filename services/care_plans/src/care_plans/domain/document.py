"""The plan document: one person's shared record, shaped by the PRSB standards.

"About me" follows the headings of the PRSB About Me standard (v2); the rest follows the PRSB
Personalised Care and Support Plan: my story, strengths, needs with goals and actions, contacts,
the care team across organisations, the contingency and safety plan, who agreed it and when it
is reviewed. The document is a value: it is validated here, stored whole with each version and
compared between versions; the rules that relate its parts live in ``rules.py``.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Words = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
OdsCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=20)]


class Part(BaseModel):
    # A typo in a field name must not silently drop part of someone's plan.
    model_config = ConfigDict(extra="forbid")


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class ImportantPerson(Part):
    """Someone important to the person: family, friends, carers."""

    id: uuid.UUID = Field(default_factory=new_id)
    name: Name
    relationship: Short = ""
    is_carer: bool = False
    contact: Short = ""
    consent_to_involve: bool = Field(
        False, description="the person agrees this person may be involved in their care"
    )


class Communication(Part):
    """How I communicate and how to communicate with me."""

    language: Short = Field("", description="preferred language, e.g. ISO 639-1 'tr'")
    interpreter_needed: bool = False
    accessible_formats: list[Short] = Field(
        default_factory=list, description="e.g. easy read, large print, BSL, Makaton"
    )
    how_to_communicate_with_me: Text = ""


class AboutMe(Part):
    """PRSB About Me (v2): in the person's own words."""

    what_matters_to_me: Text = Field("", description="What is most important to me")
    people_important_to_me: list[ImportantPerson] = Field(default_factory=list)
    communication: Communication = Field(default_factory=Communication)
    my_wellness: Text = ""
    please_do: list[Text] = Field(default_factory=list)
    please_dont: list[Text] = Field(default_factory=list)
    how_and_when_to_support_me: Text = ""
    also_worth_knowing_about_me: Text = ""
    supported_to_write_this_by: Short = ""
    date_updated: date | None = Field(None, description="set when 'about me' last changed")


class Need(Part):
    """A need or concern, as the person puts it."""

    id: uuid.UUID = Field(default_factory=new_id)
    description: Words
    category: Short = Field("", description="a social-needs or SNOMED CT code")


class GoalStatus(StrEnum):
    PROPOSED = "proposed"
    IN_PROGRESS = "in_progress"
    ACHIEVED = "achieved"
    NOT_ACHIEVED = "not_achieved"
    CANCELLED = "cancelled"


class Goal(Part):
    """A goal or hope, in the person's words."""

    id: uuid.UUID = Field(default_factory=new_id)
    need_id: uuid.UUID | None = None
    description: Words
    importance: int | None = Field(None, ge=0, le=10, description="0-10, as the person rates it")
    status: GoalStatus = GoalStatus.PROPOSED
    target_date: date | None = None
    outcome_measures: list[Short] = Field(
        default_factory=list, description="linked measures, e.g. ONS4, SWEMWBS, GAS"
    )


class ActionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN_ACTION = frozenset({ActionStatus.PLANNED, ActionStatus.IN_PROGRESS})


class Action(Part):
    """What will be done, by whom (a care-team member), by when."""

    id: uuid.UUID = Field(default_factory=new_id)
    goal_id: uuid.UUID | None = None
    description: Words
    owner: uuid.UUID = Field(
        description="the care-team member (person or organisation) who owns it"
    )
    due_date: date | None = None
    status: ActionStatus = ActionStatus.PLANNED
    # Read-only: computed on every read; accepted (so a read can be sent back) and ignored.
    overdue: bool | None = Field(None, exclude=True)


class ContactKind(StrEnum):
    PROFESSIONAL = "professional"
    PERSONAL = "personal"


class Contact(Part):
    id: uuid.UUID = Field(default_factory=new_id)
    kind: ContactKind
    name: Name
    role: Short = ""
    organisation: Short = ""
    phone: Short = ""
    email: Short = ""


class CareTeamMember(Part):
    """A member of the care team: a practitioner or a team, in an organisation."""

    id: uuid.UUID = Field(default_factory=new_id)
    name: Name
    role: Short = ""
    organisation: OdsCode | None = Field(None, description="ODS code")
    organisation_name: Short = ""
    team: Short | None = Field(None, description="team id: members of this team may use the record")
    practitioner: Short | None = Field(None, description="the practitioner's user id")
    key_worker: bool = Field(False, description="key worker / lead professional")
    referral_id: uuid.UUID | None = Field(
        None, description="joined when this referral was accepted"
    )


class ContingencyPlan(Part):
    """What to do if things go wrong: crisis and safety planning."""

    trigger_factors: list[Text] = Field(default_factory=list)
    what_should_happen: Text = ""
    who_to_contact: list[Text] = Field(default_factory=list)
    safety_plan: Text = ""


class Agreement(Part):
    agreed_with: Short = Field("", description="the person, or who agreed on their behalf")
    agreed_on: date | None = None


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETED = "completed"


class PlanDocument(Part):
    """Everything PUT replaces and PATCH (RFC 7396) merges into."""

    status: PlanStatus = PlanStatus.DRAFT
    about_me: AboutMe = Field(default_factory=AboutMe)
    story: Text = Field("", description="my story, in my words")
    strengths: list[Text] = Field(default_factory=list)
    needs: list[Need] = Field(default_factory=list)
    goals: list[Goal] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    care_team: list[CareTeamMember] = Field(default_factory=list)
    contingency_plan: ContingencyPlan = Field(default_factory=ContingencyPlan)
    agreed: Agreement = Field(default_factory=Agreement)
    review_date: date | None = None
    review_responsible: uuid.UUID | None = Field(
        None, description="the care-team member responsible for the review"
    )
    # Read-only: the version and who saved it; accepted (so a read can be sent back), ignored.
    meta: dict[str, Any] | None = Field(None, exclude=True)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def member(self, member_id: uuid.UUID) -> CareTeamMember | None:
        return next((m for m in self.care_team if m.id == member_id), None)

    def key_worker(self) -> CareTeamMember | None:
        return next((m for m in self.care_team if m.key_worker), None)
