"""The CloudEvents envelope, the event registry and its upcasters, and the schema export."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from carethread.cli import app as cli
from carethread.events import (
    CloudEvent,
    Event,
    EventData,
    EventRegistry,
    UnknownEventType,
    new_event,
    registry,
)
from carethread.events.audit import AuditRecordedV1
from carethread.events.referrals import PersonSummary, ReferralReceivedV1
from carethread.messaging import EventConsumer, EventRouter, IncomingMessage
from carethread.messaging.consumer import consume_once
from carethread.messaging.memory import InMemoryBroker
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from carethread.observability.metrics import ServiceMetrics
from carethread.observability.tracing import configure_tracing, span_from_headers
from tests.shared.support import database

CLOUDEVENTS_REQUIRED = {"id", "source", "specversion", "type"}
EXTENSIONS = {"personid", "neighbourhood", "sequence", "traceparent"}
# CloudEvents 1.0: attribute names are lower-case ASCII letters and digits only.
ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]+$")
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
PARENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{PARENT_TRACE_ID}-00f067aa0ba902b7-01"
NHS = next(synthetic_nhs_numbers(start=7070))
PERSON_ID = person_id_for_nhs_number(NHS)


def referral_received() -> ReferralReceivedV1:
    return ReferralReceivedV1(
        referral_id=uuid.uuid4(),
        person_id=PERSON_ID,
        has_nhs_number=True,
        person=PersonSummary(
            given_name="Ada",
            family_name="Synthetic",
            birth_date=date(1948, 3, 2),
            gp_practice_code="F83004",
            borough="Islington",
            imd_quintile=2,
        ),
        source="gp",
        urgency="urgent",
        reason_codes=["isolation", "housing"],
        neighbourhood="U02795",
        referrer_org="F83004",
        received_at=datetime.now(UTC),
        status="received",
    )


def audit_recorded() -> AuditRecordedV1:
    return AuditRecordedV1(
        audit_id=uuid.uuid4(),
        service="referrals",
        actor="dev.user",
        organisation="F83004",
        roles=["referrer"],
        action="create",
        resource_type="referral",
        resource_id=str(uuid.uuid4()),
        person_id=PERSON_ID,
        purpose="direct-care",
        outcome="success",
        recorded_at=datetime.now(UTC),
    )


def real_event(data: EventData) -> CloudEvent:
    """An event as a service builds it: inside a request's span, with every extension."""
    configure_tracing()
    with span_from_headers("POST /api/v1/referrals", {"traceparent": PARENT}):
        return new_event(
            data, subject=str(PERSON_ID), person_id=PERSON_ID, neighbourhood="U02795", sequence=7
        )


REAL_DATA = {
    ReferralReceivedV1.event_type: referral_received,
    AuditRecordedV1.event_type: audit_recorded,
}


# The envelope


def test_an_event_carries_the_cloudevents_attributes_and_extensions() -> None:
    data = referral_received()
    event = real_event(data)
    wire = json.loads(event.to_json_bytes())

    assert set(wire) >= CLOUDEVENTS_REQUIRED
    assert wire["specversion"] == "1.0"
    assert uuid.UUID(wire["id"]) == event.id
    assert wire["source"] == "carethread/referrals"
    assert wire["type"] == "carethread.referral.received.v1"
    assert wire["subject"] == str(PERSON_ID)
    assert wire["datacontenttype"] == "application/json"
    time = datetime.fromisoformat(wire["time"])  # RFC 3339, with its offset
    assert time.utcoffset() is not None
    assert isinstance(wire["data"], dict)
    assert ReferralReceivedV1.model_validate(wire["data"]) == data

    assert wire["personid"] == str(PERSON_ID)
    assert wire["neighbourhood"] == "U02795"
    assert wire["sequence"] == 7
    match = TRACEPARENT.match(wire["traceparent"])
    assert match is not None, wire["traceparent"]
    assert match.group(1) == PARENT_TRACE_ID  # the request's trace continues in the event
    assert all(ATTRIBUTE_NAME.match(name) for name in wire), sorted(wire)
    assert all(len(name) <= 20 for name in EXTENSIONS)


