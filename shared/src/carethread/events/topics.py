"""Topic names. A deployment (or a test) may prefix them all with ``KAFKA_TOPIC_PREFIX``."""

from __future__ import annotations

REFERRALS = "carethread.referrals.v1"
CARE_PLANS = "carethread.care-plans.v1"
DIRECTORY = "carethread.directory.v1"
OUTCOMES = "carethread.outcomes.v1"
AUDIT = "carethread.audit.v1"
DLQ = "carethread.dlq.v1"

ALL = (REFERRALS, CARE_PLANS, DIRECTORY, OUTCOMES, AUDIT, DLQ)


def prefixed(prefix: str, topic: str) -> str:
    return f"{prefix}{topic}"
