"""NHS numbers: Modulus 11 validation, the person id derived from them, synthetic numbers.

The check digit is computed here independently of the library, from the published rule:
weights 10..2 over the first nine digits, 11 minus the remainder mod 11, 11 becomes 0 and
10 means no valid number has that body.
"""

from __future__ import annotations

import uuid
from itertools import islice

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from carethread.nhs import (
    CARETHREAD_NAMESPACE,
    InvalidNhsNumber,
    check_digit,
    is_valid_nhs_number,
    normalise_nhs_number,
    person_id_for_nhs_number,
    synthetic_nhs_numbers,
)

PUBLISHED_TEST_NUMBER = "9434765919"  # NHS Digital's published example of a valid number
WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
ASCII_DIGITS = "0123456789"


def expected_check(body: str) -> int:
    """The Modulus 11 check value for nine digits: 0..9, or 10 (no valid number)."""
    remainder = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11
    return (11 - remainder) % 11


bodies = st.text(alphabet=ASCII_DIGITS, min_size=9, max_size=9)
test_range_bodies = st.integers(0, 999_999).map(lambda n: f"999{n:06d}")


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    body = draw(st.one_of(bodies, test_range_bodies))
    digit = expected_check(body)
    assume(digit != 10)
    return body + str(digit)


@st.composite
def bodies_with_check_ten(draw: st.DrawFn) -> str:
    """Nine digits whose check value is 10: the weighted sum is 1 mod 11."""
    first_eight = draw(st.text(alphabet=ASCII_DIGITS, min_size=8, max_size=8))
    partial = sum(int(d) * w for d, w in zip(first_eight, WEIGHTS[:8], strict=True))
    # 2 * ninth == 1 - partial (mod 11); 6 is the inverse of 2 mod 11.
    ninth = (6 * (1 - partial)) % 11
    assume(ninth <= 9)
    body = first_eight + str(ninth)
    assert expected_check(body) == 10
    return body


# Known numbers


@pytest.mark.parametrize(
    "number",
    [
        PUBLISHED_TEST_NUMBER,
        "9990000018",  # the README's example
        "9990000026",
        "9990000034",
        "9990000190",  # weighted sum 264 = 24 * 11: check value 11 becomes 0
    ],
)
def test_known_valid_numbers_validate(number: str) -> None:
    assert expected_check(number[:9]) == int(number[9])
    assert is_valid_nhs_number(number)
    assert normalise_nhs_number(number) == number


@pytest.mark.parametrize(
    "number",
    [
        "9434765918",  # the published number with its check digit changed
        "9434765910",
        "9990000017",
        "9990000019",
    ],
)
def test_known_invalid_numbers_do_not_validate(number: str) -> None:
    assert not is_valid_nhs_number(number)
    with pytest.raises(InvalidNhsNumber, match="check digit"):
        normalise_nhs_number(number)


def test_a_body_whose_check_value_is_ten_has_no_valid_number() -> None:
    body = next(b for b in (f"999{n:06d}" for n in range(1000)) if expected_check(b) == 10)
    assert check_digit(body) is None
    assert not any(is_valid_nhs_number(body + d) for d in ASCII_DIGITS)


# Properties


@given(valid_numbers())
def test_every_number_built_with_its_check_digit_validates(number: str) -> None:
    assert check_digit(number[:9]) == int(number[9])
    assert is_valid_nhs_number(number)
    assert normalise_nhs_number(number) == number


@given(valid_numbers(), st.integers(0, 9), st.integers(1, 9))
def test_changing_any_single_digit_invalidates(number: str, position: int, shift: int) -> None:
    changed_digit = str((int(number[position]) + shift) % 10)
    changed = number[:position] + changed_digit + number[position + 1 :]
    assert changed != number
    assert not is_valid_nhs_number(changed)
    with pytest.raises(InvalidNhsNumber):
        normalise_nhs_number(changed)


@given(valid_numbers(), st.integers(0, 8))
def test_swapping_two_adjacent_different_digits_invalidates(number: str, position: int) -> None:
    a, b = number[position], number[position + 1]
    assume(a != b)
    swapped = number[:position] + b + a + number[position + 2 :]
    assert not is_valid_nhs_number(swapped)


@given(bodies_with_check_ten(), st.sampled_from(ASCII_DIGITS))
def test_a_number_whose_check_value_is_ten_is_invalid(body: str, last: str) -> None:
    assert check_digit(body) is None
    assert not is_valid_nhs_number(body + last)
    with pytest.raises(InvalidNhsNumber):
        normalise_nhs_number(body + last)


@given(valid_numbers(), st.data())
def test_spaces_and_dashes_are_normalised_away(number: str, data: st.DataObject) -> None:
    separators = data.draw(
        st.lists(st.sampled_from(["", " ", "-", "  ", " - "]), min_size=11, max_size=11)
    )
    typed = "".join(sep + digit for sep, digit in zip(separators[:10], number, strict=True))
    typed += separators[10]
    assert normalise_nhs_number(typed) == number
    assert is_valid_nhs_number(typed)
    assert person_id_for_nhs_number(typed) == person_id_for_nhs_number(number)


