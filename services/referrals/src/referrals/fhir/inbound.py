"""From a UK Core ServiceRequest (alone, or in a transaction Bundle) to the front door's intake.

Pure: validated FHIR models in, a :class:`~referrals.api.schemas.ReferralCreate` out (the same
request the JSON API takes, so a FHIR referral *is* a JSON referral), or a
:class:`~carethread.fhir.outcome.FhirError` naming the FHIRPath of what is wrong.

How the ServiceRequest is read:

- **subject**: a contained Patient (``#id``); a Patient in the same transaction Bundle, by
  ``fullUrl`` (``urn:uuid:...`` or absolute) or by ``Patient/<id>`` matching an entry; or a
  logical reference whose identifier is an NHS number (system ``https://fhir.nhs.uk/Id/
  nhs-number``). A literal reference this service cannot resolve is refused (422, expression
  ``ServiceRequest.subject``) unless the same reference also carries an NHS number. With only
  an NHS number the names come from ``subject.display`` ("Given Family" or "FAMILY, Given"),
  else they are recorded as "(not given)": the NHS number is the person's identity.
- **NHS number**: Modulus 11 checked; an invalid one is refused at its ``identifier[i].value``.
- **priority**: routine → routine, urgent → urgent, asap and stat → emergency (absent: routine).
- **status** must be ``active``: a draft, held or ended request is not a referral.
- **requester** → referrer: the name from the Practitioner (contained, in the Bundle, through
  a PractitionerRole) or the reference's display; the organisation's ODS code from an
  Organization (identifier ``https://fhir.nhs.uk/Id/ods-organization-code``), a PractitionerRole's
  organization, or a logical reference with that identifier. A requester the service cannot
  resolve is not refused (the UK Core examples refer to Practitioners by literal reference):
  what is missing comes from the caller's token (its ``org`` and ``name`` or ``sub``).
- **source**: ``self`` when the requester is the Patient; ``gp`` when the UK Core
  SourceOfServiceRequest extension says "Referred by general practitioner" or the referring ODS
  code is a GP practice's (a letter and five digits); an NHS trust code (``R..``) is
  ``acute_trust``; anything else ``community``. (A heuristic: the triager sees the requester.)
- **reasons**: codings of ``code`` and ``reasonCode`` that the front door knows — the
  social-needs codes (system ``https://carethread.example/fhir/CodeSystem/social-needs``) and
  the SNOMED CT social prescribing referral codes — become reasons. Any other code is clinical
  context, kept in the story as ``Requested: <display> (SNOMED CT <code>)`` (from ``code``) or
  ``Reason: ...`` (from ``reasonCode``), never refused. An unknown code *in our own social-needs
  system* is refused, since it can only be a mistake.
- **story**: ``note`` texts, then those lines, ``reasonReference`` displays and the
  ``patientInstruction``.

A GP practice outside the reference data (an out-of-area practice): the JSON API refuses an
unknown practice code, since a person typing it has most likely mistyped it. An EPR's ODS code
is not a typo — it names a real practice outside this ICS (someone living here registered
elsewhere, or a cross-border patient) — so the FHIR facade **accepts** the referral: the
practice code is not recorded as the person's practice (that field holds only practices of the
reference data, which every service maps to a neighbourhood), the referral is placed by the
patient's postcode like a person with no GP (the PCN of the nearest practice when the postcode
is in the area, else no neighbourhood, and the front door assigns one at triage), and the story
says "Registered GP practice: <ODS code> (<name>), outside this area's reference data".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from carethread.fhir.outcome import FhirError, Issue, invalid
from carethread.nhs import InvalidNhsNumber, normalise_nhs_number
from carethread.reference import Geography
from referrals.api.schemas import ReferralCreate
from referrals.domain.referral import SNOMED_REFERRAL_CODES, SOCIAL_NEEDS, Source
from referrals.fhir import codes

NOT_GIVEN = "(not given)"
GP_PRACTICE_CODE = re.compile(r"^[A-Z]\d{5}$")
NHS_TRUST_CODE = re.compile(r"^R[A-Z0-9]{2}([A-Z0-9]{2})?$")
ENTRY_METHODS = frozenset({"POST", "PUT"})
SUPPORTING = (Patient, Practitioner, PractitionerRole, Organization)


@dataclass(frozen=True)
class Located:
    """A resource of the message and the FHIRPath where it sits."""

    resource: Resource
    path: str
    contained: bool = False


@dataclass(frozen=True)
class Scope:
    """What a reference can resolve to: the container's contained resources (``#id``) and
    the transaction's entries (by fullUrl, and by ``Type/id``)."""

    contained: Mapping[str, Located] = field(default_factory=dict)
    entries: Mapping[str, Located] = field(default_factory=dict)

    def resolve(self, reference: str) -> Located | None:
        if reference.startswith("#"):
            return self.contained.get(reference[1:])
        return self.entries.get(reference) or self.entries.get(_strip_history(reference))

    def inside(self, found: Located) -> Scope:
        """The scope for references made by ``found`` itself."""
        if found.contained:
            return self
        return Scope(contained_of(found), self.entries)


