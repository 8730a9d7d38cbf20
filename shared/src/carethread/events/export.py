"""JSON Schema and AsyncAPI export of the event registry."""

from __future__ import annotations

from typing import Any

from carethread.events.envelope import CloudEvent
from carethread.events.registry import EventRegistry

# Required by CloudEvents 1.0. The envelope model gives ``id`` and ``specversion`` defaults,
# so its own schema would call them optional; on the wire every event has them.
CLOUDEVENTS_REQUIRED = ("id", "source", "specversion", "type")


def json_schemas(registry: EventRegistry) -> dict[str, dict[str, Any]]:
    """One JSON Schema per event type: the envelope with ``data`` of that type's model."""
    envelope = CloudEvent.model_json_schema()
    schemas: dict[str, dict[str, Any]] = {}
    for model in registry:
        data_schema = model.model_json_schema()
        schema = dict(envelope)
        schema["$id"] = f"https://carethread.example/schemas/{model.event_type}.json"
        schema["title"] = model.event_type
        props = dict(schema["properties"])
        props["type"] = {"const": model.event_type}
        props["data"] = {"$ref": "#/$defs/" + model.__name__}
        schema["properties"] = props
        schema["required"] = [
            *CLOUDEVENTS_REQUIRED,
            *(r for r in schema["required"] if r not in CLOUDEVENTS_REQUIRED),
        ]
        schema["$defs"] = {**data_schema.pop("$defs", {}), model.__name__: data_schema}
        schemas[model.event_type] = schema
    return schemas


def asyncapi_document(registry: EventRegistry, *, version: str = "0.1.0") -> dict[str, Any]:
    """An AsyncAPI 3.0 document: a channel per topic, a message per event type."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    components: dict[str, Any] = {"messages": {}, "schemas": {}}
    for model in registry:
        name = model.__name__
        data_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for def_name, definition in data_schema.pop("$defs", {}).items():
            components["schemas"][def_name] = definition
        components["schemas"][name] = data_schema
        components["messages"][name] = {
            "name": model.event_type,
            "title": name,
            "summary": (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else "",
            "contentType": "application/cloudevents+json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
        }
        channel_id = model.topic.replace(".", "-")
        channel = channels.setdefault(channel_id, {"address": model.topic, "messages": {}})
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        op = operations.setdefault(
            f"publish-{channel_id}",
            {"action": "send", "channel": {"$ref": f"#/channels/{channel_id}"}, "messages": []},
        )
        op["messages"].append({"$ref": f"#/channels/{channel_id}/messages/{name}"})
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "CareThread domain events", "version": version},
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": components,
    }