@pytest.mark.parametrize(
    "typed", ["943 476 5919", "943-476-5919", " 943 476 5919 ", "943 - 476 - 5919"]
)
def test_the_ways_people_type_the_published_number(typed: str) -> None:
    assert normalise_nhs_number(typed) == PUBLISHED_TEST_NUMBER


@given(st.text(max_size=14))
def test_anything_but_ten_ascii_digits_is_refused_cleanly(value: str) -> None:
    digits = value.replace(" ", "").replace("-", "")
    is_ten_ascii_digits = len(digits) == 10 and all(c in ASCII_DIGITS for c in digits)
    if not is_ten_ascii_digits:
        assert not is_valid_nhs_number(value)
        with pytest.raises(InvalidNhsNumber):
            normalise_nhs_number(value)
    else:
        valid = expected_check(digits[:9]) == int(digits[9])
        assert is_valid_nhs_number(value) is valid


@pytest.mark.parametrize(
    "value",
    [
        "943476591",  # nine digits
        "94347659190",  # eleven
        "",
        "943476591X",
        "9434765919\n",
        "9434765919.0",
        # The published number in other scripts' digits, which str.isdigit() accepts:
        "".join(chr(0x0660 + int(d)) for d in PUBLISHED_TEST_NUMBER),  # Arabic-Indic
        "".join(chr(0xFF10 + int(d)) for d in PUBLISHED_TEST_NUMBER),  # full-width
        "94347659\u00b99",  # a superscript one
    ],
)
def test_malformed_values_are_refused(value: str) -> None:
    assert not is_valid_nhs_number(value)
    with pytest.raises(InvalidNhsNumber, match="10 digits"):
        normalise_nhs_number(value)


# Person ids


def test_person_id_is_uuid5_of_the_number_in_the_carethread_namespace() -> None:
    person_id = person_id_for_nhs_number(PUBLISHED_TEST_NUMBER)
    assert person_id == uuid.uuid5(CARETHREAD_NAMESPACE, "nhs:" + PUBLISHED_TEST_NUMBER)
    assert person_id.version == 5


def test_person_ids_never_change() -> None:
    """Every service, every release, derives these same ids: they are stored everywhere."""
    assert uuid.UUID("6f1c2a4e-3b7d-5c9e-8a10-c4e7d2b9f5a1") == CARETHREAD_NAMESPACE
    assert person_id_for_nhs_number(PUBLISHED_TEST_NUMBER) == uuid.UUID(
        "8785fcdb-0e33-5149-b432-bbe3e8459e82"
    )


@given(valid_numbers())
def test_person_id_is_stable_and_identical_across_calls(number: str) -> None:
    first = person_id_for_nhs_number(number)
    assert person_id_for_nhs_number(number) == first
    assert person_id_for_nhs_number(f"{number[:3]} {number[3:6]} {number[6:]}") == first
    assert first == uuid.uuid5(CARETHREAD_NAMESPACE, "nhs:" + number)


@given(valid_numbers(), valid_numbers())
def test_different_numbers_give_different_people(a: str, b: str) -> None:
    assume(a != b)
    assert person_id_for_nhs_number(a) != person_id_for_nhs_number(b)


def test_no_person_id_for_an_invalid_number() -> None:
    with pytest.raises(InvalidNhsNumber):
        person_id_for_nhs_number("9990000017")


# Synthetic numbers


def test_synthetic_numbers_are_valid_unique_and_in_the_test_range() -> None:
    numbers = list(islice(synthetic_nhs_numbers(), 5000))
    assert len(set(numbers)) == len(numbers) == 5000
    assert numbers == sorted(numbers)
    for number in numbers:
        assert number.startswith("999")
        assert len(number) == 10
        assert is_valid_nhs_number(number)
    assert numbers[0] == "9990000018"


def test_synthetic_numbers_skip_exactly_the_bodies_with_no_valid_number() -> None:
    first_bodies = [f"999{n:06d}" for n in range(1100)]
    expected = [b + str(expected_check(b)) for b in first_bodies if expected_check(b) != 10]
    assert 0 < len(first_bodies) - len(expected) < len(first_bodies)
    assert list(islice(synthetic_nhs_numbers(), len(expected))) == expected


@given(st.integers(0, 999_999))
def test_synthetic_numbers_start_where_asked(start: int) -> None:
    first = next(synthetic_nhs_numbers(start=start), None)
    if first is None:  # nothing valid between start and the end of the range
        assert all(expected_check(f"999{n:06d}") == 10 for n in range(start, 1_000_000))
        return
    assert first.startswith("999")
    assert int(first[3:9]) >= start
    assert is_valid_nhs_number(first)
    skipped = range(start, int(first[3:9]))
    assert all(expected_check(f"999{n:06d}") == 10 for n in skipped)


def test_synthetic_numbers_end_with_the_range() -> None:
    tail = list(synthetic_nhs_numbers(start=999_980))
    assert tail
    assert all(n.startswith("999999") and is_valid_nhs_number(n) for n in tail)
    last_valid_body = max(
        f"999{n:06d}" for n in range(999_980, 1_000_000) if expected_check(f"999{n:06d}") != 10
    )
    assert tail[-1][:9] == last_valid_body
