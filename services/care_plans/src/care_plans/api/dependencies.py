"""Dependencies the routers share: the clock and the version a writer read (If-Match)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header

from carethread.errors import BadRequest, Problem


class PreconditionRequired(Problem):
    """RFC 6585: a write must say which version it was based on."""

    status, title, slug = 428, "Precondition Required", "precondition-required"


async def clock() -> datetime:
    """The time now; tests replace this dependency to move time on."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(clock)]
_ETAG = re.compile(r'^"(\d{1,9})"$')


def etag(version: int) -> str:
    return f'"{version}"'


async def expected_versions(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='the ETag you read, e.g. "3"; required (428 without it, 412 if stale)',
        ),
    ] = None,
) -> list[int]:
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            'Send If-Match with the ETag of the plan you read (e.g. If-Match: "3"), so that '
            "no one's changes are overwritten."
        )
    found = []
    for tag in if_match.split(","):
        match = _ETAG.match(tag.strip())
        if match is None:
            raise BadRequest(
                f'If-Match must be the strong ETag you read, like "3"; got {if_match!r}.',
                header="If-Match",
            )
        found.append(int(match.group(1)))
    return found


ExpectedVersions = Annotated[list[int], Depends(expected_versions)]
