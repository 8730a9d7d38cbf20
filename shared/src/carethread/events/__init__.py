"""Domain events: the CloudEvents envelope, the registry and every event model."""

from carethread.events import audit, care_plans, directory, outcomes, referrals, topics
from carethread.events.envelope import CloudEvent, Event
from carethread.events.factory import new_event
from carethread.events.registry import EventData, EventRegistry, UnknownEventType, registry

__all__ = [
    "CloudEvent",
    "Event",
    "EventData",
    "EventRegistry",
    "UnknownEventType",
    "audit",
    "care_plans",
    "directory",
    "new_event",
    "outcomes",
    "referrals",
    "registry",
    "topics",
]
