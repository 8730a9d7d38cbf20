"""A QuestionnaireResponse as a measure to record: which instrument (its questionnaire's
canonical URL), whose (subject), when (authored), for what (basedOn a ServiceRequest, the
referral or social prescription, or a CarePlan, a review) and the answers in item order."""

from __future__ import annotations

import uuid
from typing import Any

from carethread.errors import InvalidInput
from carethread.fhir.outcome import FhirError, Issue, invalid
from outcomes.api.schemas import MeasureContext, MeasureCreate
from outcomes.fhir import codes

ROOT = "QuestionnaireResponse"
ACCEPTED_STATUSES = ("completed", "amended")


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _answer(item: dict[str, Any], at: str) -> float:
    answers = item.get("answer") or []
    if len(answers) != 1:
        raise invalid(f"{at}.answer", "each item needs exactly one answer")
    a = answers[0]
    for key in ("valueInteger", "valueDecimal"):
        if key in a:
            return float(a[key])
    if "valueCoding" in a and str(a["valueCoding"].get("code", "")).lstrip("-").isdigit():
        return float(a["valueCoding"]["code"])
    raise invalid(f"{at}.answer[0]", "answer with valueInteger, valueDecimal or a numeric code")


def _context(data: dict[str, Any]) -> MeasureContext:
    for i, ref in enumerate(data.get("basedOn") or []):
        kind, _, ident = str(ref.get("reference", "")).partition("/")
        if kind == "ServiceRequest" and (referral := _uuid(ident)):
            return MeasureContext(referral_id=referral)
        if kind in ("CarePlan", "Goal") and ident:
            return MeasureContext(review=f"{kind}/{ident}"[:100])
        raise invalid(f"{ROOT}.basedOn[{i}]", "basedOn a ServiceRequest/{id} or CarePlan/{id}")
    raise invalid(
        f"{ROOT}.basedOn",
        "say what the measure was for: basedOn ServiceRequest/{referral id} (a referral or "
        "social prescription) or CarePlan/{id} (a review)",
    )


def measure_request(data: dict[str, Any]) -> MeasureCreate:
    if data.get("status") not in ACCEPTED_STATUSES:
        raise invalid(f"{ROOT}.status", "only a completed QuestionnaireResponse is a measure")
    instrument = codes.instrument_from_questionnaire(str(data.get("questionnaire", "")))
    if instrument is None:
        raise invalid(
            f"{ROOT}.questionnaire", f"questionnaire must be {codes.QUESTIONNAIRE}<instrument>"
        )
    kind, _, ident = str((data.get("subject") or {}).get("reference", "")).partition("/")
    person_id = _uuid(ident) if kind == "Patient" else None
    if person_id is None:
        raise invalid(f"{ROOT}.subject", "subject must be Patient/{person id}")
    items = data.get("item") or []
    values = [_answer(item, f"{ROOT}.item[{i}]") for i, item in enumerate(items)]
    external = codes.EXTERNAL_LINK_IDS.get(instrument)
    scores = None
    if external:
        scores = {str(item.get("linkId")): v for item, v in zip(items, values, strict=True)}
        values = []
    return MeasureCreate(
        person_id=person_id,
        instrument=instrument,
        answers=values,
        scores=scores,
        context=_context(data),
        recorded_at=data.get("authored"),
    )


def as_fhir_error(e: InvalidInput, data: dict[str, Any]) -> FhirError:
    """A use case's 422 with its fields translated into the QuestionnaireResponse's paths."""
    items = data.get("item") or []
    link_ids = [str(item.get("linkId")) for item in items]
    issues = []
    for err in e.extensions.get("errors", []):
        field = str(err.get("field", ""))
        head, _, rest = field.partition(".")
        if head == "answers" and rest.isdigit():
            path = f"{ROOT}.item[{rest}].answer[0]"
        elif head == "scores" and rest in link_ids:
            path = f"{ROOT}.item[{link_ids.index(rest)}].answer[0]"
        else:
            path = {
                "person_id": f"{ROOT}.subject",
                "instrument": f"{ROOT}.questionnaire",
                "recorded_at": f"{ROOT}.authored",
                "answers": f"{ROOT}.item",
                "scores": f"{ROOT}.item",
            }.get(head, ROOT)
        issues.append(Issue(str(err.get("message", e.detail)), "invalid", (path,)))
    return FhirError(422, issues or [Issue(e.detail or "invalid", "invalid")])
