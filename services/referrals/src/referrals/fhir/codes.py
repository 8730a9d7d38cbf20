"""Systems, profiles and the code maps between FHIR R4 (UK Core) and the front door's terms."""

from __future__ import annotations

from referrals.domain.lifecycle import Status
from referrals.domain.referral import Urgency

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"

# National identifier systems.
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_ORGANISATION = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"

# UK Core profiles and extensions.
UKCORE_SERVICE_REQUEST = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest"
UKCORE_TASK = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Task"
SOURCE_OF_SERVICE_REQUEST = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-SourceOfServiceRequest"
)
REFERRED_BY_GP = "108161000000109"  # Referred by general practitioner
ETHNIC_CATEGORY = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
# Interpreter needed: the core Patient extension, also used inside Patient.communication.
INTERPRETER_REQUIRED = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
# The earlier UK Core (and CareConnect) way: a complex extension on Patient.communication.
NHS_COMMUNICATION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSCommunication"
BCP47 = "urn:ietf:bcp:47"

# CareThread's own systems: the social-needs vocabulary (shared with the directory), the
# front door's statuses, and its identifiers.
BASE = "https://carethread.example/fhir"
SOCIAL_NEEDS = f"{BASE}/CodeSystem/social-needs"
REFERRAL_STATUS = f"{BASE}/CodeSystem/referral-status"
REFERRAL_ID = f"{BASE}/Id/referral"
PERSON_ID = f"{BASE}/Id/person"
TEAM_ID = f"{BASE}/Id/team"
DIRECTORY_SERVICE_ID = f"{BASE}/Id/directory-service"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"

# ServiceRequest.priority → urgency. Both asap and stat are an emergency at the front door
# (a two-hour triage target); an emergency reads back as asap.
URGENCY_FOR_PRIORITY = {
    "routine": Urgency.ROUTINE,
    "urgent": Urgency.URGENT,
    "asap": Urgency.EMERGENCY,
    "stat": Urgency.EMERGENCY,
}
PRIORITY_FOR_URGENCY = {
    Urgency.ROUTINE: "routine",
    Urgency.URGENT: "urgent",
    Urgency.EMERGENCY: "asap",
}

# ServiceRequest.status: the request stays active while the front door or the receiving team
# work on it; it is completed when the work is done (or the person was signposted), revoked
# when it was declined or withdrawn.
REQUEST_STATUS = {
    Status.RECEIVED: "active",
    Status.IN_TRIAGE: "active",
    Status.ACCEPTED: "active",
    Status.ROUTED: "active",
    Status.MORE_INFO_REQUESTED: "active",
    Status.IN_PROGRESS: "active",
    Status.COMPLETED: "completed",
    Status.SIGNPOSTED: "completed",
    Status.DECLINED: "revoked",
    Status.WITHDRAWN: "revoked",
}

# Task.status (BaRS style): where the referral is in the receiver's hands.
TASK_STATUS = {
    Status.RECEIVED: "requested",
    Status.IN_TRIAGE: "received",
    Status.ACCEPTED: "accepted",
    Status.ROUTED: "accepted",
    Status.MORE_INFO_REQUESTED: "on-hold",
    Status.DECLINED: "rejected",
    Status.IN_PROGRESS: "in-progress",
    Status.COMPLETED: "completed",
    Status.SIGNPOSTED: "completed",
    Status.WITHDRAWN: "cancelled",
}

STATUS_DISPLAY = {
    Status.RECEIVED: "Received, waiting for triage",
    Status.IN_TRIAGE: "In triage",
    Status.ACCEPTED: "Accepted",
    Status.ROUTED: "Routed to a service",
    Status.MORE_INFO_REQUESTED: "More information requested from the referrer",
    Status.DECLINED: "Declined",
    Status.IN_PROGRESS: "In progress",
    Status.COMPLETED: "Completed",
    Status.SIGNPOSTED: "Signposted",
    Status.WITHDRAWN: "Withdrawn",
}

SNOMED_DISPLAY = {"871731000000106": "Referral to social prescribing service"}