def _strip_history(reference: str) -> str:
    return reference.split("/_history/", 1)[0]


def contained_of(owner: Located) -> dict[str, Located]:
    found = getattr(owner.resource, "contained", None) or []
    return {
        r.id: Located(r, f"{owner.path}.contained[{i}]", contained=True)
        for i, r in enumerate(found)
        if r.id
    }


@dataclass(frozen=True)
class Sender:
    """Who sent the message, from the token: what the message does not say comes from here."""

    org: str | None
    name: str


@dataclass(frozen=True)
class Inbound:
    """One ServiceRequest, mapped."""

    request: ReferralCreate
    path: str  # where the ServiceRequest sits: "ServiceRequest", "Bundle.entry[1].resource"
    identifier: tuple[str, str] | None  # its business identifier (system, value)
    authored_on: str | None
    # The FHIRPath of each field of the request, to name it when the use case refuses it.
    paths: Mapping[str, str] = field(default_factory=dict)

    def expression(self, json_field: str) -> str:
        return expression(self.paths, self.path, json_field)


# -- subject --------------------------------------------------------------------------------


def _nhs_number(ident: Identifier, where: str) -> str | None:
    """The NHS number ``ident`` holds (None for another system); refuses a bad one."""
    if ident.system != codes.NHS_NUMBER:
        return None
    if not ident.value:
        raise invalid(where, "the NHS number identifier has no value", code="required")
    try:
        return normalise_nhs_number(ident.value)
    except InvalidNhsNumber as e:
        raise invalid(where, f"{e}: {ident.value!r}", code="value") from None


def _split_display(display: str | None) -> tuple[str, str]:
    text = " ".join((display or "").split())
    if "," in text:
        family, _, given = text.partition(",")
        return given.strip() or NOT_GIVEN, family.strip() or NOT_GIVEN
    given, _, family = text.rpartition(" ")
    return given or NOT_GIVEN, family or NOT_GIVEN


def _chosen_name(names: Sequence[HumanName] | None) -> tuple[int, HumanName] | None:
    ranked = sorted(
        (
            (i, n)
            for i, n in enumerate(names or [])
            if n.use != "old" and (n.family or n.given or n.text)
        ),
        key=lambda p: {"official": 0, "usual": 1}.get(p[1].use or "", 2),
    )
    return ranked[0] if ranked else None


def _person_name(name: HumanName) -> tuple[str, str]:
    if name.family or name.given:
        given = " ".join(g for g in name.given or [] if g)
        return given or NOT_GIVEN, name.family or NOT_GIVEN
    return _split_display(name.text)


def _ods(identifiers: Sequence[Identifier] | None) -> str | None:
    for ident in identifiers or []:
        if ident.system == codes.ODS_ORGANISATION and ident.value:
            return ident.value.strip().upper()
    return None


@dataclass(frozen=True)
class Org:
    code: str
    name: str | None = None


def _organisation(ref: Reference | None, scope: Scope) -> Org | None:
    """The ODS code (and name) an Organization or PractitionerRole reference leads to."""
    if ref is None:
        return None
    found = scope.resolve(ref.reference) if ref.reference else None
    if found is not None:
        r = found.resource
        if isinstance(r, Organization):
            code = _ods(r.identifier)
            return Org(code, r.name or ref.display) if code else None
        if isinstance(r, PractitionerRole):
            return _organisation(r.organization, scope.inside(found))
    code = _ods([ref.identifier] if ref.identifier else None)
    return Org(code, ref.display) if code else None