def test_an_event_round_trips_through_json() -> None:
    event = real_event(referral_received())
    back = CloudEvent.from_json_bytes(event.to_json_bytes())
    assert back == event
    assert back.to_json_bytes() == event.to_json_bytes()
    assert back.time == event.time
    assert back.time.tzinfo is not None


def test_absent_extensions_are_left_out_rather_than_null() -> None:
    event = new_event(audit_recorded(), subject="a", person_id=None)
    wire = json.loads(event.to_json_bytes())
    assert not EXTENSIONS & set(wire), wire
    assert None not in wire.values()
    assert CloudEvent.from_json_bytes(event.to_json_bytes()) == event


def test_an_unknown_extension_survives_the_round_trip() -> None:
    raw = json.loads(real_event(referral_received()).to_json_bytes())
    raw["comexampleext"] = "kept"
    back = CloudEvent.from_json_bytes(json.dumps(raw).encode())
    assert json.loads(back.to_json_bytes())["comexampleext"] == "kept"


@pytest.mark.parametrize("missing", ["source", "type", "data"])
def test_an_envelope_missing_a_required_attribute_is_refused(missing: str) -> None:
    raw = json.loads(real_event(referral_received()).to_json_bytes())
    del raw[missing]
    with pytest.raises(ValidationError):
        CloudEvent.from_json_bytes(json.dumps(raw).encode())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@given(
    data=st.dictionaries(st.text(max_size=12), json_values, max_size=6),
    subject=st.text(min_size=1, max_size=40),
    neighbourhood=st.none() | st.from_regex(r"\AU[0-9]{5}\Z"),
    sequence=st.none() | st.integers(0, 2**53),
    time=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001  # hypothesis wants naive bounds
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_any_envelope_round_trips(
    data: dict[str, Any],
    subject: str,
    neighbourhood: str | None,
    sequence: int | None,
    time: datetime,
) -> None:
    event = CloudEvent(
        source="carethread/tests",
        type="carethread.thing.happened.v1",
        subject=subject,
        time=time,
        data=data,
        personid=str(PERSON_ID),
        neighbourhood=neighbourhood,
        sequence=sequence,
    )
    assert CloudEvent.from_json_bytes(event.to_json_bytes()) == event


# The registry


def test_the_registry_knows_every_published_type_and_refuses_others() -> None:
    assert registry.model_for("carethread.referral.received.v1") is ReferralReceivedV1
    assert registry.model_for("carethread.audit.recorded.v1") is AuditRecordedV1
    with pytest.raises(UnknownEventType):
        registry.model_for("carethread.referral.teleported.v1")
    with pytest.raises(UnknownEventType):
        registry.model_for("")
    assert {"carethread.referrals.v1", "carethread.audit.v1"} <= registry.topics()


def test_a_type_cannot_be_registered_to_two_models() -> None:
    fresh = EventRegistry()

    class First(EventData):
        event_type: ClassVar[str] = "carethread.test.clash.v1"
        topic: ClassVar[str] = "carethread.test.v1"
        source_service: ClassVar[str] = "tests"

    class Second(First):
        pass

    fresh.register(First)
    fresh.register(First)  # the same model again is harmless
    with pytest.raises(ValueError, match="registered twice"):
        fresh.register(Second)
    assert fresh.model_for(First.event_type) is First


# Upcasting: a throwaway V1 -> V2 -> V3 in a registry of the test's own

upcast_registry = EventRegistry()
THROWAWAY_TOPIC = "carethread.test-upcast.v1"


@upcast_registry.register
class NameRecordedV1(EventData):
    event_type: ClassVar[str] = "carethread.test.name-recorded.v1"
    topic: ClassVar[str] = THROWAWAY_TOPIC
    source_service: ClassVar[str] = "tests"

    person: str
    full_name: str


@upcast_registry.register
class NameRecordedV2(EventData):
    event_type: ClassVar[str] = "carethread.test.name-recorded.v2"
    topic: ClassVar[str] = THROWAWAY_TOPIC
    source_service: ClassVar[str] = "tests"

    person: str
    given_name: str
    family_name: str


@upcast_registry.register
class NameRecordedV3(EventData):
    event_type: ClassVar[str] = "carethread.test.name-recorded.v3"
    topic: ClassVar[str] = THROWAWAY_TOPIC
    source_service: ClassVar[str] = "tests"

    person: str
    given_name: str
    family_name: str
    preferred_name: str | None


@upcast_registry.upcaster(NameRecordedV1.event_type, NameRecordedV2.event_type)
def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    given, _, family = data.pop("full_name").partition(" ")
    return {**data, "given_name": given, "family_name": family}


@upcast_registry.upcaster(NameRecordedV2.event_type, NameRecordedV3.event_type)
def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "preferred_name": None}


