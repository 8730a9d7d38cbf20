"""Use cases after intake: the triage queue, decisions and every later move.

Each adds its rows and events to the unit of work and flushes; the entrypoint commits.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping

from carethread.auth import Principal, record_access
from carethread.db import UnitOfWork
from carethread.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from carethread.events import CloudEvent, topics
from carethread.messaging import add_to_outbox
from referrals import access, events
from referrals.domain.directory import Listing, why_not_routable
from referrals.domain.lifecycle import DECISIONS, Action, IllegalTransition
from referrals.domain.referral import DestinationKind, Referral, ReferralRejected
from referrals.domain.triage import Move, apply
from referrals.store import referrals as store
from referrals.store.tables import DirectoryServiceRow, ReferralRow, TransitionRow
from referrals.use_cases import SERVICE, read_referral


class NotRoutable(Conflict):
    """The chosen directory service cannot take the referral now (withdrawn, full, or
    signpost only): a 409 the triager can act on."""

    title, slug = "Service cannot take referrals", "not-routable"


@dataclass(frozen=True)
class Moved:
    referral: Referral
    event: CloudEvent


async def move_referral(
    uow: UnitOfWork,
    referral_id: uuid.UUID,
    move: Move,
    principal: Principal,
    *,
    expected_version: int | None = None,
) -> Moved:
    # Row lock on PostgreSQL so two triagers cannot both decide; SQLite serialises writers.
    row = await uow.session.get(ReferralRow, referral_id, with_for_update=True)
    if row is None:
        raise NotFound(f"No referral {referral_id}.")
    allowed = access.may_move(principal, move.action, row)
    await record_access(
        uow,
        principal,
        service=SERVICE,
        action=move.action.value,
        resource_type="Referral",
        resource_id=str(referral_id),
        person_id=row.person_id,
        outcome="success" if allowed else "denied",
    )
    if not allowed:
        await uow.commit()  # the denied attempt is audited too
        raise Forbidden(f"Your roles do not allow you to {move.action.value} this referral.")
    if expected_version is not None and expected_version != row.version:
        raise PreconditionFailed(
            f"The referral is at version {row.version}, not {expected_version}: reload it.",
            current_version=row.version,
        )
    before = store.from_row(row)
    try:
        move = await _with_directory_service(uow, move)
        after = apply(before, move)
    except IllegalTransition as e:
        raise Conflict(str(e), current_status=e.current.value) from e
    except ReferralRejected as e:
        raise InvalidInput.at(e.field, str(e)) from e
    store.update_row(row, after)
    uow.session.add(store.transition_row(before, after, move))
    if move.action in DECISIONS:
        event = events.referral_triaged(after, move)
    else:
        event = events.referral_status_changed(before, after, move)
    await add_to_outbox(uow, event, topic=topics.REFERRALS, key=str(after.person.person_id))
    await uow.session.flush()
    return Moved(after, event)


async def _with_directory_service(uow: UnitOfWork, move: Move) -> Move:
    """A route to a directory service, checked against the front door's copy of the
    directory and named as the directory names it now."""
    d = move.destination
    if move.action is not Action.ROUTE or d is None or d.kind is not DestinationKind.SERVICE:
        return move
    try:
        service_id = uuid.UUID(d.id)
    except ValueError:
        raise ReferralRejected("destination.id", "a directory service id is a UUID") from None
    row = await uow.session.get(DirectoryServiceRow, service_id)
    if row is None:
        raise ReferralRejected(
            "destination.id", f"the directory has no service {service_id} (or has not said so yet)"
        )
    refusal = why_not_routable(Listing(row.name, row.status, row.capacity, row.referral_route))
    if refusal:
        raise NotRoutable(refusal, service_id=str(service_id), capacity=row.capacity)
    return dataclasses.replace(move, destination=dataclasses.replace(d, name=row.name))


async def read_history(
    uow: UnitOfWork, referral_id: uuid.UUID, principal: Principal
) -> list[TransitionRow]:
    await read_referral(uow, referral_id, principal)
    return await store.history(uow.session, referral_id)


async def front_door_queue(
    uow: UnitOfWork,
    principal: Principal,
    f: store.QueueFilter,
    *,
    now: datetime,
    limit: int,
    offset: int,
) -> tuple[int, Sequence[RowMapping]]:
    """The queue as this user may see it (``access``): a front door its borough's; a
    referrer, a GP practice or a receiving team only their own referrals."""
    f = dataclasses.replace(f, visible=access.visible(principal))
    total, rows = await store.queue(uow.session, f, now=now, limit=limit, offset=offset)
    await record_access(
        uow,
        principal,
        service=SERVICE,
        action="search",
        resource_type="Referral",
        resource_id="queue",
        person_id=None,
    )
    return total, rows