@dataclass
class Mapped:
    """What the mapping gathers: the FHIRPath of each request field, reasons, story lines,
    and lines that go at the end of the story."""

    paths: dict[str, str] = field(default_factory=dict)
    self_referral: bool = False
    reasons: list[str] = field(default_factory=list)
    story: list[str] = field(default_factory=list)
    postscript: list[str] = field(default_factory=list)


def _subject(
    sr: ServiceRequest, p: str, scope: Scope, geo: Geography, out: Mapped
) -> dict[str, Any]:
    ref: Reference | None = sr.subject
    where = f"{p}.subject"
    if ref is None:
        raise invalid(where, "a referral needs a subject: the Patient", code="required")
    if ref.type and ref.type != "Patient":
        raise invalid(f"{where}.type", f"the subject must be a Patient, not a {ref.type}")
    hint_path = f"{where}.identifier.value"
    hint = _nhs_number(ref.identifier, hint_path) if ref.identifier else None
    if ref.reference:
        parts = _strip_history(ref.reference).rsplit("/", 2)
        literal = not ref.reference.startswith(("#", "urn:")) and len(parts) >= 2
        if literal and parts[-2] != "Patient":
            raise invalid(where, f"the subject must be a Patient, not a {parts[-2]}")
        found = scope.resolve(ref.reference)
        if found is not None:
            if not isinstance(found.resource, Patient):
                kind = found.resource.get_resource_type()
                raise invalid(where, f"the subject {ref.reference} is a {kind}, not a Patient")
            return _patient(found, scope.inside(found), geo, out, hint, hint_path)
        if hint is None:
            raise FhirError(
                422,
                [
                    Issue(
                        f"{where} refers to {ref.reference!r}, which this service cannot "
                        "resolve: send the Patient contained in the ServiceRequest (#id), as an "
                        "entry of the same transaction Bundle, or refer to the patient by NHS "
                        f"number (identifier system {codes.NHS_NUMBER}).",
                        "not-found",
                        (where,),
                    )
                ],
            )
    elif ref.identifier is not None and hint is None:
        raise invalid(
            f"{where}.identifier.system",
            f"a patient referred to by identifier needs an NHS number ({codes.NHS_NUMBER})",
            code="not-supported",
        )
    if hint is None:
        raise invalid(
            where, "the subject needs a reference or an NHS number identifier", code="required"
        )
    given, family = _split_display(ref.display)
    out.paths["person.nhs_number"] = hint_path
    out.paths["person.given_name"] = out.paths["person.family_name"] = f"{where}.display"
    return {"nhs_number": hint, "given_name": given, "family_name": family}


def _patient(
    found: Located,
    scope: Scope,
    geo: Geography,
    out: Mapped,
    hint: str | None,
    hint_path: str,
) -> dict[str, Any]:
    pt = found.resource
    assert isinstance(pt, Patient)
    at = found.path
    person: dict[str, Any] = {}
    nhs = _patient_nhs_number(pt, at, hint, hint_path)
    if nhs:
        person["nhs_number"], out.paths["person.nhs_number"] = nhs
    name = _chosen_name(pt.name)
    if name is None:
        raise invalid(f"{at}.name", "the patient needs a name", code="required")
    i, human = name
    person["given_name"], person["family_name"] = _person_name(human)
    out.paths["person.given_name"] = f"{at}.name[{i}].given"
    out.paths["person.family_name"] = f"{at}.name[{i}].family"
    birth: object = pt.birthDate
    if isinstance(birth, date):  # a partial date ("1970") stays a string: not recorded
        person["birth_date"] = birth.isoformat()
        out.paths["person.birth_date"] = f"{at}.birthDate"
    homes = sorted(
        (
            (j, a)
            for j, a in enumerate(pt.address or [])
            if a.postalCode and a.use not in ("old", "billing")
        ),
        key=lambda p: 0 if p[1].use == "home" else 1,
    )
    if homes:
        j, address = homes[0]
        person["postcode"] = " ".join((address.postalCode or "").split())
        out.paths["person.postcode"] = f"{at}.address[{j}].postalCode"
    _practice(pt, at, scope, geo, person, out)
    _demographics(pt, at, person, out)
    _communication(pt, at, person, out)
    return person


