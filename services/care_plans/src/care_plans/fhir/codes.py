"""Systems, profiles and code maps the facade speaks."""

from __future__ import annotations

FHIR_JSON = "application/fhir+json"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fds.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
LANGUAGE = "urn:ietf:bcp:47"
INTERPRETER_REQUIRED = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
CARE_PLAN_ID = "https://carethread.example/Id/care-plan"
PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"

# Our plan status -> CarePlan.status, and back (anything else leaves ours alone).
PLAN_STATUS = {"draft": "draft", "active": "active", "completed": "completed"}
# Our action status -> CarePlan.activity.detail.status, and back.
ACTIVITY_STATUS = {
    "planned": "not-started",
    "in_progress": "in-progress",
    "completed": "completed",
    "cancelled": "cancelled",
}
ACTIVITY_STATUS_IN = {
    **{v: k for k, v in ACTIVITY_STATUS.items()},
    "scheduled": "planned",
    "on-hold": "in_progress",
    "stopped": "cancelled",
    "unknown": "planned",
}
# Our goal status -> (Goal.lifecycleStatus, Goal.achievementStatus code or None).
GOAL_STATUS = {
    "proposed": ("proposed", None),
    "in_progress": ("active", "in-progress"),
    "achieved": ("completed", "achieved"),
    "not_achieved": ("completed", "not-achieved"),
    "cancelled": ("cancelled", None),
}
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
GOAL_PRIORITY = "http://terminology.hl7.org/CodeSystem/goal-priority"

# The required (closed) value sets of the elements the facade reads: the R4B models check
# structure, not these codes.
REQUIRED_CODES: dict[str, dict[str, frozenset[str]]] = {
    "CarePlan": {
        "status": frozenset(
            {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
        ),
        "intent": frozenset({"proposal", "plan", "order", "option"}),
    },
    "CareTeam": {
        "status": frozenset({"proposed", "active", "suspended", "inactive", "entered-in-error"}),
    },
}
ACTIVITY_STATUSES = frozenset(
    {
        "not-started",
        "scheduled",
        "in-progress",
        "on-hold",
        "completed",
        "cancelled",
        "stopped",
        "unknown",
        "entered-in-error",
    }
)
