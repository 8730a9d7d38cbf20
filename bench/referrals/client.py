"""The load generator: concurrent HTTP clients in a process of their own.

``python -m bench.referrals.client URL KIND --clients N --tokens FILE --out FILE ...`` builds
``N`` clients (``aiohttp.ClientSession``, one keep-alive connection each), prints ``ready``, and
waits for a line ``go START`` on stdin (``START`` is a wall-clock time shared by every client
process). From then each client sends requests back to back, closed loop, until
``START + warmup + duration``; requests that end in the timed window (after the warm-up)
are recorded. With ``--rate`` the load is open loop instead: requests are due at that rate
and sent when due, on the first free client, and those due in the timed window are recorded,
their latency counted from when they were due. It writes what it saw to ``FILE`` as JSON
and prints ``done``.

The client should cost as little CPU as it can, since it shares the machine's cores with the
service it measures: aiohttp's client spends about a quarter of the CPU httpx's did a request,
and the request bodies are built before the start.

Kinds: ``json`` (``POST /api/v1/referrals``), ``fhir`` (``POST /fhir``, a transaction
Bundle) and ``queue`` (``GET /api/v1/referrals`` with the triage queue's filters).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.referrals.data import Synthetic, queue_query
from carethread.reference import load_geography

FHIR_JSON = "application/fhir+json"
KINDS = ("json", "fhir", "queue")


@dataclass
class Seen:
    """Everything one client process saw."""

    ok: int = 0  # successful answers over the whole run, warm-up included
    sent: int = 0
    not_sent: int = 0  # open loop: due, but still waiting for a free client at the end
    behind_ms: float = 0.0  # open loop: how late the schedule itself ran, at worst
    answered_in_window: int = 0  # successful answers that arrived in the timed window
    statuses: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)  # the first few failures, abridged
    # Per request in the timed window: (when, latency, ok, kind); ``when`` is the wall-clock
    # time it ended (closed loop) or was due (open loop).
    timed: list[tuple[float, float, bool, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    kind: str
    content: bytes | None = None
    params: list[tuple[str, str | int | float | bool | None]] | None = None


def _requests(kind: str, seed: int, people: int, no_nhs_share: float) -> Callable[[], Request]:
    synthetic = Synthetic(seed, people=people, no_nhs_share=no_nhs_share)
    if kind == "json":

        def json_request() -> Request:
            body = json.dumps(synthetic.json_referral()).encode()
            return Request("POST", "/api/v1/referrals", "json", body)

        return json_request
    if kind == "fhir":

        def fhir_request() -> Request:
            return Request("POST", "/fhir", "fhir", json.dumps(synthetic.fhir_bundle()).encode())

        return fhir_request
    geo = load_geography()
    rng = random.Random(seed)

    def queue_request() -> Request:
        q = queue_query(rng, geo)
        return Request("GET", "/api/v1/referrals", q.kind, params=list(q.params))

    return queue_request


def _query(request: Request) -> list[tuple[str, str]] | None:
    """The query parameters as text, as httpx would write them (true/false, none left out)."""
    if request.params is None:
        return None
    return [
        (name, ("true" if value else "false") if isinstance(value, bool) else str(value))
        for name, value in request.params
        if value is not None
    ]


def _succeeded(kind: str, status: int, body: bytes) -> bool:
    if kind == "json":
        return status == 201
    if kind == "fhir":
        # A transaction answers 200 with a transaction-response Bundle; the ServiceRequest's
        # entry says "201 Created" when it made a new referral (the Patient's says 200 OK).
        return status == 200 and body.count(b'"201 Created"') == 1
    return status == 200


# Bodies built before the start, enough for this many requests a second over the run (more
# are built as they are needed, should a run go faster).
PREBUILT_PER_SECOND = 500


def _prebuilt(make: Callable[[], Request], count: int) -> Callable[[], Request]:
    ready = [make() for _ in range(count)]
    ready.reverse()

    def take() -> Request:
        return ready.pop() if ready else make()

    return take


async def run_clients(args: argparse.Namespace, tokens: list[str]) -> Seen:
    seen = Seen()
    requests = int((args.warmup + args.duration) * (args.rate or PREBUILT_PER_SECOND) * 1.1)
    make = _prebuilt(_requests(args.kind, args.seed, args.people, args.no_nhs_share), requests)
    content_type = FHIR_JSON if args.kind == "fhir" else "application/json"
    clients = [
        aiohttp.ClientSession(
            base_url=args.url,
            headers={
                "Authorization": f"Bearer {tokens[i % len(tokens)]}",
                "content-type": content_type,
            },
            timeout=aiohttp.ClientTimeout(total=60.0),
            connector=aiohttp.TCPConnector(limit=1),
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )
        for i in range(args.clients)
    ]
    # No garbage collection while the clock runs: with the bodies built and the timings
    # growing, a full collection of this process's heap took 100-220 ms, during which no
    # answer is read, and the wait was counted as the service's latency (a run this short
    # frees what it drops by reference counting; what cycles it leaves waits for the end).
    gc.collect()
    gc.freeze()
    gc.disable()
    print("ready", flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    word, _, value = line.strip().partition(" ")
    if word != "go":
        raise SystemExit(f"expected 'go START', got {line!r}")
    start = float(value)
    window_start = start + args.warmup
    end = window_start + args.duration
    await asyncio.sleep(max(start - time.time(), 0))

    async def send(client: aiohttp.ClientSession, request: Request) -> tuple[bool, str]:
        try:
            async with client.request(
                request.method, request.path, data=request.content, params=_query(request)
            ) as response:
                body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            if len(seen.samples) < 5:
                seen.samples.append(f"{type(e).__name__}: {e}"[:500])
            seen.sent += 1
            seen.statuses[type(e).__name__] += 1
            return False, type(e).__name__
        ok = _succeeded(args.kind, response.status, body)
        status = str(response.status)
        if not ok and len(seen.samples) < 5:
            seen.samples.append(f"{status}: {body[:500].decode(errors='replace')}")
        seen.sent += 1
        seen.ok += ok
        seen.statuses[status if ok or status != "200" else "200 (not created)"] += 1
        if ok and window_start <= time.time() < end:
            seen.answered_in_window += 1
        return ok, status

    async def one_client(client: aiohttp.ClientSession) -> None:
        while time.time() < end:
            request = make()
            began = time.perf_counter()
            ok, _ = await send(client, request)
            latency = time.perf_counter() - began
            finished = time.time()
            if window_start <= finished < end:
                seen.timed.append((finished, latency, ok, request.kind))

    async def open_loop() -> None:
        """Requests at ``rate`` per second, each at its due time whether or not earlier
        ones have been answered; a request waits for a free client (one connection each),
        and that wait counts in its latency, which runs from when it was due."""
        idle: asyncio.Queue[aiohttp.ClientSession] = asyncio.Queue()
        for c in clients:
            idle.put_nowait(c)
        waiting: set[asyncio.Task[None]] = set()
        tasks: list[asyncio.Task[None]] = []
        wall0, perf0 = time.time(), time.perf_counter()

        async def one(request: Request, due: float) -> None:
            task = asyncio.current_task()
            assert task is not None
            client = await idle.get()
            waiting.discard(task)
            try:
                ok, _ = await send(client, request)
            finally:
                idle.put_nowait(client)
            due_wall = wall0 + (due - perf0)
            if window_start <= due_wall < end:
                seen.timed.append((due_wall, time.perf_counter() - due, ok, request.kind))

        i = 0
        while True:
            due = perf0 + i / args.rate
            if wall0 + (due - perf0) >= end:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                seen.behind_ms = max(seen.behind_ms, -delay * 1000)
            task = asyncio.create_task(one(make(), due))
            waiting.add(task)
            tasks.append(task)
            i += 1
        # The requests due last have not yet had a turn to take a free client: give them one,
        # so that only those really queued for lack of one are counted as never sent.
        await asyncio.sleep(0)
        # Still queued for a client when the schedule ends: never sent, so never written.
        for task in list(waiting):
            task.cancel()
            seen.not_sent += 1
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        if args.rate:
            await open_loop()
        else:
            await asyncio.gather(*(one_client(c) for c in clients))
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    return seen


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop  # noqa: PLC0415
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.referrals.client", description=__doc__)
    p.add_argument("url")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--tokens", type=Path, required=True, help="a JSON list of bearer tokens")
    p.add_argument("--warmup", type=float, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument(
        "--rate", type=float, default=0.0, help="open loop at this many requests/s (0: closed)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--people", type=int, default=50_000)
    p.add_argument("--no-nhs-share", type=float, default=0.1)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    tokens: list[str] = json.loads(args.tokens.read_text())
    cpu_before = time.process_time()
    # uvloop, as uvicorn uses it when installed: the client should cost as little as it can.
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        seen = runner.run(run_clients(args, tokens))
    out: dict[str, Any] = {
        "ok": seen.ok,
        "sent": seen.sent,
        "not_sent": seen.not_sent,
        "answered_in_window": seen.answered_in_window,
        "behind_ms": round(seen.behind_ms, 1),
        "statuses": dict(seen.statuses),
        "samples": seen.samples,
        "timed": seen.timed,
        "cpu_seconds": time.process_time() - cpu_before,
    }
    args.out.write_text(json.dumps(out))
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
