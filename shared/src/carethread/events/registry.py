"""The registry of event types: one pydantic model per type, the single source of truth.

An event model declares its CloudEvents ``type``, the topic it travels on and (optionally)
how to upcast the previous version, so a consumer of V2 also accepts V1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from carethread.events.envelope import CloudEvent


class EventData(BaseModel):
    """Base of every event payload model."""

    model_config = ConfigDict(extra="allow", frozen=True)

    event_type: ClassVar[str]
    topic: ClassVar[str]
    source_service: ClassVar[str]


E = TypeVar("E", bound=type[EventData])
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(LookupError):
    pass


class EventRegistry:
    """Maps a CloudEvents ``type`` to its model, and old versions to newer ones."""

    def __init__(self) -> None:
        self._models: dict[str, type[EventData]] = {}
        self._upcasters: dict[str, tuple[str, Upcaster]] = {}

    def register(self, model: E) -> E:
        existing = self._models.get(model.event_type)
        if existing is not None and existing is not model:
            raise ValueError(f"event type {model.event_type} registered twice")
        self._models[model.event_type] = model
        return model

    def upcaster(self, old_type: str, new_type: str) -> Callable[[Upcaster], Upcaster]:
        """Declare how data of ``old_type`` becomes data of ``new_type``."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[old_type] = (new_type, fn)
            return fn

        return decorate

    def model_for(self, event_type: str) -> type[EventData]:
        try:
            return self._models[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def upcast(self, envelope: CloudEvent, wanted: str) -> dict[str, Any]:
        """The envelope's data upcast step by step until it is of type ``wanted``."""
        event_type, data = envelope.type, dict(envelope.data)
        while event_type != wanted:
            if event_type not in self._upcasters:
                raise UnknownEventType(f"no upcast from {event_type} to {wanted}")
            event_type, step = self._upcasters[event_type]
            data = step(data)
        return data

    def types_upcastable_to(self, wanted: str) -> set[str]:
        found = {wanted}
        changed = True
        while changed:
            changed = False
            for old, (new, _) in self._upcasters.items():
                if new in found and old not in found:
                    found.add(old)
                    changed = True
        return found

    def __iter__(self) -> Iterator[type[EventData]]:
        return iter(sorted(self._models.values(), key=lambda m: m.event_type))

    def topics(self) -> set[str]:
        return {m.topic for m in self._models.values()}


registry = EventRegistry()
