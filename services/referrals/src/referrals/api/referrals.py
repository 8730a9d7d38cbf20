"""``/api/v1/referrals``: the JSON front door, its queue and the triage decisions."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Header, Query, Response, status
from pydantic import BaseModel

from carethread.auth import CurrentUser, Principal, require_roles
from carethread.errors import BadRequest
from carethread.reference import load_geography
from carethread.service import RuntimeDep, UoWDep
from referrals import triage_use_cases, use_cases
from referrals.api.schemas import (
    DestinationOut,
    Involvement,
    LinkedReferral,
    MoveIn,
    ReferralCreate,
    ReferralDetail,
    ReferralPage,
    ReferralRead,
    TransitionRead,
    TriageDecisionIn,
    WriteReceipt,
)
from referrals.domain.lifecycle import Action, Status, allowed_actions
from referrals.domain.referral import Destination, Referral, Urgency
from referrals.domain.sla import SlaTargets, is_breached
from referrals.domain.triage import Move
from referrals.settings import ReferralsSettings
from referrals.store.referrals import QueueFilter, columns, involvement_of
from referrals.store.tables import TransitionRow

router = APIRouter(prefix="/api/v1/referrals", tags=["referrals"])
Referrer = Annotated[Principal, Depends(require_roles("referrer", "triager", "admin"))]


async def clock() -> datetime:
    """The time now; tests replace this dependency to move time on."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(clock)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="a retry with the same key returns the original referral",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="the version you read; 412 if it has moved on"),
]
MOVES = Literal["claim", "unclaim", "start", "complete", "withdraw", "info_provided"]


async def sla_targets(runtime: RuntimeDep) -> SlaTargets:
    settings = runtime.settings
    return settings.sla_targets if isinstance(settings, ReferralsSettings) else SlaTargets()


Targets = Annotated[SlaTargets, Depends(sla_targets)]


def to_read(r: Referral, now: datetime, *, probable_duplicate: bool = False) -> ReferralRead:
    return ReferralRead.model_validate(
        queue_line({**columns(r), "probable_duplicate": probable_duplicate}, now)
    )


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise BadRequest(f'If-Match must be a referral version, like "3"; got {if_match!r}.')
    return int(value)