def old_event() -> CloudEvent:
    return new_event(
        NameRecordedV1(person="p-1", full_name="Ada Synthetic"), subject="p-1", person_id=None
    )


def test_the_throwaway_types_stay_out_of_the_global_registry() -> None:
    for model in (NameRecordedV1, NameRecordedV2, NameRecordedV3):
        with pytest.raises(UnknownEventType):
            registry.model_for(model.event_type)
    assert THROWAWAY_TOPIC not in registry.topics()


def test_an_older_version_is_upcast_step_by_step_to_the_current_model() -> None:
    envelope = old_event()
    assert envelope.type == NameRecordedV1.event_type
    data = upcast_registry.upcast(envelope, NameRecordedV3.event_type)
    current = NameRecordedV3.model_validate(data)
    assert current == NameRecordedV3(
        person="p-1", given_name="Ada", family_name="Synthetic", preferred_name=None
    )
    assert envelope.data == {"person": "p-1", "full_name": "Ada Synthetic"}  # left alone
    assert upcast_registry.upcast(envelope, NameRecordedV1.event_type) == envelope.data


def test_there_is_no_upcast_without_a_declared_path() -> None:
    newer = new_event(
        NameRecordedV3(person="p", given_name="A", family_name="B", preferred_name=None),
        subject="p",
        person_id=None,
    )
    with pytest.raises(UnknownEventType):
        upcast_registry.upcast(newer, NameRecordedV1.event_type)  # never downcast
    with pytest.raises(UnknownEventType):
        EventRegistry().upcast(old_event(), NameRecordedV3.event_type)


def test_a_handler_of_the_current_version_is_routed_every_older_one() -> None:
    router = EventRouter(upcast_registry)

    @router.on(NameRecordedV3)
    async def on_name(event: Event[NameRecordedV3], uow: object) -> None:
        return None

    assert upcast_registry.types_upcastable_to(NameRecordedV3.event_type) == {
        NameRecordedV1.event_type,
        NameRecordedV2.event_type,
        NameRecordedV3.event_type,
    }
    for event_type in router.event_types:
        route = router.route_for(event_type)
        assert route is not None
        assert route.model is NameRecordedV3
    assert router.event_types == sorted(
        upcast_registry.types_upcastable_to(NameRecordedV3.event_type)
    )
    assert router.topics == [THROWAWAY_TOPIC]


async def test_a_consumer_of_the_current_version_receives_an_old_event_upcast(
    tmp_path: Path,
) -> None:
    router = EventRouter(upcast_registry)
    received: list[Event[NameRecordedV3]] = []

    @router.on(NameRecordedV3)
    async def on_name(event: Event[NameRecordedV3], uow: object) -> None:
        received.append(event)

    envelope = old_event()
    message = IncomingMessage(
        THROWAWAY_TOPIC,
        0,
        0,
        "p-1",
        envelope.to_json_bytes(),
        (("ce_type", envelope.type.encode()),),
    )
    async with database(f"sqlite+aiosqlite:///{tmp_path / 'upcast.db'}") as (_, sessions):
        consumer = EventConsumer(
            name="tests",
            router=router,
            sessions=sessions,
            broker=InMemoryBroker(),
            topic_prefix="",
            metrics=ServiceMetrics("tests"),
        )
        await consume_once(consumer, [message, message])
    assert len(received) == 1  # the second delivery is a duplicate
    assert isinstance(received[0].data, NameRecordedV3)
    assert received[0].data.given_name == "Ada"
    assert received[0].data.family_name == "Synthetic"
    assert received[0].envelope.type == NameRecordedV1.event_type
    assert received[0].id == envelope.id


