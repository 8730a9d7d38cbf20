"""The platform's care-relationship rule, as every person-level service applies it."""

from __future__ import annotations

import pytest

from carethread.auth import Principal
from carethread.relationships import Caller, OpenReferral, Relationship, relationship

PERSON = "0f6b6d2c-6f2e-4f61-9a57-3d0c4b8e2a11"
NURSE = Principal(
    sub="nurse.nia", org="RRP", roles=frozenset({"practitioner"}), teams=frozenset({"dn-north"})
)


def rel(
    caller: Caller,
    *,
    team: bool = False,
    referrals: list[OpenReferral] | None = None,
    glass: bool = False,
) -> Relationship:
    return relationship(
        caller, PERSON, in_care_team=team, open_referrals=referrals or [], broke_glass=glass
    )


def test_a_token_is_read_as_the_caller_the_rule_needs() -> None:
    caller = NURSE.as_caller()
    assert (caller.sub, caller.org, caller.groups) == ("nurse.nia", "RRP", frozenset({"dn-north"}))
    assert not caller.is_person


@pytest.mark.parametrize(
    ("referral", "expected"),
    [
        (OpenReferral(referrer_org="RRP", destination_id=None), Relationship.OPEN_REFERRAL),
        (
            OpenReferral(referrer_org="F83004", destination_id="dn-north"),
            Relationship.OPEN_REFERRAL,
        ),
        (OpenReferral(referrer_org="F83004", destination_id="U02795"), Relationship.NONE),
    ],
)
def test_an_open_referral_relates_its_referrer_and_its_destination(
    referral: OpenReferral, expected: Relationship
) -> None:
    assert rel(NURSE.as_caller(), referrals=[referral]) is expected


def test_the_front_door_relates_only_while_a_referral_is_open() -> None:
    triager = Principal(sub="t", org="93C", roles=frozenset({"triager"})).as_caller()
    assert rel(triager) is Relationship.NONE
    assert rel(triager, referrals=[OpenReferral("X", None)]) is Relationship.OPEN_REFERRAL


def test_care_team_comes_first_and_break_glass_only_without_a_relationship() -> None:
    caller = NURSE.as_caller()
    assert rel(caller, team=True, glass=True) is Relationship.CARE_TEAM
    assert rel(caller, glass=True) is Relationship.BREAK_GLASS
    assert rel(caller) is Relationship.NONE


def test_a_person_has_their_own_record_and_no_other() -> None:
    me = Principal(sub=PERSON, roles=frozenset({"person"}), teams=frozenset({"dn-north"}))
    other = Principal(sub="someone-else", roles=frozenset({"person"}))
    assert rel(me.as_caller(), team=True) is Relationship.SELF
    assert rel(other.as_caller(), team=True, glass=True) is Relationship.NONE