def _receipt(referral: Referral, event_id: uuid.UUID, now: datetime) -> WriteReceipt:
    return WriteReceipt(
        referral_id=referral.id,
        person_id=referral.person.person_id,
        event_id=event_id,
        referral=to_read(referral, now),
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WriteReceipt)
async def create_referral(
    body: ReferralCreate,
    uow: UoWDep,
    user: Referrer,
    now: Now,
    targets: Targets,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    received = await use_cases.receive_referral(
        uow,
        body,
        user,
        load_geography(),
        now=now,
        targets=targets,
        idempotency_key=idempotency_key,
    )
    await uow.commit()
    referral = received.referral
    receipt = {
        "referral_id": referral.id,
        "person_id": referral.person.person_id,
        "event_id": received.event_id,
        "referral": queue_line(
            {**columns(referral), "probable_duplicate": received.probable_duplicate}, now
        ),
    }
    return Response(
        dump_json(receipt),
        status.HTTP_200_OK if received.replayed else status.HTTP_201_CREATED,
        media_type="application/json",
    )


def json_response(model: BaseModel, status_code: int = status.HTTP_200_OK) -> Response:
    """``model`` as the JSON body, serialised by pydantic directly (the route's
    ``response_model`` still documents it)."""
    return Response(model.model_dump_json(), status_code, media_type="application/json")


@router.get("", response_model=ReferralPage)
async def list_referrals(
    uow: UoWDep,
    user: CurrentUser,
    now: Now,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    borough: str | None = None,
    neighbourhood: str | None = None,
    urgency: Urgency | None = None,
    breached: bool | None = None,
    received_before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The front-door queue, soonest due first. Referrers see only what they sent."""
    f = QueueFilter(
        statuses=tuple(s.value for s in status_ or ()),
        borough=borough,
        neighbourhood=neighbourhood,
        urgency=urgency.value if urgency else None,
        breached=breached,
        received_before=received_before,
    )
    total, rows = await triage_use_cases.front_door_queue(
        uow, user, f, now=now, limit=limit, offset=offset
    )
    await uow.commit()
    # Written as JSON straight from the rows' values, the fields in ReferralRead's order and
    # shape (a test holds the two to the same bytes): a page is 50 lines of 30 fields, and
    # checking our own rows against the model, then encoding the model (enum by enum),
    # cost more than the query.
    page = {
        "total": total,
        "limit": limit,
        "offset": offset,
        "items": [queue_line(r, now) for r in rows],
    }
    return Response(dump_json(page), media_type="application/json")


def dump_json(value: object) -> bytes:
    """JSON as pydantic writes the API's models (UTC times ending in Z)."""
    return orjson.dumps(value, default=_uuid_text, option=orjson.OPT_UTC_Z)


def _uuid_text(value: object) -> str:
    """The database driver's own UUIDs (asyncpg's subclass of ``uuid.UUID``, which orjson
    does not take for one) as their text."""
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_STATUSES = {s.value: s for s in Status}
# Each state's moves as the API lists them (sorted), worked out once.
_ALLOWED = {s: [a.value for a in sorted(allowed_actions(s))] for s in Status}


def _destination_out(d: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stored destination as :class:`DestinationOut` shows it (``name`` always there)."""
    return {"kind": d["kind"], "id": d["id"], "name": d.get("name")} if d else None


def queue_line(r: Mapping[Any, Any], now: datetime) -> dict[str, Any]:
    """A referral as the API shows it (and a line of the queue), from its row's columns: the
    fields of :class:`ReferralRead` in its order, as plain values ready to be written as JSON
    (or checked by the model)."""
    status = _STATUSES.get(r["status"]) or Status(r["status"])
    return {
        "id": r["id"],
        "person_id": r["person_id"],
        "person": {
            "nhs_number": r["nhs_number"],
            "given_name": r["given_name"],
            "family_name": r["family_name"],
            "birth_date": r["birth_date"],
            "sex": r["sex"],
            "postcode": r["postcode"],
            "gp_practice_code": r["gp_practice_code"],
            "ethnicity_code": r["ethnicity_code"],
            "preferred_language": r["preferred_language"],
            "interpreter_needed": bool(r["interpreter_needed"]),
        },
        "status": status,
        "urgency": r["urgency"],
        "source": r["source"],
        "reasons": r["reason_codes"],
        "neighbourhood": r["neighbourhood"],
        "borough": r["borough"],
        "referrer_org": r["referrer_org"],
        "referrer_name": r["referrer_name"],
        "referrer_role": r["referrer_role"],
        "consent_to_share": bool(r["consent_to_share"]),
        "received_at": r["received_at"],
        "version": r["version"],
        "triage_due_at": r["triage_due_at"],
        "triaged_at": r["triaged_at"],
        "breached_sla": is_breached(
            status=status, due=r["triage_due_at"], now=now, triaged_at=r["triaged_at"]
        ),
        "status_changed_at": r["status_changed_at"],
        "seconds_in_status": max(0, int((now - r["status_changed_at"]).total_seconds())),
        "claimed_by": r["claimed_by"],
        "destination": _destination_out(r["destination"]),
        "allowed_actions": _ALLOWED[status],
        "probable_duplicate": bool(r["probable_duplicate"]),
    }


@router.get("/{referral_id}", response_model=ReferralDetail)
async def get_referral(
    referral_id: uuid.UUID, uow: UoWDep, user: CurrentUser, now: Now, response: Response
) -> ReferralDetail:
    """One referral, with the person's other open referrals linked at the door."""
    referral = await use_cases.read_referral(uow, referral_id, user)
    flagged, links = await use_cases.linked_referrals(uow, referral_id)
    involved = await involvement_of(uow.session, referral.person.person_id)
    await uow.commit()
    response.headers["ETag"] = f'"{referral.version}"'
    return ReferralDetail(
        **to_read(referral, now, probable_duplicate=flagged).model_dump(),
        linked=[LinkedReferral.model_validate(link, from_attributes=True) for link in links],
        involvement=[
            Involvement(
                organisation=m.organisation,
                team=m.team,
                role=m.role,
                key_worker=m.key_worker,
                since=m.changed_at,
            )
            for m in involved
        ],
    )


@router.get("/{referral_id}/history", response_model=list[TransitionRead])
async def get_history(
    referral_id: uuid.UUID, uow: UoWDep, user: CurrentUser
) -> list[TransitionRead]:
    """What happened, when and who did it: the message back to the referrer and GP."""
    rows = await triage_use_cases.read_history(uow, referral_id, user)
    await uow.commit()
    return [_transition(t) for t in rows]


def _transition(t: TransitionRow) -> TransitionRead:
    d = t.destination
    return TransitionRead(
        version=t.version,
        action=t.action,
        from_status=t.from_status,
        to_status=t.to_status,
        actor=t.actor,
        actor_org=t.actor_org,
        at=t.at,
        reason=t.reason,
        destination=DestinationOut.model_validate(d) if d else None,
        health_signoff=t.health_signoff,
        social_care_signoff=t.social_care_signoff,
    )


@router.post("/{referral_id}/triage", response_model=WriteReceipt)
async def triage(
    referral_id: uuid.UUID,
    body: TriageDecisionIn,
    uow: UoWDep,
    user: CurrentUser,
    now: Now,
    if_match: IfMatch = None,
) -> WriteReceipt:
    """Decide: accept to a neighbourhood MDT or team, route to a directory service, signpost,
    ask the referrer for more information, or decline with a reason."""
    d = body.destination
    move = Move(
        action=Action(body.decision),
        actor=user.sub,
        actor_org=user.org or "",
        at=now,
        reason=body.reason,
        destination=Destination(kind=d.kind, id=d.id, name=d.name) if d else None,
        health_signoff=body.health_signoff,
        social_care_signoff=body.social_care_signoff,
    )
    moved = await triage_use_cases.move_referral(
        uow, referral_id, move, user, expected_version=_version(if_match)
    )
    await uow.commit()
    return _receipt(moved.referral, moved.event.id, now)


@router.post("/{referral_id}/{action}", response_model=WriteReceipt)
async def move(
    referral_id: uuid.UUID,
    action: MOVES,
    uow: UoWDep,
    user: CurrentUser,
    now: Now,
    body: MoveIn | None = None,
    if_match: IfMatch = None,
) -> WriteReceipt:
    """Claim or unclaim for triage, record the referrer's answer (``info_provided``), start
    or complete the work, or withdraw the referral."""
    step = Move(
        action=Action(action),
        actor=user.sub,
        actor_org=user.org or "",
        at=now,
        reason=body.reason if body else None,
    )
    moved = await triage_use_cases.move_referral(
        uow, referral_id, step, user, expected_version=_version(if_match)
    )
    await uow.commit()
    return _receipt(moved.referral, moved.event.id, now)