def _demographics(pt: Patient, at: str, person: dict[str, Any], out: Mapped) -> None:
    """Administrative gender, UK Core ethnic category and the first phone and email."""
    if pt.gender:
        person["sex"] = pt.gender
        out.paths["person.sex"] = f"{at}.gender"
    for i, ext in enumerate(pt.extension or []):
        if ext.url == codes.ETHNIC_CATEGORY and ext.valueCodeableConcept:
            for coding in ext.valueCodeableConcept.coding or []:
                if coding.code:
                    person["ethnicity_code"] = coding.code
                    out.paths["person.ethnicity_code"] = f"{at}.extension[{i}]"
                    break
    contact: dict[str, str] = {}
    for i, point in enumerate(pt.telecom or []):
        if point.use == "old" or not point.value or point.system not in ("phone", "email"):
            continue
        contact.setdefault(point.system, point.value)
        out.paths.setdefault(f"person.contact.{point.system}", f"{at}.telecom[{i}]")
    if contact:
        person["contact"] = contact


def _interpreter(extensions: Sequence[Any] | None) -> bool:
    for ext in extensions or []:
        if ext.url == codes.INTERPRETER_REQUIRED and ext.valueBoolean is not None:
            return bool(ext.valueBoolean)
        if ext.url == codes.NHS_COMMUNICATION:
            for part in ext.extension or []:
                if part.url == "interpreterRequired" and part.valueBoolean is not None:
                    return bool(part.valueBoolean)
    return False


def _communication(pt: Patient, at: str, person: dict[str, Any], out: Mapped) -> None:
    """The preferred language (else the first listed) and whether an interpreter is needed."""
    spoken = list(enumerate(pt.communication or []))
    chosen = [c for c in spoken if c[1].preferred] or spoken
    for i, comm in chosen[:1]:
        for coding in comm.language.coding or []:
            if coding.system == codes.BCP47 and coding.code:
                person["preferred_language"] = coding.code
                out.paths["person.preferred_language"] = f"{at}.communication[{i}].language"
                break
    needed = _interpreter(pt.extension) or any(_interpreter(c.extension) for _, c in spoken)
    if needed:
        person["interpreter_needed"] = True


def _patient_nhs_number(
    pt: Patient, at: str, hint: str | None, hint_path: str
) -> tuple[str, str] | None:
    """The Patient's NHS number and its path (or the subject reference's, if only it has one)."""
    numbers: dict[str, str] = {}
    for i, ident in enumerate(pt.identifier or []):
        where = f"{at}.identifier[{i}].value"
        number = _nhs_number(ident, where)
        if number:
            numbers.setdefault(number, where)
    if len(numbers) > 1:
        raise invalid(f"{at}.identifier", "the patient has two NHS numbers", code="business-rule")
    if numbers and hint and hint not in numbers:
        raise invalid(hint_path, "the subject's NHS number is not the Patient's", code="conflict")
    if numbers:
        return next(iter(numbers.items()))
    return (hint, hint_path) if hint else None


def _practice(
    pt: Patient, at: str, scope: Scope, geo: Geography, person: dict[str, Any], out: Mapped
) -> None:
    """The registered GP practice: recorded when the reference data knows it, else (an
    out-of-area practice) kept in the story and the referral placed by postcode."""
    for j, gp in enumerate(pt.generalPractitioner or []):
        org = _organisation(gp, scope)
        if org is None:
            continue
        if org.code in geo.practices:
            person["gp_practice_code"] = org.code
            out.paths["person.gp_practice_code"] = f"{at}.generalPractitioner[{j}]"
        else:
            named = f" ({org.name})" if org.name else ""
            out.postscript.append(
                f"Registered GP practice: {org.code}{named}, outside this area's reference data."
            )
        return


# -- requester, source, reasons ---------------------------------------------------------------


def _human(names: Sequence[HumanName] | None) -> str | None:
    chosen = _chosen_name(names)
    if chosen is None:
        return None
    n = chosen[1]
    if n.text:
        return n.text
    parts = [*(n.prefix or []), *(n.given or []), n.family or ""]
    return " ".join(p for p in parts if p) or None


def _practitioner_name(ref: Reference | None, scope: Scope) -> str | None:
    if ref is None:
        return None
    found = scope.resolve(ref.reference) if ref.reference else None
    if found is not None and isinstance(found.resource, Practitioner):
        return _human(found.resource.name) or ref.display
    return ref.display


