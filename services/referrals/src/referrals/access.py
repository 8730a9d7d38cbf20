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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, false, or_

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


def may_trace(principal: Principal, boroughs: Iterable[str | None]) -> bool:
    """Who may record an NHS number trace for a person: an admin, or the front door of a
    borough the person was referred in (``boroughs``: their referrals' boroughs)."""
    return ADMIN in principal.roles or any(is_front_door_for(principal, b) for b in boroughs)


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


@dataclass(frozen=True)
class Visible:
    """The SQL twin of ``relations`` for one user: which parts their condition has
    (``shape``: the front door's boroughs, their organisation, MDT neighbourhoods, teams) and
    the values those parts bind. The condition is built once per shape, so statements that
    carry it can be built once too."""

    shape: tuple[bool, bool, bool, bool]
    values: Mapping[str, object]

    def clause(self) -> ColumnElement[bool]:
        return _visible_clause(self.shape)


def visible(principal: Principal) -> Visible | None:
    """What ``principal`` may see of the referrals: None when every referral."""
    if ADMIN in principal.roles or (TRIAGER in principal.roles and not principal.boroughs):
        return None
    door = TRIAGER in principal.roles
    values: dict[str, object] = {}
    if door:
        values["v_boroughs"] = sorted(principal.boroughs)
    if principal.org:
        values["v_org"] = principal.org
    if principal.neighbourhoods:
        values["v_neighbourhoods"] = sorted(principal.neighbourhoods)
    if principal.teams:
        values["v_teams"] = sorted(principal.teams)
    shape = (door, bool(principal.org), bool(principal.neighbourhoods), bool(principal.teams))
    return Visible(shape, values)


@cache
def _visible_clause(shape: tuple[bool, bool, bool, bool]) -> ColumnElement[bool]:
    door, org, neighbourhoods, teams = shape
    either: list[ColumnElement[bool]] = []
    if door:  # the front door for these boroughs (and for referrals placed in none)
        boroughs = _R.borough.in_(bindparam("v_boroughs", expanding=True))
        either.append(or_(_R.borough.is_(None), boroughs))
    if org:  # the referring organisation, or the person's GP practice
        either.append(_R.referrer_org == bindparam("v_org"))
        either.append(_R.gp_practice_code == bindparam("v_org"))
    mdt = DestinationKind.NEIGHBOURHOOD_MDT.value
    if neighbourhoods:  # accepted to their neighbourhood's MDT
        hoods = _R.destination_id.in_(bindparam("v_neighbourhoods", expanding=True))
        either.append(and_(_R.destination_kind == mdt, hoods))
    if teams:  # accepted to their team, or routed to their service
        ids = _R.destination_id.in_(bindparam("v_teams", expanding=True))
        either.append(and_(_R.destination_kind != mdt, ids))
    return or_(*either) if either else false()
