"""Who may see and move a referral.

- The front door (``triager``) sees its borough's referrals: a token's ``boroughs`` claim
  names the front doors its holder works for; a triager token without one works ICS-wide.
  A referral the door could not place in any borough is visible to every front door.
- The referring organisation sees what it sent (``org`` = the referrer's ODS code).
- The person's GP practice sees what happened to them (``org`` = their practice code): the
  Social Prescribing Information Standard's message back to the GP.
- The receiving team sees what was routed or accepted to it: a team or directory service id
  in the token's ``teams``, or a neighbourhood MDT in its ``neighbourhoods``.
- ``admin`` sees everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, false, or_

from carethread.auth import Principal
from referrals.domain.lifecycle import Action
from referrals.domain.referral import DestinationKind
from referrals.store.tables import ReferralRow

# The table's own columns (not the ORM's attributes): the clauses go into Core statements.
_R = cast(Table, ReferralRow.__table__).c

ADMIN = "admin"
TRIAGER = "triager"
DELIVERY = frozenset({"practitioner"})


class Relation(StrEnum):
    """Why a user may see a referral: the audit records it."""

    ADMIN = "admin"
    FRONT_DOOR = "front_door"
    REFERRER = "referrer"
    GP = "gp_practice"
    RECEIVING_TEAM = "receiving_team"


def is_front_door_for(principal: Principal, borough: str | None) -> bool:
    if TRIAGER not in principal.roles:
        return False
    return not principal.boroughs or borough is None or borough in principal.boroughs


def _receives(principal: Principal, row: ReferralRow) -> bool:
    if row.destination_id is None:
        return False
    if row.destination_kind == DestinationKind.NEIGHBOURHOOD_MDT.value:
        return row.destination_id in principal.neighbourhoods
    return row.destination_id in principal.teams


def relations(principal: Principal, row: ReferralRow) -> list[Relation]:
    """Every reason ``principal`` may see ``row`` (none: they may not)."""
    found = []
    if ADMIN in principal.roles:
        found.append(Relation.ADMIN)
    if is_front_door_for(principal, row.borough):
        found.append(Relation.FRONT_DOOR)
    if principal.org and principal.org == row.referrer_org:
        found.append(Relation.REFERRER)
    if principal.org and principal.org == row.gp_practice_code:
        found.append(Relation.GP)
    if _receives(principal, row):
        found.append(Relation.RECEIVING_TEAM)
    return found


def may_move(principal: Principal, action: Action, row: ReferralRow) -> bool:
    """Triage and its moves belong to the front door; starting and completing the work to
    the team that received it; withdrawing also to whoever referred."""
    seen = set(relations(principal, row))
    if Relation.ADMIN in seen:
        return True
    door = Relation.FRONT_DOOR in seen
    if action is Action.WITHDRAW:
        return door or Relation.REFERRER in seen
    if action in (Action.START, Action.COMPLETE):
        delivers = Relation.RECEIVING_TEAM in seen and bool(DELIVERY & principal.roles)
        return door or delivers
    return door


def visible_clause(principal: Principal) -> ColumnElement[bool] | None:
    """The SQL twin of ``relations``: None when the user may see every referral."""
    if ADMIN in principal.roles or (TRIAGER in principal.roles and not principal.boroughs):
        return None
    either: list[ColumnElement[bool]] = []
    if TRIAGER in principal.roles:
        either.append(or_(_R.borough.is_(None), _R.borough.in_(sorted(principal.boroughs))))
    if principal.org:
        either.append(_R.referrer_org == principal.org)
        either.append(_R.gp_practice_code == principal.org)
    either.extend(_received_by(principal))
    return or_(*either) if either else false()


def _received_by(principal: Principal) -> Iterable[ColumnElement[bool]]:
    mdt = DestinationKind.NEIGHBOURHOOD_MDT.value
    if principal.neighbourhoods:
        yield and_(
            _R.destination_kind == mdt,
            _R.destination_id.in_(sorted(principal.neighbourhoods)),
        )
    if principal.teams:
        yield and_(
            _R.destination_kind != mdt,
            _R.destination_id.in_(sorted(principal.teams)),
        )
