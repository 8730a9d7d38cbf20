"""The CloudEvents 1.0 envelope (structured JSON mode) every CareThread event travels in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

DataT = TypeVar("DataT", bound=BaseModel)


class CloudEvent(BaseModel):
    """Envelope with the CareThread extensions (``personid``, ``neighbourhood``,
    ``sequence``, ``traceparent``). ``data`` stays a plain dict here; the registry turns it
    into the typed model of the event's ``type``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: str = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    source: str
    type: str
    subject: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = "application/json"
    data: dict[str, Any]
    personid: str | None = None
    neighbourhood: str | None = None
    sequence: int | None = None
    traceparent: str | None = None

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json_bytes(cls, raw: bytes) -> CloudEvent:
        return cls.model_validate_json(raw)


class Event(BaseModel, Generic[DataT]):
    """A received event: the envelope plus its data parsed into the registered model."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    envelope: CloudEvent
    data: DataT

    @property
    def id(self) -> uuid.UUID:
        return self.envelope.id
