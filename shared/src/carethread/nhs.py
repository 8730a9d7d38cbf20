"""NHS numbers and person identity.

An NHS number is ten digits whose last is a Modulus 11 check digit. Every service derives
the same ``person_id`` from it (uuid5), so no service has to ask another who someone is.
People with no NHS number get a random UUID from the service that first records them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

# Fixed forever: changing it would change every person id on the platform.
CARETHREAD_NAMESPACE = uuid.UUID("6f1c2a4e-3b7d-5c9e-8a10-c4e7d2b9f5a1")
TEST_RANGE_PREFIX = "999"
_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


class InvalidNhsNumber(ValueError):
    """The value is not a valid NHS number; the message says why."""


def check_digit(first_nine: str) -> int | None:
    """The Modulus 11 check digit for nine digits, or None when no digit is valid (11 → 10)."""
    total = sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True))
    digit = 11 - total % 11
    if digit == 11:
        return 0
    if digit == 10:
        return None
    return digit


def normalise_nhs_number(value: str) -> str:
    """Strip the spaces and dashes people type ("999 123 4561") and validate."""
    digits = value.replace(" ", "").replace("-", "")
    # str.isdigit() also accepts other scripts' digits ("٩") and superscripts ("¹"):
    # an NHS number is ten ASCII digits, nothing else.
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):
        raise InvalidNhsNumber("an NHS number has exactly 10 digits")
    expected = check_digit(digits[:9])
    if expected is None or expected != int(digits[9]):
        raise InvalidNhsNumber("the NHS number's check digit is wrong (Modulus 11)")
    return digits


def is_valid_nhs_number(value: str) -> bool:
    try:
        normalise_nhs_number(value)
    except InvalidNhsNumber:
        return False
    return True


def person_id_for_nhs_number(nhs_number: str) -> uuid.UUID:
    """The platform-wide person id of the person with this NHS number."""
    return uuid.uuid5(CARETHREAD_NAMESPACE, "nhs:" + normalise_nhs_number(nhs_number))


def synthetic_nhs_numbers(start: int = 0) -> Iterator[str]:
    """Valid 999-range NHS numbers, in order, for synthetic people (test and demo data only)."""
    for n in range(start, 1_000_000):
        body = f"{TEST_RANGE_PREFIX}{n:06d}"
        digit = check_digit(body)
        if digit is not None:
            yield body + str(digit)
