"""Synthetic indicator inputs at benchmark scale, written with COPY straight into the
outcomes tables: the rows the service's handlers and measure writes would have made from
that many measures and platform events (the benchmark times reading them, and the handlers
keeping up with new events on top of them)."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from carethread.reference import load_geography
from outcomes.domain.change import Taken, pair
from outcomes.domain.instruments import Answers, instrument, score

START = datetime(2026, 4, 1, tzinfo=UTC)
SEXES = ("female", "male", "female", "male", "unknown")
ETHNIC = "ABCDEFGHJKLMNPRSZ"
SOURCES = ("gp", "acute_trust", "community", "mental_health", "adult_social_care", "vcse", "self")
# Each person is measured on a pair of instruments, before and after.
PAIRS = ("swemwbs", "ons4", "gad7", "phq9")
ITEMS = {"swemwbs": (7, 1, 5), "ons4": (4, 0, 10), "gad7": (7, 0, 3), "phq9": (9, 0, 3)}
EVENTS_PER_REFERRAL = 3  # received, triaged, started (or SLA breached)
REFERRAL_COLUMNS = [
    "referral_id", "person_id", "source", "urgency", "reason_codes", "referrer_org",
    "neighbourhood", "received_at", "status", "sequence", "triaged_at", "decision",
    "triaged_within_sla", "sla_breached", "destination_kind", "destination_id",
    "social_prescription", "started_at", "completed_at",
]  # fmt: skip
CHANGE_COLUMNS = [
    "person_id", "instrument", "scale", "before_measure_id", "after_measure_id",
    "before_value", "after_value", "change", "direction", "before_at", "after_at",
]  # fmt: skip
# Each unit row's copy of its person's fields, as the service keeps them (store.dimensions).
PERSON_COLUMNS = [
    "person_imd_quintile", "person_sex", "person_ethnicity_code", "person_borough",
    "person_neighbourhood", "person_birth_date", "person_in_plus_group",
    "person_social_prescribed", "person_has_care_plan", "person_opted_out",
]  # fmt: skip


# The consumer's inbox: a row for every event it applied (the service consumed the
# platform's events to make these rows), so the update runs against an inbox of the
# size it would have.
INBOX = """
INSERT INTO inbox (consumer, event_id, event_type, applied_at)
SELECT 'outcomes', gen_random_uuid(),
       CASE WHEN n <= $2 THEN 'carethread.person.registered.v1'
            ELSE (ARRAY['carethread.referral.received.v1', 'carethread.referral.triaged.v1',
                        'carethread.referral.status-changed.v1'])[1 + (n - $2) % 3] END,
       '2026-11-30T00:00:00Z'
