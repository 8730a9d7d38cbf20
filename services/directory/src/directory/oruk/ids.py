"""Feed ids as CareThread ids: a feed's UUID is kept; any other id (v1 feeds use numbers and
slugs) becomes a UUID derived from it, so a re-import finds the same rows."""

from __future__ import annotations

import uuid

IMPORT_NAMESPACE = uuid.UUID("2b8c1f0e-5d7a-5e4b-9c3d-8a1f2e3b4c5d")


def feed_id(kind: str, value: object) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        return uuid.UUID(text)
    except ValueError:
        return uuid.uuid5(IMPORT_NAMESPACE, f"{kind}:{text}")
