"""What the directory consumes: the front door's decisions, to count each service's uptake.
Each handler runs in the consumer's unit of work with the inbox row, so a repeated delivery
is never counted twice."""

from __future__ import annotations

import uuid

from carethread.db import UnitOfWork
from carethread.events import Event
from carethread.events.referrals import ReferralStatusChangedV1, ReferralTriagedV1
from carethread.messaging import EventRouter
from directory.store.tables import ReferralRoutingRow, ServiceUptakeRow

router = EventRouter()
ROUTED = "route"
STARTED = "start"


def _service_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None  # a destination that is not a directory listing


async def _uptake(uow: UnitOfWork, service_id: uuid.UUID) -> ServiceUptakeRow:
    row = await uow.session.get(ServiceUptakeRow, service_id)
    if row is None:
        row = ServiceUptakeRow(service_id=service_id, routed=0, accepted=0)
        uow.session.add(row)
    return row


@router.on(ReferralTriagedV1)
async def on_referral_triaged(event: Event[ReferralTriagedV1], uow: UnitOfWork) -> None:
    d = event.data
    destination = d.destination
    if d.decision != ROUTED or destination is None or destination.kind != "service":
        return
    service_id = _service_id(destination.id)
    if service_id is None:
        return
    routing = await uow.session.get(ReferralRoutingRow, d.referral_id)
    if routing is not None:
        return  # this referral was counted already
    uow.session.add(
        ReferralRoutingRow(referral_id=d.referral_id, service_id=service_id, routed_at=d.triaged_at)
    )
    uptake = await _uptake(uow, service_id)
    uptake.routed += 1
    if uptake.last_referral_at is None or d.triaged_at > uptake.last_referral_at:
        uptake.last_referral_at = d.triaged_at


@router.on(ReferralStatusChangedV1)
async def on_referral_status_changed(
    event: Event[ReferralStatusChangedV1], uow: UnitOfWork
) -> None:
    d = event.data
    if d.action != STARTED:
        return
    routing = await uow.session.get(ReferralRoutingRow, d.referral_id)
    if routing is None or routing.accepted_at is not None:
        return  # not routed to a listing, or counted already
    routing.accepted_at = d.changed_at
    uptake = await _uptake(uow, routing.service_id)
    uptake.accepted += 1
