"""The FHIR facade's use cases: a ServiceRequest goes through the front door's own intake
(``use_cases.receive_referral``: person id, neighbourhood, audit, outbox event), and reads
follow ``use_cases.read_referral``'s rule (the referring organisation or the front door).

Each adds to the unit of work and flushes; the router commits.

Idempotency: a ServiceRequest's business identifier (the first ``identifier`` with a system and
a value) is the idempotency key ``fhir-sr:{system}|{value}``, so the same EPR message sent twice
is one referral. Without one, the ``Idempotency-Key`` header is the key (with ``#n`` for the
n-th ServiceRequest of a transaction holding several); without either, a digest of what was
received (the mapped referral, its ``authoredOn`` and the sender's organisation) is, when the
request says when it was authored. A ServiceRequest with none of these is taken as new.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime

from carethread.auth import Principal
from carethread.db import UnitOfWork
from carethread.errors import Conflict, InvalidInput
from carethread.fhir.outcome import FhirError, Issue
from carethread.reference import Geography
from referrals import use_cases
from referrals.domain.referral import Destination, DestinationKind, Referral
from referrals.domain.sla import SlaTargets
from referrals.fhir.inbound import Inbound
from referrals.fhir.outbound import Step
from referrals.store import referrals as store
from referrals.store.tables import ReferralRow, TransitionRow
from referrals.use_cases import Received

KEY_LIMIT = 200  # the idempotency key column's width
FHIR_KEY = "fhir-sr:"
DIGEST_KEY = "fhir-sr-digest:"


def _bounded(prefix: str, text: str) -> str:
    key = prefix + text
    if len(key) <= KEY_LIMIT:
        return key
    return f"{prefix}sha256:{hashlib.sha256(text.encode()).hexdigest()}"


def idempotency_key(
    inbound: Inbound, principal: Principal, header: str | None, *, index: int = 0, count: int = 1
) -> str | None:
    if inbound.identifier is not None:
        system, value = inbound.identifier
        return _bounded(FHIR_KEY, f"{system}|{value}")
    if header:
        return header if count == 1 else _bounded("", f"{header}#{index}")
    if inbound.authored_on is None:
        return None
    received = {
        "org": principal.org,
        "authoredOn": inbound.authored_on,
        "request": inbound.request.model_dump(mode="json"),
    }
    canonical = json.dumps(received, sort_keys=True, separators=(",", ":"))
    return DIGEST_KEY + hashlib.sha256(canonical.encode()).hexdigest()


def business_identifier(key: str | None) -> tuple[str, str] | None:
    """The (system, value) a ``fhir-sr:`` idempotency key was made from, if it shows."""
    if not key or not key.startswith(FHIR_KEY) or key.startswith(FHIR_KEY + "sha256:"):
        return None
    system, sep, value = key.removeprefix(FHIR_KEY).partition("|")
    return (system, value) if sep else None


async def receive(
    uow: UnitOfWork,
    inbound: Inbound,
    principal: Principal,
    geography: Geography,
    *,
    now: datetime,
    targets: SlaTargets,
    key: str | None,
) -> Received:
    """The intake use case, its refusals named by FHIRPath."""
    try:
        return await use_cases.receive_referral(
            uow,
            inbound.request,
            principal,
            geography,
            now=now,
            targets=targets,
            idempotency_key=key,
        )
    except InvalidInput as e:
        errors = e.extensions.get("errors") or [{"field": "", "message": str(e)}]
        raise FhirError(
            422,
            [
                Issue(
                    str(err.get("message") or e.detail),
                    "business-rule",
                    (inbound.expression(str(err.get("field") or "")),),
                )
                for err in errors
            ],
        ) from e
    except Conflict as e:
        where = f"{inbound.path}.identifier" if inbound.identifier else inbound.path
        raise FhirError(
            409,
            [
                Issue(
                    "This ServiceRequest (its identifier, or this Idempotency-Key) was already "
                    "used for another referrer's referral.",
                    "duplicate",
                    (where,),
                )
            ],
        ) from e


async def read(
    uow: UnitOfWork, referral_id: uuid.UUID, principal: Principal
) -> tuple[Referral, tuple[str, str] | None]:
    """The referral (audited, if the caller may read it) and the sender's identifier."""
    referral = await use_cases.read_referral(uow, referral_id, principal)
    row = await uow.session.get(ReferralRow, referral_id)
    return referral, business_identifier(row.idempotency_key if row else None)


def _step(t: TransitionRow) -> Step:
    d = t.destination
    return Step(
        version=t.version,
        action=t.action,
        from_status=t.from_status,
        to_status=t.to_status,
        actor=t.actor,
        actor_org=t.actor_org,
        at=t.at,
        reason=t.reason,
        destination=Destination(DestinationKind(d["kind"]), d["id"], d.get("name")) if d else None,
        health_signoff=t.health_signoff,
        social_care_signoff=t.social_care_signoff,
    )


async def read_with_history(
    uow: UnitOfWork, referral_id: uuid.UUID, principal: Principal
) -> tuple[Referral, list[Step]]:
    referral = await use_cases.read_referral(uow, referral_id, principal)
    return referral, [_step(t) for t in await store.history(uow.session, referral_id)]
