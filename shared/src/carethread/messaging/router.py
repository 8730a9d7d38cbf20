"""The explicit table of what a service consumes: ``@router.on(ReferralReceivedV1)``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from carethread.db.uow import UnitOfWork
from carethread.events.envelope import Event
from carethread.events.registry import EventData, EventRegistry
from carethread.events.registry import registry as default_registry

D = TypeVar("D", bound=EventData)
Handler = Callable[[Event[Any], UnitOfWork], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    model: type[EventData]
    handler: Handler


class EventRouter:
    def __init__(self, registry: EventRegistry = default_registry) -> None:
        self.registry = registry
        self._routes: dict[str, Route] = {}

    def on(
        self, model: type[D]
    ) -> Callable[[Callable[[Event[D], UnitOfWork], Awaitable[None]]], Handler]:
        """Register a handler for ``model`` (and every older version upcast to it)."""

        def decorate(fn: Callable[[Event[D], UnitOfWork], Awaitable[None]]) -> Handler:
            for event_type in self.registry.types_upcastable_to(model.event_type):
                if event_type in self._routes:
                    raise ValueError(f"two handlers for {event_type}")
                self._routes[event_type] = Route(model, fn)
            return fn

        return decorate

    def route_for(self, event_type: str) -> Route | None:
        return self._routes.get(event_type)

    @property
    def topics(self) -> list[str]:
        return sorted({r.model.topic for r in self._routes.values()})

    @property
    def event_types(self) -> list[str]:
        return sorted(self._routes)

    def __bool__(self) -> bool:
        return bool(self._routes)
