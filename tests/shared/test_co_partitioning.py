"""Two members of a consumer group (a service run with two workers) share the topics so that
each person's events, whatever topic they come on, reach one member: the MDT view's two
consumers then never apply one person's events at the same time."""

from __future__ import annotations

import asyncio

import pytest

from carethread.messaging import IncomingMessage, KafkaBroker, OutgoingMessage
from carethread.messaging.kafka import KafkaSubscriber
from carethread.settings import KafkaSettings

PEOPLE = [f"person-{n}" for n in range(30)]


async def _settled(members: list[KafkaSubscriber], partitions: int) -> None:
    """Poll every member until the group's rebalance has dealt out every partition."""
    async with asyncio.timeout(60):
        while True:
            for member in members:
                await member.poll(100, 1)  # joining and rebalancing happen in polls
            held = [member.assigned() for member in members]
            if all(held) and sum(len(h) for h in held) == partitions:
                return


@pytest.mark.kafka
async def test_a_persons_events_on_every_topic_reach_one_member(
    kafka_settings: KafkaSettings,
) -> None:
    broker = KafkaBroker(kafka_settings)
    topics = [kafka_settings.topic_prefix + name for name in ("referrals", "care-plans")]
    publisher = broker.publisher()
    await publisher.start()
    await publisher.ensure_topics(topics)
    members = [broker.subscriber("view", topics) for _ in range(2)]
    for member in members:
        await member.start()
    try:
        await _settled(members, kafka_settings.partitions * len(topics))
        await publisher.send_batch(
            [OutgoingMessage(topic, person, b"{}") for topic in topics for person in PEOPLE]
        )
        got: list[list[IncomingMessage]] = [[], []]
        async with asyncio.timeout(30):
            while sum(map(len, got)) < len(topics) * len(PEOPLE):
                for n, member in enumerate(members):
                    got[n] += await member.poll(100, 500)
        holder = {(m.topic, m.key): n for n, messages in enumerate(got) for m in messages}
        for person in PEOPLE:
            assert len({holder[(topic, person)] for topic in topics}) == 1, person
        assert all(got), "both members hold some people"
    finally:
        for member in members:
            await member.stop()
        await publisher.stop()