# Export: JSON Schema and AsyncAPI

_IGNORED = {"title", "description", "default", "examples", "$id", "$defs", "$schema"}
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/"), f"only local references are expected, not {ref}"
    node: Any = root
    for part in ref[2:].split("/"):
        assert isinstance(node, dict), f"unresolvable reference {ref}"
        assert part in node, f"unresolvable reference {ref}"
        node = node[part]
    assert isinstance(node, dict)
    return node


def _is_type(instance: Any, name: str) -> bool:
    if isinstance(instance, bool) and name in ("integer", "number"):
        return False
    return isinstance(instance, _TYPES[name])


def _format_ok(instance: str, fmt: str) -> bool:
    try:
        if fmt == "uuid":
            uuid.UUID(instance)
        elif fmt == "date-time":
            return datetime.fromisoformat(instance).utcoffset() is not None
        elif fmt == "date":
            date.fromisoformat(instance)
        else:
            raise AssertionError(f"format {fmt} is not checked by this validator")
    except ValueError:
        return False
    return True


def schema_errors(  # noqa: PLR0912  # one branch per JSON Schema keyword
    instance: Any, schema: dict[str, Any], root: dict[str, Any], at: str = "$"
) -> list[str]:
    """The subset of JSON Schema (2020-12) that pydantic emits, strictly: an unknown
    keyword fails the test rather than passing silently. (jsonschema is not installed.)"""
    errors: list[str] = []
    for keyword, rule in schema.items():
        if keyword in _IGNORED:
            continue
        if keyword == "$ref":
            errors += schema_errors(instance, _resolve(root, rule), root, at)
        elif keyword == "anyOf":
            if all(schema_errors(instance, s, root, at) for s in rule):
                errors.append(f"{at}: matches none of anyOf")
        elif keyword == "const":
            if instance != rule:
                errors.append(f"{at}: {instance!r} is not {rule!r}")
        elif keyword == "enum":
            if instance not in rule:
                errors.append(f"{at}: {instance!r} not in {rule!r}")
        elif keyword == "type":
            names = rule if isinstance(rule, list) else [rule]
            if not any(_is_type(instance, n) for n in names):
                errors.append(f"{at}: {instance!r} is not of type {rule}")
        elif keyword == "format":
            if isinstance(instance, str) and not _format_ok(instance, rule):
                errors.append(f"{at}: {instance!r} is not a {rule}")
        elif keyword == "required":
            if isinstance(instance, dict):
                errors += [f"{at}: {k} is required" for k in rule if k not in instance]
        elif keyword == "properties":
            if isinstance(instance, dict):
                for k, sub in rule.items():
                    if k in instance:
                        errors += schema_errors(instance[k], sub, root, f"{at}.{k}")
        elif keyword == "additionalProperties":
            if isinstance(instance, dict):
                extra = set(instance) - set(schema.get("properties", {}))
                if rule is False and extra:
                    errors.append(f"{at}: unexpected {sorted(extra)}")
                elif isinstance(rule, dict):
                    for k in extra:
                        errors += schema_errors(instance[k], rule, root, f"{at}.{k}")
        elif keyword == "items":
            if isinstance(instance, list):
                for i, item in enumerate(instance):
                    errors += schema_errors(item, rule, root, f"{at}[{i}]")
        elif keyword in ("minimum", "maximum"):
            if _is_type(instance, "number"):
                ok = instance >= rule if keyword == "minimum" else instance <= rule
                if not ok:
                    errors.append(f"{at}: {instance} fails {keyword} {rule}")
        else:
            raise AssertionError(f"{at}: keyword {keyword!r} is not checked by this validator")
    return errors


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "events"
    result = CliRunner().invoke(cli, ["events", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # the report goes to stderr
    assert "asyncapi.json" in result.stderr
    return out


def test_export_writes_a_schema_per_registered_type_and_an_asyncapi_document(
    exported: Path,
) -> None:
    expected = {f"{model.event_type}.schema.json" for model in registry}
    assert expected
    assert {p.name for p in exported.iterdir()} == expected | {"asyncapi.json"}
    assert set(REAL_DATA) <= {model.event_type for model in registry}


@pytest.mark.parametrize("event_type", sorted(REAL_DATA))
def test_each_schema_validates_a_real_event(exported: Path, event_type: str) -> None:
    schema = json.loads((exported / f"{event_type}.schema.json").read_text())
    assert schema["title"] == event_type
    assert schema["type"] == "object"
    assert CLOUDEVENTS_REQUIRED | {"data"} <= set(schema["required"])
    assert set(schema["properties"]) >= EXTENSIONS
    for ref in refs(schema):
        _resolve(schema, ref)

    event = json.loads(real_event(REAL_DATA[event_type]()).to_json_bytes())
    assert schema_errors(event, schema, schema) == []

    # ... and the schema has teeth: it refuses what is not such an event.
    wrong_type = {**event, "type": "carethread.something.else.v1"}
    assert schema_errors(wrong_type, schema, schema)
    for attribute in CLOUDEVENTS_REQUIRED:
        missing = {k: v for k, v in event.items() if k != attribute}
        assert schema_errors(missing, schema, schema), f"accepted an event without {attribute}"
    model = registry.model_for(event_type)
    for name, field in model.model_fields.items():
        if field.is_required():
            data = {k: v for k, v in event["data"].items() if k != name}
            assert schema_errors({**event, "data": data}, schema, schema), name
    bad_data = {**event["data"], "person_id": "not-a-uuid"}
    assert schema_errors({**event, "data": bad_data}, schema, schema)


def test_the_asyncapi_document_names_every_topic_and_message(exported: Path) -> None:
    doc = json.loads((exported / "asyncapi.json").read_text())
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"]
    assert doc["info"]["version"]
    for ref in refs(doc):
        _resolve(doc, ref)
    component_key = re.compile(r"^[a-zA-Z0-9.\-_]+$")

    channels: dict[str, Any] = doc["channels"]
    assert {c["address"] for c in channels.values()} == registry.topics()
    assert all(component_key.match(k) for k in channels)

    messages: dict[str, Any] = doc["components"]["messages"]
    assert all(component_key.match(k) for k in messages)
    assert {m["name"] for m in messages.values()} == {model.event_type for model in registry}
    for model in registry:
        (channel,) = [c for c in channels.values() if c["address"] == model.topic]
        (ref,) = [
            m["$ref"]
            for m in channel["messages"].values()
            if _resolve(doc, m["$ref"])["name"] == model.event_type
        ]
        message = _resolve(doc, ref)
        assert message["contentType"] == "application/cloudevents+json"
        assert _resolve(doc, message["payload"]["$ref"])  # the data's schema

    for operation in doc["operations"].values():
        assert operation["action"] in ("send", "receive")
        channel_ref = operation["channel"]["$ref"]
        assert operation["messages"]
        for message_ref in operation["messages"]:
            # AsyncAPI 3: an operation's messages are its channel's messages.
            assert message_ref["$ref"].startswith(channel_ref + "/messages/")
    published = {op["channel"]["$ref"] for op in doc["operations"].values()}
    assert published == {f"#/channels/{k}" for k in channels}


@pytest.mark.parametrize("event_type", sorted(REAL_DATA))
def test_each_asyncapi_payload_validates_a_real_events_data(
    exported: Path, event_type: str
) -> None:
    doc = json.loads((exported / "asyncapi.json").read_text())
    (message,) = [m for m in doc["components"]["messages"].values() if m["name"] == event_type]
    payload = _resolve(doc, message["payload"]["$ref"])
    data = json.loads(real_event(REAL_DATA[event_type]()).to_json_bytes())["data"]
    assert schema_errors(data, payload, doc) == []
    assert schema_errors({**data, "person_id": 42}, payload, doc)
