"""The pure rules: RFC 7396 merge patch, version diffs, relationships."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from care_plans.domain.access import Caller, OpenReferral, Relationship, relationship
from care_plans.domain.diff import Change, diff, sections
from care_plans.domain.document import CareTeamMember
from care_plans.domain.merge_patch import merge_patch
from care_plans.domain.patch import apply_patch, make_patch

# The examples of RFC 7396, appendix A.
RFC_7396_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "result"), RFC_7396_EXAMPLES)
def test_merge_patch_follows_rfc_7396(target: Any, patch: Any, result: Any) -> None:
    assert merge_patch(target, patch) == result


def test_merge_patch_leaves_its_target_alone() -> None:
    target = {"a": {"b": 1}}
    merge_patch(target, {"a": {"b": 2}})
    assert target == {"a": {"b": 1}}


def test_diff_compares_items_with_ids_item_by_item() -> None:
    before = {"goals": [{"id": "g1", "status": "proposed"}, {"id": "g2", "status": "proposed"}]}
    after = {"goals": [{"id": "g2", "status": "achieved"}, {"id": "g3", "status": "proposed"}]}
    assert diff(before, after) == [
        Change("/goals/g1", "removed", before={"id": "g1", "status": "proposed"}),
        Change("/goals/g2/status", "changed", before="proposed", after="achieved"),
        Change("/goals/g3", "added", after={"id": "g3", "status": "proposed"}),
    ]
    assert sections(diff(before, after)) == ["goals"]


def test_diff_of_plain_lists_and_values_and_escaping() -> None:
    assert diff({"a/b": ["x"]}, {"a/b": ["x", "y"]}) == [
        Change("/a~1b", "changed", before=["x"], after=["x", "y"])
    ]
    assert diff({"a": 1}, {"a": 1}) == []


GP = CareTeamMember(name="GP", team="gp-archway", organisation="F83004")
NURSE = CareTeamMember(name="Nia", practitioner="nurse.nia")


def caller(**kw: Any) -> Caller:
    base: dict[str, Any] = {
        "sub": "someone",
        "org": "RRP",
        "roles": frozenset({"practitioner"}),
        "teams": frozenset(),
        "neighbourhoods": frozenset(),
    }
    return Caller(**{**base, **kw})


PERSON = str(uuid.uuid4())


@pytest.mark.parametrize(
    ("who", "referrals", "expected"),
    [
        (caller(teams=frozenset({"gp-archway"})), [], Relationship.CARE_TEAM),
        (caller(sub="nurse.nia"), [], Relationship.CARE_TEAM),
        (caller(neighbourhoods=frozenset({"U02795"})), [], Relationship.NONE),
        (
            caller(neighbourhoods=frozenset({"U02795"})),
            [OpenReferral("F83004", "U02795")],
            Relationship.OPEN_REFERRAL,
        ),
        (caller(org="F83004"), [OpenReferral("F83004", None)], Relationship.OPEN_REFERRAL),
        (
            caller(roles=frozenset({"triager"})),
            [OpenReferral("X", None)],
            Relationship.OPEN_REFERRAL,
        ),
        (caller(roles=frozenset({"triager"})), [], Relationship.NONE),
        (caller(sub=PERSON, roles=frozenset({"person"})), [], Relationship.SELF),
        (
            caller(roles=frozenset({"person"}), teams=frozenset({"gp-archway"})),
            [],
            Relationship.NONE,
        ),
    ],
)
def test_relationships(who: Caller, referrals: list[OpenReferral], expected: Relationship) -> None:
    assert relationship(who, PERSON, [GP, NURSE], referrals) is expected


keyed_items = st.lists(
    st.fixed_dictionaries(
        {"id": st.sampled_from(["a", "b", "c", "d/e", "f~g"]), "v": st.integers(0, 3)}
    ),
    max_size=4,
    unique_by=lambda i: i["id"],
)
documents = st.fixed_dictionaries(
    {
        "story": st.text(max_size=5),
        "goals": keyed_items,
        "strengths": st.lists(st.text(max_size=3), max_size=3),
        "about_me": st.dictionaries(
            st.sampled_from(["what_matters_to_me", "a/b", "c~d"]), st.integers(0, 2), max_size=3
        ),
    },
    optional={"review_date": st.none() | st.just("2027-01-01")},
)


@given(before=documents, after=documents)
def test_a_patch_turns_one_version_into_the_next(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    steps = make_patch(before, after)
    assert apply_patch(before, steps) == after
    assert apply_patch(before, []) == before


def test_a_change_inside_a_list_of_items_is_a_small_step() -> None:
    before = {"actions": [{"id": "a1", "status": "planned"}, {"id": "a2", "status": "planned"}]}
    after = {"actions": [{"id": "a1", "status": "planned"}, {"id": "a2", "status": "completed"}]}
    assert make_patch(before, after) == [{"path": "/actions/a2/status", "value": "completed"}]
    reordered = {"actions": list(reversed(after["actions"]))}
    assert make_patch(after, reordered) == [{"path": "/actions", "value": reordered["actions"]}]
