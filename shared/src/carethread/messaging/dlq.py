"""The dead-letter topic: list what failed, and re-drive it to where it came from.

Re-driving publishes the original message again on its original topic. Every consumer of
that topic sees it, but those that already applied it skip it (inbox), so only the one
that failed applies it. What has been re-driven is tracked as the committed position of
the ``dlq-redrive`` consumer group, so a message is re-driven once.
"""

from __future__ import annotations

from dataclasses import dataclass

from carethread.events.topics import DLQ, prefixed
from carethread.messaging.broker import Broker, IncomingMessage, OutgoingMessage

REDRIVEN_HEADER = "carethread.redriven_from_dlq"


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    consumer: str
    original_topic: str
    event_type: str
    event_id: str
    error: str
    attempts: int
    failed_at: str
    redriven: bool
    message: IncomingMessage


def redrive_group(topic_prefix: str) -> str:
    return f"{topic_prefix}carethread.dlq-redrive"


async def list_dead_letters(broker: Broker, topic_prefix: str = "") -> list[DeadLetter]:
    topic = prefixed(topic_prefix, DLQ)
    messages = await broker.read_all(topic)
    done = await broker.committed_position(redrive_group(topic_prefix), topic)
    return [
        DeadLetter(
            partition=m.partition,
            offset=m.offset,
            consumer=m.header("dlq.consumer") or "?",
            original_topic=m.header("dlq.original_topic") or "?",
            event_type=m.header("ce_type") or "?",
            event_id=m.header("ce_id") or "?",
            error=m.header("dlq.error") or "",
            attempts=int(m.header("dlq.attempts") or 0),
            failed_at=m.header("dlq.failed_at") or "",
            redriven=m.offset < done.get(m.partition, 0),
            message=m,
        )
        for m in messages
    ]


async def redrive(broker: Broker, topic_prefix: str = "") -> list[DeadLetter]:
    """Re-deliver every dead letter not yet re-driven; return what was re-driven."""
    pending = [d for d in await list_dead_letters(broker, topic_prefix) if not d.redriven]
    if not pending:
        return []
    publisher = broker.publisher()
    await publisher.start()
    try:
        await publisher.send_batch(
            [
                OutgoingMessage(
                    topic=d.original_topic,
                    key=d.message.key or "",
                    value=d.message.value,
                    headers=[
                        *((k, v) for k, v in d.message.headers if not k.startswith("dlq.")),
                        (REDRIVEN_HEADER, str(d.offset).encode()),
                    ],
                )
                for d in pending
            ]
        )
    finally:
        await publisher.stop()
    positions: dict[int, int] = {}
    for d in pending:
        positions[d.partition] = max(positions.get(d.partition, 0), d.offset + 1)
    await broker.commit_position(
        redrive_group(topic_prefix), prefixed(topic_prefix, DLQ), positions
    )
    return pending
