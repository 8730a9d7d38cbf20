"""``carethread``: run the dev stack, mint dev tokens, replay outboxes, work the DLQ."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from carethread.settings import AuthSettings, KafkaSettings

app = typer.Typer(no_args_is_help=True, help=__doc__, add_completion=False)
dlq_app = typer.Typer(no_args_is_help=True, help="The dead-letter topic.")
events_app = typer.Typer(no_args_is_help=True, help="Event schemas.")
app.add_typer(dlq_app, name="dlq")
app.add_typer(events_app, name="events")
err = Console(stderr=True)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@app.command()
def dev(
    data_dir: Annotated[
        Path, typer.Option(help="where SQLite files, the dev key and logs live")
    ] = Path("data"),
    broker_port: Annotated[int, typer.Option(help="port for the embedded Tansu broker")] = 9092,
    demo: Annotated[bool, typer.Option(help="load demo data on first run")] = True,
    ready_timeout: Annotated[float, typer.Option(help="seconds to wait for each service")] = 120,
) -> None:
    """Start the embedded stack in the foreground; Ctrl-C stops it all."""
    from carethread.cli.dev import run_dev

    run_dev(data_dir, broker_port, demo, ready_timeout)


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="subject: the user id")],
    org: Annotated[str, typer.Option(help="ODS code of the user's organisation")],
    roles: Annotated[str, typer.Option(help="comma-separated roles")],
    teams: Annotated[str | None, typer.Option(help="comma-separated team ids")] = None,
    neighbourhoods: Annotated[str | None, typer.Option(help="comma-separated PCN codes")] = None,
    boroughs: Annotated[
        str | None, typer.Option(help="comma-separated boroughs a triager works for")
    ] = None,
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    hours: Annotated[float, typer.Option(help="lifetime")] = 8,
) -> None:
    """Print a JWT signed with the dev key (and nothing else) on stdout."""
    from datetime import timedelta

    from carethread.auth.tokens import mint_dev_token

    if not hours > 0:  # a token that is born expired is refused by every service
        raise typer.BadParameter("the lifetime must be more than 0 hours", param_hint="--hours")
    print(
        mint_dev_token(
            AuthSettings(),
            sub=sub,
            org=org,
            roles=_split(roles),
            teams=_split(teams),
            neighbourhoods=_split(neighbourhoods),
            boroughs=_split(boroughs),
            name=name,
            ttl=timedelta(hours=hours),
        )
    )


@app.command()
def replay(
    service: Annotated[str, typer.Option(help="referrals, care_plans, directory, outcomes or mdt")],
    since: Annotated[
        datetime | None, typer.Option(help="only events created at or after this time (ISO 8601)")
    ] = None,
) -> None:
    """Republish a service's outbox (its event log) in order; consumers skip what they have."""
    from datetime import UTC

    from carethread.cli.services import BY_NAME, settings_for
    from carethread.db import create_engine, session_factory
    from carethread.messaging import KafkaBroker
    from carethread.messaging.outbox import replay as replay_outbox

    if service not in BY_NAME:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(BY_NAME)}")
    settings = settings_for(BY_NAME[service])
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)

    async def run() -> int:
        engine = create_engine(settings.database_url, reader=True)
        publisher = KafkaBroker(settings.kafka).publisher()
        await publisher.start()
        try:
            return await replay_outbox(
                session_factory(engine),
                publisher,
                topic_prefix=settings.kafka.topic_prefix,
                since=since,
            )
        finally:
            await publisher.stop()
            await engine.dispose()

    sent = asyncio.run(run())
    err.print(f"Replayed {sent} events from {service}'s outbox.")


@dlq_app.command("list")
def dlq_list(as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False) -> None:
    """List dead-lettered messages with their error."""
    from carethread.messaging import KafkaBroker
    from carethread.messaging.dlq import list_dead_letters

    settings = KafkaSettings()
    letters = asyncio.run(list_dead_letters(KafkaBroker(settings), settings.topic_prefix))
    if as_json:
        for d in letters:
            print(
                json.dumps(
                    {
                        "partition": d.partition,
                        "offset": d.offset,
                        "consumer": d.consumer,
                        "topic": d.original_topic,
                        "event_type": d.event_type,
                        "event_id": d.event_id,
                        "error": d.error,
                        "attempts": d.attempts,
                        "failed_at": d.failed_at,
                        "redriven": d.redriven,
                    }
                )
            )
        return
    table = Table(title=f"Dead letters ({len(letters)})")
    for col in ("partition:offset", "consumer", "event type", "event id", "error", "redriven"):
        table.add_column(col)
    for d in letters:
        table.add_row(
            f"{d.partition}:{d.offset}",
            d.consumer,
            d.event_type,
            d.event_id,
            d.error[:80],
            "yes" if d.redriven else "no",
        )
    Console().print(table)


@dlq_app.command("redrive")
def dlq_redrive() -> None:
    """Re-deliver every dead letter not yet re-driven to its original topic."""
    from carethread.messaging import KafkaBroker
    from carethread.messaging.dlq import redrive

    settings = KafkaSettings()
    done = asyncio.run(redrive(KafkaBroker(settings), settings.topic_prefix))
    err.print(f"Re-drove {len(done)} message(s).")


@events_app.command("export")
def events_export(
    out: Annotated[Path, typer.Option(help="folder to write into")] = Path("docs/events"),
) -> None:
    """Write a JSON Schema per event type and the AsyncAPI document."""
    from carethread.events import registry
    from carethread.events.export import asyncapi_document, json_schemas

    out.mkdir(parents=True, exist_ok=True)
    for event_type, schema in json_schemas(registry).items():
        (out / f"{event_type}.schema.json").write_text(
            json.dumps(schema, indent=2, default=str) + "\n"
        )
    (out / "asyncapi.json").write_text(
        json.dumps(asyncapi_document(registry), indent=2, default=str) + "\n"
    )
    err.print(f"Wrote {len(list(registry))} schemas and asyncapi.json to {out}")
