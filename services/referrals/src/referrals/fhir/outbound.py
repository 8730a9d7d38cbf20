"""From a referral to UK Core resources: the ServiceRequest as the front door holds it, and a
BaRS-style Task that tells the referrer and the GP what happened to it ("message back").

Pure: domain objects in, FHIR JSON (dicts) out.

- ``ServiceRequest``: ``id`` is the referral id, ``meta.versionId`` its version; the subject is
  a logical reference by NHS number (or, for a person without one, by CareThread person id);
  ``status`` active / completed / revoked from the lifecycle (``codes.REQUEST_STATUS``);
  ``priority`` from the urgency (an emergency reads as ``asap``); the requester a contained
  PractitionerRole (the referrer's name at their ODS organisation); ``reasonCode`` the reasons;
  ``authoredOn`` when the front door received it (the sender's own authoredOn is not kept);
  the story as a note; the sender's business identifier when it had one.
- ``Task`` (one per referral, same id): ``focus`` the ServiceRequest, ``status`` from the
  lifecycle (``codes.TASK_STATUS``), ``businessStatus`` our exact status, ``owner`` the triage
  destination, ``statusReason`` the reason of the latest move that gave one, ``lastModified``
  the last move, and each move of the status history as a ``note`` (who, when, what).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from referrals.domain.lifecycle import TERMINAL, Action
from referrals.domain.referral import (
    SNOMED_REFERRAL_CODES,
    SOCIAL_NEEDS,
    Destination,
    DestinationKind,
    Referral,
)
from referrals.fhir import codes

_DONE = {
    Action.RECEIVE: "Referral received",
    Action.CLAIM: "Claimed for triage",
    Action.UNCLAIM: "Returned to the triage queue",
    Action.ACCEPT: "Accepted",
    Action.ROUTE: "Routed",
    Action.SIGNPOST: "Signposted",
    Action.REQUEST_INFO: "More information requested",
    Action.DECLINE: "Declined",
    Action.INFO_PROVIDED: "Information provided",
    Action.START: "Work started",
    Action.COMPLETE: "Completed",
    Action.WITHDRAW: "Withdrawn",
}
_KIND = {
    DestinationKind.NEIGHBOURHOOD_MDT: "neighbourhood MDT",
    DestinationKind.TEAM: "team",
    DestinationKind.SERVICE: "service",
}


@dataclass(frozen=True)
class Step:
    """One move of the status history."""

    version: int
    action: str
    from_status: str | None
    to_status: str
    actor: str
    actor_org: str
    at: datetime
    reason: str | None = None
    destination: Destination | None = None
    health_signoff: str | None = None
    social_care_signoff: str | None = None


def instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _subject(r: Referral) -> dict[str, Any]:
    p = r.person
    ref: dict[str, Any] = {"type": "Patient", "display": f"{p.given_name} {p.family_name}"}
    if p.nhs_number:
        ref["identifier"] = {"system": codes.NHS_NUMBER, "value": p.nhs_number}
    else:
        ref["identifier"] = {"system": codes.PERSON_ID, "value": str(p.person_id)}
    return ref


def _requester(r: Referral) -> tuple[dict[str, Any], dict[str, Any]]:
    """The requester reference and the contained PractitionerRole it points to."""
    role = {
        "resourceType": "PractitionerRole",
        "id": "requester",
        "practitioner": {"display": r.referrer_name},
        "organization": {
            "type": "Organization",
            "identifier": {"system": codes.ODS_ORGANISATION, "value": r.referrer_org},
        },
    }
    return {"reference": "#requester", "display": r.referrer_name}, role


def _reason(code: str) -> dict[str, Any]:
    if code in SOCIAL_NEEDS:
        return {"coding": [{"system": codes.SOCIAL_NEEDS, "code": code}], "text": code}
    coding = {"system": codes.SNOMED, "code": code}
    display = codes.SNOMED_DISPLAY.get(code)
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _meta(r: Referral, profile: str) -> dict[str, Any]:
    return {
        "versionId": str(r.version),
        "lastUpdated": instant(r.status_changed_at),
        "profile": [profile],
    }


def service_request(r: Referral, business_identifier: tuple[str, str] | None) -> dict[str, Any]:
    requester, role = _requester(r)
    identifiers = [{"system": codes.REFERRAL_ID, "value": str(r.id)}]
    if business_identifier:
        identifiers.insert(0, {"system": business_identifier[0], "value": business_identifier[1]})
    sr: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(r.id),
        "meta": _meta(r, codes.UKCORE_SERVICE_REQUEST),
        "contained": [role],
        "identifier": identifiers,
        "status": codes.REQUEST_STATUS[r.status],
        "intent": "order",
        "priority": codes.PRIORITY_FOR_URGENCY[r.urgency],
        "subject": _subject(r),
        "authoredOn": instant(r.received_at),
        "requester": requester,
    }
    # What is requested (a SNOMED CT referral code) is the code; the other reasons are why.
    referral_code = next((c for c in r.reason_codes if c in SNOMED_REFERRAL_CODES), None)
    if referral_code:
        sr["code"] = _reason(referral_code)
    reasons = [c for c in r.reason_codes if c != referral_code]
    if reasons:
        sr["reasonCode"] = [_reason(c) for c in reasons]
    if r.story.strip():
        sr["note"] = [{"text": r.story}]
    return sr


def _owner(d: Destination) -> dict[str, Any]:
    system, kind = {
        DestinationKind.NEIGHBOURHOOD_MDT: (codes.ODS_ORGANISATION, "Organization"),
        DestinationKind.TEAM: (codes.TEAM_ID, "CareTeam"),
        DestinationKind.SERVICE: (codes.DIRECTORY_SERVICE_ID, "HealthcareService"),
    }[d.kind]
    owner: dict[str, Any] = {"type": kind, "identifier": {"system": system, "value": d.id}}
    owner["display"] = d.name or f"{_KIND[d.kind]} {d.id}"
    return owner


def _say(step: Step) -> str:
    """One move in words: "Accepted to neighbourhood MDT North 2 Islington (U02795). Signed
    off for health by ... Status: accepted." """
    try:
        text = _DONE[Action(step.action)]
    except ValueError:
        text = step.action
    d = step.destination
    if d is not None:
        named = f"{d.name} ({d.id})" if d.name else d.id
        text += f" to {_KIND[d.kind]} {named}"
    text += "."
    if step.reason:
        text += f" {step.reason.strip()}" + ("" if step.reason.strip().endswith(".") else ".")
    signed = [
        f"for {who} by {name}"
        for who, name in (
            ("health", step.health_signoff),
            ("social care", step.social_care_signoff),
        )
        if name
    ]
    if signed:
        text += " Signed off " + " and ".join(signed) + "."
    return f"{text} Status: {step.to_status}."


