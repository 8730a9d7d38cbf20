"""``POST /api/v1/import/oruk``: curators import an ORUK feed (a URL, a document, pages)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends

from carethread.service import RuntimeDep
from directory import importing
from directory.api.deps import Curator, Now, Settings
from directory.api.schemas import ImportedPage, ImportReport, ImportRequest

router = APIRouter(prefix="/api/v1/import", tags=["import"])


async def feed_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP client feeds are fetched with; tests replace it."""
    async with httpx.AsyncClient(
        timeout=settings.import_timeout_seconds, follow_redirects=True
    ) as client:
        yield client


FeedClient = Annotated[httpx.AsyncClient, Depends(feed_client)]


@router.post("/oruk", response_model=ImportReport)
async def import_oruk(
    body: ImportRequest,
    runtime: RuntimeDep,
    user: Curator,
    now: Now,
    settings: Settings,
    client: FeedClient,
) -> ImportReport:
    reports: list[importing.PageReport] = []
    if body.url is not None:
        async for fetched in importing.fetch_pages(
            client, body.url, max_pages=settings.import_max_pages
        ):
            if fetched.error is not None:
                reports.append(
                    importing.PageReport(fetched.number, status="rejected", error=fetched.error)
                )
                continue
            report = await importing.import_page(
                runtime.uow, fetched.number, fetched.document, user, now=now
            )
            report.warnings[:0] = fetched.warnings
            reports.append(report)
    else:
        pages = body.pages if body.pages is not None else [body.document]
        for number, document in enumerate(pages, start=1):
            reports.append(
                await importing.import_page(runtime.uow, number, document, user, now=now)
            )
    counters = ("services", "published", "updated", "unchanged", "withdrawn")
    totals = {c: sum(getattr(r, c) for r in reports) for c in counters}
    totals["rejected"] = sum(len(r.rejected) for r in reports)
    totals["skipped"] = sum(len(r.skipped) for r in reports)
    totals["pages_rejected"] = sum(r.status == "rejected" for r in reports)
    return ImportReport(
        source=body.url or "request",
        pages=[ImportedPage.model_validate(asdict(r)) for r in reports],
        totals=totals,
    )
