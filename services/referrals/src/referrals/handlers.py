"""What the front door consumes: the directory's listings, so that triage never routes a
referral to a service that has been withdrawn or is full; and each person's care team from the
care_plans service, so that the triager sees who is already involved. Each handler runs in the
consumer's unit of work with its inbox row; ``sequence`` (the listing's or the plan's version)
makes a late, older change harmless."""

from __future__ import annotations

from carethread.db import UnitOfWork
from carethread.events import Event
from carethread.events.care_plans import CareTeamMemberJoinedV1, CareTeamMemberLeftV1
from carethread.events.directory import (
    DirectoryCapacityChangedV1,
    DirectoryServicePublishedV1,
    DirectoryServiceUpdatedV1,
    DirectoryServiceWithdrawnV1,
)
from carethread.messaging import EventRouter
from referrals.store.tables import DirectoryServiceRow, InvolvementRow

router = EventRouter()


def _is_newer(event_sequence: int | None, row: DirectoryServiceRow) -> bool:
    return (event_sequence or 0) > row.version


async def _listing(
    event: Event[DirectoryServicePublishedV1] | Event[DirectoryServiceUpdatedV1],
    uow: UnitOfWork,
) -> None:
    d = event.data
    sequence = event.envelope.sequence or 1
    row = await uow.session.get(DirectoryServiceRow, d.service_id, with_for_update=True)
    if row is None:
        row = DirectoryServiceRow(service_id=d.service_id, version=0)
        uow.session.add(row)
    elif not _is_newer(sequence, row):
        return
    row.name = d.name
    row.organization_name = d.organization_name
    row.status = d.status
    row.capacity = d.capacity
    row.referral_route = d.referral_route
    row.version = sequence
    row.changed_at = d.changed_at


@router.on(DirectoryServicePublishedV1)
async def on_service_published(event: Event[DirectoryServicePublishedV1], uow: UnitOfWork) -> None:
    await _listing(event, uow)


@router.on(DirectoryServiceUpdatedV1)
async def on_service_updated(event: Event[DirectoryServiceUpdatedV1], uow: UnitOfWork) -> None:
    await _listing(event, uow)


@router.on(DirectoryServiceWithdrawnV1)
async def on_service_withdrawn(event: Event[DirectoryServiceWithdrawnV1], uow: UnitOfWork) -> None:
    d = event.data
    sequence = event.envelope.sequence or 1
    row = await uow.session.get(DirectoryServiceRow, d.service_id, with_for_update=True)
    if row is None:  # withdrawn before we saw it listed: remember, so it is never routed to
        uow.session.add(
            DirectoryServiceRow(
                service_id=d.service_id,
                name=d.name,
                status="withdrawn",
                capacity="full",
                version=sequence,
                changed_at=d.changed_at,
            )
        )
    elif _is_newer(sequence, row):
        row.status, row.version, row.changed_at = "withdrawn", sequence, d.changed_at


@router.on(DirectoryCapacityChangedV1)
async def on_capacity_changed(event: Event[DirectoryCapacityChangedV1], uow: UnitOfWork) -> None:
    d = event.data
    sequence = event.envelope.sequence or 1
    row = await uow.session.get(DirectoryServiceRow, d.service_id, with_for_update=True)
    if row is None:  # its listing is still on its way; the listing event will carry capacity
        return
    if _is_newer(sequence, row):
        row.capacity, row.version, row.changed_at = d.capacity, sequence, d.changed_at


async def _membership(
    event: Event[CareTeamMemberJoinedV1] | Event[CareTeamMemberLeftV1],
    uow: UnitOfWork,
    *,
    active: bool,
) -> None:
    d = event.data
    row = await uow.session.get(InvolvementRow, (d.person_id, d.member_id), with_for_update=True)
    if row is None:
        row = InvolvementRow(person_id=d.person_id, member_id=d.member_id, plan_version=0)
        uow.session.add(row)
    elif d.version <= row.plan_version:
        return
    row.active = active
    row.organisation, row.team, row.role = d.organisation, d.team, d.role
    row.key_worker = d.key_worker
    row.plan_version = d.version
    row.changed_at = d.changed_at


@router.on(CareTeamMemberJoinedV1)
async def on_member_joined(event: Event[CareTeamMemberJoinedV1], uow: UnitOfWork) -> None:
    await _membership(event, uow, active=True)


@router.on(CareTeamMemberLeftV1)
async def on_member_left(event: Event[CareTeamMemberLeftV1], uow: UnitOfWork) -> None:
    await _membership(event, uow, active=False)