def _requester(
    sr: ServiceRequest, p: str, scope: Scope, sender: Sender, out: Mapped
) -> dict[str, str]:
    ref: Reference | None = sr.requester
    name: str | None = None
    org: Org | None = None
    if ref is not None:
        found = scope.resolve(ref.reference) if ref.reference else None
        if found is not None:
            r, inner = found.resource, scope.inside(found)
            if isinstance(r, Practitioner):
                name = _human(r.name)
            elif isinstance(r, PractitionerRole):
                name = _practitioner_name(r.practitioner, inner)
                org = _organisation(r.organization, inner)
            elif isinstance(r, Organization):
                code = _ods(r.identifier)
                org = Org(code, r.name) if code else None
                name = r.name
            elif isinstance(r, Patient):  # the person refers themselves
                name = _human(r.name)
                out.self_referral = True
        else:
            org = _organisation(ref, scope)
        name = name or ref.display
    code = org.code if org else sender.org
    if not code:
        raise invalid(
            f"{p}.requester",
            "the referring organisation is unknown: give the requester an ODS code "
            f"({codes.ODS_ORGANISATION}) or use a token that names your organisation",
            code="required",
        )
    out.paths["referrer.org"] = out.paths["referrer.name"] = f"{p}.requester"
    return {"name": (name or sender.name)[:200], "org": code}


def _source(sr: ServiceRequest, org: str) -> Source:
    for ext in sr.extension or []:
        if ext.url == codes.SOURCE_OF_SERVICE_REQUEST and ext.valueCodeableConcept:
            for coding in ext.valueCodeableConcept.coding or []:
                if coding.system == codes.SNOMED and coding.code == codes.REFERRED_BY_GP:
                    return Source.GP
    if GP_PRACTICE_CODE.match(org):
        return Source.GP
    if NHS_TRUST_CODE.match(org):
        return Source.ACUTE_TRUST
    return Source.COMMUNITY


def _system_name(system: str | None) -> str:
    return "SNOMED CT" if system == codes.SNOMED else (system or "no code system")


def _concept(concept: CodeableConcept, at: str, label: str, out: Mapped) -> None:
    clinical = []
    for j, coding in enumerate(concept.coding or []):
        code = coding.code or ""
        if coding.system == codes.SNOMED and code in SNOMED_REFERRAL_CODES:
            out.reasons.append(code)
        elif coding.system == codes.SOCIAL_NEEDS:
            if code not in SOCIAL_NEEDS:
                raise invalid(
                    f"{at}.coding[{j}].code",
                    f"unknown social-needs code {code!r}; known: {', '.join(sorted(SOCIAL_NEEDS))}",
                    code="code-invalid",
                )
            out.reasons.append(code)
        elif code:
            text = coding.display or concept.text or code
            clinical.append(f"{label}: {text} ({_system_name(coding.system)} {code})")
    if not concept.coding and concept.text:
        clinical.append(f"{label}: {concept.text}")
    out.story.extend(clinical)


def _story_and_reasons(sr: ServiceRequest, p: str, out: Mapped) -> None:
    # The referrer's own words first, then the coded context.
    out.story.extend(n.text.strip() for n in sr.note or [] if n.text and n.text.strip())
    if sr.code is not None:
        _concept(sr.code, f"{p}.code", "Requested", out)
    for i, reason in enumerate(sr.reasonCode or []):
        _concept(reason, f"{p}.reasonCode[{i}]", "Reason", out)
    out.story.extend(f"Reason: {r.display}" for r in sr.reasonReference or [] if r.display)
    if sr.patientInstruction:
        out.story.append(f"Patient instruction: {sr.patientInstruction}")
    out.paths["reasons"] = f"{p}.reasonCode" if sr.reasonCode or sr.code is None else f"{p}.code"
    out.paths["story"] = f"{p}.note"


# -- the ServiceRequest -----------------------------------------------------------------------