def task(r: Referral, history: Sequence[Step]) -> dict[str, Any]:
    requester, role = _requester(r)
    status = r.status
    t: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(r.id),
        "meta": _meta(r, codes.UKCORE_TASK),
        "contained": [role],
        "identifier": [{"system": codes.REFERRAL_ID, "value": str(r.id)}],
        "status": codes.TASK_STATUS[status],
        "businessStatus": {
            "coding": [
                {
                    "system": codes.REFERRAL_STATUS,
                    "code": status.value,
                    "display": codes.STATUS_DISPLAY[status],
                }
            ],
            "text": status.value,
        },
        "intent": "order",
        "priority": codes.PRIORITY_FOR_URGENCY[r.urgency],
        "code": {
            "coding": [
                {
                    "system": codes.TASK_CODE,
                    "code": "fulfill",
                    "display": "Fulfill the focal request",
                }
            ]
        },
        "focus": {"reference": f"ServiceRequest/{r.id}", "type": "ServiceRequest"},
        "for": _subject(r),
        "executionPeriod": {"start": instant(r.received_at)},
        "authoredOn": instant(r.received_at),
        "lastModified": instant(r.status_changed_at),
        "requester": requester,
    }
    if status in TERMINAL:
        t["executionPeriod"]["end"] = instant(r.status_changed_at)
    if r.destination is not None:
        t["owner"] = _owner(r.destination)
    latest = next((s for s in reversed(history) if s.to_status == status.value), None)
    if latest is not None and latest.reason:
        t["statusReason"] = {"text": latest.reason}
    if history:
        t["note"] = [
            {"authorString": f"{s.actor} ({s.actor_org})", "time": instant(s.at), "text": _say(s)}
            for s in history
        ]
    return t


def searchset(resources: Sequence[dict[str, Any]], *, base: str, self_url: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {
                "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ],
    }


def created_entry(sr: dict[str, Any], *, replayed: bool, base: str) -> dict[str, Any]:
    """A transaction-response entry for a ServiceRequest received (or found again)."""
    version = sr["meta"]["versionId"]
    return {
        "fullUrl": f"{base}/ServiceRequest/{sr['id']}",
        "resource": sr,
        "response": {
            "status": "200 OK" if replayed else "201 Created",
            "location": f"ServiceRequest/{sr['id']}/_history/{version}",
            "etag": f'W/"{version}"',
            "lastModified": sr["meta"]["lastUpdated"],
        },
    }


def used_entry(kind: str, used_by: Sequence[str]) -> dict[str, Any]:
    """A transaction-response entry for a supporting resource, read but not stored."""
    return {
        "response": {
            "status": "200 OK",
            "outcome": {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "information",
                        "code": "informational",
                        "diagnostics": f"The {kind} was read as part of "
                        f"{', '.join(used_by)}; this service does not store {kind} resources.",
                    }
                ],
            },
        }
    }


def transaction_response(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "transaction-response",
        "entry": list(entries),
    }


def capability_statement(now: datetime) -> dict[str, Any]:
    """What the facade serves, for an EPR's ``GET [base]/metadata``."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(now),
        "publisher": "CareThread",
        "kind": "instance",
        "implementation": {"description": "CareThread referrals: the integrated front door"},
        "fhirVersion": codes.FHIR_VERSION,
        "format": [codes.FHIR_JSON, "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "A bearer token (JWT); the roles referrer, triager or admin "
                    "to send referrals; the referring organisation or the front door to read."
                },
                "resource": [
                    {
                        "type": "ServiceRequest",
                        "profile": codes.UKCORE_SERVICE_REQUEST,
                        "interaction": [{"code": "create"}, {"code": "read"}],
                        "conditionalCreate": False,
                    },
                    {
                        "type": "Task",
                        "profile": codes.UKCORE_TASK,
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {
                                "name": "focus",
                                "type": "reference",
                                "documentation": "ServiceRequest/<id>: the referral's Task",
                            }
                        ],
                    },
                ],
                "interaction": [{"code": "transaction"}],
            }
        ],
    }
