"""Messaging: the broker protocol and its adapters, the outbox, consumers and the DLQ."""

from carethread.messaging.broker import (
    Broker,
    BrokerUnavailable,
    IncomingMessage,
    OutgoingMessage,
    Publisher,
    Subscriber,
)
from carethread.messaging.consumer import EventConsumer, PoisonMessage
from carethread.messaging.kafka import KafkaBroker
from carethread.messaging.memory import InMemoryBroker
from carethread.messaging.outbox import OutboxRelay, add_to_outbox, replay
from carethread.messaging.router import EventRouter

__all__ = [
    "Broker",
    "BrokerUnavailable",
    "EventConsumer",
    "EventRouter",
    "InMemoryBroker",
    "IncomingMessage",
    "KafkaBroker",
    "OutboxRelay",
    "OutgoingMessage",
    "PoisonMessage",
    "Publisher",
    "Subscriber",
    "add_to_outbox",
    "replay",
]
