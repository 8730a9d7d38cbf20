"""``python -m directory.cli FEED...``: import an ORUK feed (JSON files, one page each, or a
URL whose paging is followed) straight into the directory's database, with a progress bar.

The events land in the outbox in each page's transaction; the running service's relay
publishes them (or the next one to start does)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from sqlalchemy.engine import make_url

from carethread.auth import Principal
from carethread.db import UnitOfWork, create_engine, is_sqlite, migrate, session_factory
from directory import importing
from directory.app import DEFINITION
from directory.settings import DirectorySettings

console = Console(stderr=True)
app = typer.Typer(add_completion=False, help=__doc__)


async def _pages(
    feeds: list[str], settings: DirectorySettings
) -> AsyncIterator[importing.FetchedPage]:
    number = 0
    for feed in feeds:
        if feed.startswith(("http://", "https://")):
            async with httpx.AsyncClient(timeout=settings.import_timeout_seconds) as client:
                async for page in importing.fetch_pages(
                    client, feed, max_pages=settings.import_max_pages
                ):
                    number += 1
                    yield importing.FetchedPage(number, page.document, page.error, page.warnings)
            continue
        number += 1
        try:
            document = json.loads(await asyncio.to_thread(Path(feed).read_text))
        except (OSError, ValueError) as e:
            yield importing.FetchedPage(number, None, f"{feed}: {e}")
        else:
            yield importing.FetchedPage(number, document)


async def _import(feeds: list[str], curator: str) -> list[importing.PageReport]:
    settings = DirectorySettings()
    database = make_url(settings.database_url).database
    if is_sqlite(settings.database_url) and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine, DEFINITION.migrations)
        sessions = session_factory(engine)
        principal = Principal(sub=curator, roles=frozenset({"curator"}))
        reports = []
        with Progress(console=console) as progress:
            task = progress.add_task("Importing", total=None)
            async for page in _pages(feeds, settings):
                if page.error is not None:
                    reports.append(importing.PageReport(page.number, "rejected", page.error))
                else:
                    reports.append(
                        await importing.import_page(
                            lambda: UnitOfWork(sessions),
                            page.number,
                            page.document,
                            principal,
                            now=datetime.now(UTC),
                        )
                    )
                done = reports[-1]
                progress.update(
                    task,
                    advance=1,
                    description=f"page {done.page}: {done.status}",
                )
        return reports
    finally:
        await engine.dispose()


@app.command()
def main(
    feeds: Annotated[list[str], typer.Argument(help="JSON files (one page each) or URLs")],
    curator: Annotated[str, typer.Option(help="who the edit history names")] = "oruk-import",
) -> None:
    reports = asyncio.run(_import(feeds, curator))
    for r in reports:
        line = (
            f"page {r.page}: {r.status}  published {r.published}  updated {r.updated}  "
            f"unchanged {r.unchanged}  withdrawn {r.withdrawn}  rejected {len(r.rejected)}"
        )
        console.print(line + (f"  ({r.error})" if r.error else ""))
        for rejected in r.rejected:
            reasons = "; ".join(f"{e['field']}: {e['message']}" for e in rejected["errors"])
            console.print(f"  rejected #{rejected['index']} {rejected['name'] or ''}: {reasons}")
    if any(r.status == "rejected" or r.rejected for r in reports):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