FROM generate_series(1, $1) AS n
"""


@dataclass(frozen=True)
class Scale:
    measures: int = 1_000_000
    events: int = 2_000_000
    people: int = 125_000  # four instruments before and after each: 1,000,000 measures


@dataclass(frozen=True)
class Seeded:
    people: int
    measures: int
    measure_changes: int
    referrals: int
    events: int


def _answers(rng: random.Random, name: str) -> list[float]:
    count, low, high = ITEMS[name]
    return [float(rng.randint(low, high)) for _ in range(count)]


def _scores(name: str, answers: list[float]) -> list[dict[str, Any]]:
    scored = score(name, Answers(items=answers))
    return [{"scale": s.scale, "value": s.value, "band": s.band} for s in scored.scores]


async def seed(dsn: str, scale: Scale, seed_value: int = 11) -> Seeded:
    rng = random.Random(seed_value)
    geography = load_geography()
    areas = sorted(geography.neighbourhoods.values(), key=lambda n: n.code)
    people = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(scale.people)]
    referrals = max(0, (scale.events - scale.people) // EVENTS_PER_REFERRAL)
    referral_rows = []
    for _ in range(referrals):
        pid = rng.choice(people)
        received = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 240))
        triaged = received + timedelta(hours=rng.randint(1, 200))
        prescribed = rng.random() < 0.3
        started = triaged + timedelta(days=3) if rng.random() < 0.6 else None
        referral_rows.append(
            (
                uuid.UUID(int=rng.getrandbits(128), version=4), pid, rng.choice(SOURCES),
                "routine", json.dumps(["isolation"]), "F83004", None, received,
                "in_progress" if started else "routed", 3, triaged, "route" if prescribed
                else "accept", rng.random() < 0.8, rng.random() < 0.2,
                "service" if prescribed else "neighbourhood_mdt", "svc", prescribed, started, None,
            )
        )  # fmt: skip
    prescribed_people = {r[1] for r in referral_rows if r[16]}
    person_rows = []
    for pid in people:
        area = rng.choice(areas)
        person_rows.append(
            (
                pid, date(1930, 1, 1) + timedelta(days=rng.randrange(33_000)), rng.choice(SEXES),
                rng.choice(ETHNIC), area.borough or None, area.code, None, rng.randint(1, 5),
                None, True, "[]", rng.random() < 0.1, START, START, False,
                pid in prescribed_people, False,
            )
        )  # fmt: skip
    # What each unit copies from its person (no one here has opted out).
    copied = {
        p[0]: (p[7], p[2], p[3], p[4], p[5], p[1], p[11], p[15], p[16], False) for p in person_rows
    }
    referral_records = [(*r, *copied[r[1]]) for r in referral_rows]
    measure_rows, change_rows = [], []
    pairs_left = scale.measures // 2
    for i, pid in enumerate(people):
        # Spread the pairs evenly, at most one per instrument for each person.
        mine = min(len(PAIRS), -(-pairs_left // (len(people) - i)))
        pairs_left -= mine
        offset = rng.randrange(len(PAIRS))
        for k in range(mine):
            name = PAIRS[(k + offset) % len(PAIRS)]
            first = START + timedelta(days=rng.randrange(0, 120))
            taken = []
            for n in range(2):
                mid = uuid.UUID(int=rng.getrandbits(128), version=4)
                answers = _answers(rng, name)
                scores = _scores(name, answers)
                at = first + timedelta(weeks=10 * n)
                measure_rows.append(
                    (
                        mid, pid, name, json.dumps(answers), None, None, json.dumps(scores),
                        "social_prescription", "bench", at, "bench", None, "VCS01", None, mid,
                    )
                )  # fmt: skip
                taken.append(Taken(str(mid), at, {s["scale"]: s["value"] for s in scores}))
            found = pair(instrument(name), taken)
            assert found is not None
            for c in found.changes:
                change_rows.append(
                    (
                        pid, name, c.scale, uuid.UUID(found.before.measure_id),
                        uuid.UUID(found.after.measure_id), c.before, c.after, c.change,
                        c.direction.value, found.before.recorded_at, found.after.recorded_at,
                        *copied[pid],
                    )
                )  # fmt: skip
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table("person", records=person_rows)
        await conn.copy_records_to_table(
            "referral_fact", records=referral_records, columns=REFERRAL_COLUMNS + PERSON_COLUMNS
        )
        await conn.copy_records_to_table(
            "measure",
            records=measure_rows,
            columns=[
                "id", "person_id", "instrument", "answers", "external", "weights", "scores",
                "context_kind", "context_id", "recorded_at", "recorded_by", "recorded_by_name",
                "recorded_by_org", "idempotency_key", "event_id",
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "measure_change", records=change_rows, columns=CHANGE_COLUMNS + PERSON_COLUMNS
        )
        events = len(person_rows) + EVENTS_PER_REFERRAL * len(referral_rows)
        await conn.execute(INBOX, events, len(person_rows))
        # As autovacuum would after a bulk insert: statistics, and the visibility map an
        # index-only scan relies on.
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return Seeded(
        people=len(person_rows),
        measures=len(measure_rows),
        measure_changes=len(change_rows),
        referrals=len(referral_rows),
        events=len(person_rows) + EVENTS_PER_REFERRAL * len(referral_rows),
    )
