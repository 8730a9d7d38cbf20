"""What the outcomes service consumes to keep indicator inputs current."""

from __future__ import annotations

from carethread.db import UnitOfWork
from carethread.events import Event
from carethread.events.referrals import ReferralReceivedV1
from carethread.messaging import EventRouter
from outcomes.store.tables import ReferralVolumeRow

router = EventRouter()
UNKNOWN_NEIGHBOURHOOD = "unknown"


@router.on(ReferralReceivedV1)
async def on_referral_received(event: Event[ReferralReceivedV1], uow: UnitOfWork) -> None:
    d = event.data
    key = (d.received_at.date(), d.neighbourhood or UNKNOWN_NEIGHBOURHOOD, d.source)
    row = await uow.session.get(ReferralVolumeRow, key)
    if row is None:
        uow.session.add(
            ReferralVolumeRow(day=key[0], neighbourhood=key[1], source=key[2], referrals=1)
        )
    else:
        row.referrals += 1