def service_request(
    located: Located,
    scope: Scope,
    *,
    geography: Geography,
    sender: Sender,
) -> Inbound:
    """Map one validated ServiceRequest; ``scope`` resolves its references."""
    sr = located.resource
    assert isinstance(sr, ServiceRequest)
    p = located.path
    if sr.status != "active":
        raise invalid(
            f"{p}.status",
            f"a referral must be an active request, not {sr.status!r}",
            code="business-rule" if sr.status else "required",
        )
    priority = sr.priority or "routine"
    urgency = codes.URGENCY_FOR_PRIORITY.get(priority)
    if urgency is None:
        known = ", ".join(codes.URGENCY_FOR_PRIORITY)
        raise invalid(
            f"{p}.priority", f"unknown priority {priority!r}; known: {known}", code="code-invalid"
        )
    out = Mapped(paths={"urgency": f"{p}.priority", "source": p})
    inner = Scope(contained_of(located), scope.entries)
    person = _subject(sr, p, inner, geography, out)
    referrer = _requester(sr, p, inner, sender, out)
    _story_and_reasons(sr, p, out)
    body = {
        "person": person,
        "referrer": referrer,
        "source": (Source.SELF if out.self_referral else _source(sr, referrer["org"])).value,
        "urgency": urgency.value,
        "reasons": list(dict.fromkeys(out.reasons)),
        "story": "\n".join([*out.story, *out.postscript]),
    }
    try:
        request = ReferralCreate.model_validate(body)
    except ValidationError as e:
        raise FhirError(
            422,
            [
                Issue(
                    str(err.get("msg", "invalid value")).removeprefix("Value error, "),
                    "value",
                    (expression(out.paths, p, ".".join(str(x) for x in err.get("loc", ()))),),
                )
                for err in e.errors()
            ],
        ) from None
    return Inbound(
        request=request,
        path=p,
        identifier=_business_identifier(sr),
        authored_on=_authored(sr),
        paths=out.paths,
    )


def expression(paths: Mapping[str, str], default: str, json_field: str) -> str:
    """The FHIRPath of a request field (``person.birth_date``), else of its parent."""
    return paths.get(json_field) or paths.get(json_field.split(".", maxsplit=1)[0]) or default


def _business_identifier(sr: ServiceRequest) -> tuple[str, str] | None:
    for ident in sr.identifier or []:
        if ident.system and ident.value:
            return ident.system, ident.value
    return None


def _authored(sr: ServiceRequest) -> str | None:
    value: object = sr.authoredOn
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


# -- a transaction Bundle ---------------------------------------------------------------------


@dataclass(frozen=True)
class Transaction:
    """A referral transaction: its ServiceRequests, in order, and what their references can
    resolve to. ``others`` are the supporting entries (index, resource type)."""

    requests: list[tuple[int, Located]]
    scope: Scope
    others: list[tuple[int, str]]


def transaction(bundle: Bundle) -> Transaction:
    """Check a transaction Bundle's shape and index its entries."""
    if bundle.type != "transaction":
        raise invalid(
            "Bundle.type",
            f"POST to the base takes a transaction Bundle, not a {bundle.type!r} one",
            code="not-supported" if bundle.type else "required",
        )
    entries: dict[str, Located] = {}
    requests: list[tuple[int, Located]] = []
    others: list[tuple[int, str]] = []
    allowed = ", ".join(["ServiceRequest", *(k.__name__ for k in SUPPORTING)])
    for i, entry in enumerate(bundle.entry or []):
        at = f"Bundle.entry[{i}]"
        resource = entry.resource
        if resource is None:
            raise invalid(f"{at}.resource", "each entry must carry a resource", code="required")
        kind = resource.get_resource_type()
        method = entry.request.method if entry.request else "POST"
        if not isinstance(resource, (ServiceRequest, *SUPPORTING)):
            raise invalid(
                f"{at}.resource",
                f"a referral transaction holds {allowed}; not {kind}",
                code="not-supported",
            )
        if method not in ENTRY_METHODS or (
            isinstance(resource, ServiceRequest) and method != "POST"
        ):
            verbs = "POST" if isinstance(resource, ServiceRequest) else "POST or PUT"
            raise invalid(
                f"{at}.request.method",
                f"a {kind} entry here must be {verbs}, not {method}",
                code="not-supported",
            )
        located = Located(resource, f"{at}.resource")
        if entry.fullUrl:
            if entry.fullUrl in entries:
                raise invalid(
                    f"{at}.fullUrl", f"fullUrl {entry.fullUrl} appears twice", code="duplicate"
                )
            entries[entry.fullUrl] = located
            tail = _strip_history(entry.fullUrl).rsplit("/", 2)
            if len(tail) == 3 and tail[1] == kind:
                entries.setdefault(f"{kind}/{tail[2]}", located)
        if resource.id:
            entries.setdefault(f"{kind}/{resource.id}", located)
        if isinstance(resource, ServiceRequest):
            requests.append((i, located))
        else:
            others.append((i, kind))
    if not requests:
        raise invalid(
            "Bundle.entry", "a referral transaction needs a ServiceRequest", code="required"
        )
    return Transaction(requests, Scope({}, entries), others)
