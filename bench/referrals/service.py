"""The system under test: the referrals service as a process of its own, on a temporary
PostgreSQL database, publishing to a Tansu broker; and what the benchmark does to its
database directly (the stored queue, the counts checked at the end)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import URL, func, insert, make_url, select, text

from bench.referrals.data import stored_rows
from carethread.auth.tokens import mint_dev_token
from carethread.db import create_engine, session_factory
from carethread.db.tables import AuditRow, OutboxRow
from carethread.events.audit import AuditRecordedV1
from carethread.events.referrals import ReferralReceivedV1
from carethread.settings import AuthSettings
from carethread.testing.apps import TANSU_CLIENT
from carethread.testing.databases import temporary_postgres_database
from carethread.testing.tansu import TansuBroker, free_port
from referrals.store.tables import ReferralRow, TransitionRow


@dataclass(frozen=True)
class Profiler:
    """How to run the service: plain, under cProfile, or under py-spy."""

    cprofile: Path | None = None  # write cProfile statistics here
    py_spy: str | None = None  # the py-spy executable
    py_spy_out: Path | None = None  # its collapsed stacks (--format raw)
    py_spy_rate: int = 200
    py_spy_native: bool = False  # C frames too (asyncpg's protocol, uvloop, pydantic-core)

    def command(self, argv: list[str]) -> list[str]:
        if self.cprofile is not None:
            argv = [argv[0], "-m", "bench.referrals.profiled", str(self.cprofile)]
        if self.py_spy is not None and self.py_spy_out is not None:
            argv = [
                self.py_spy,
                "record",
                "--format",
                "raw",
                "--rate",
                str(self.py_spy_rate),
                "--gil",  # only samples holding the GIL: where the CPU goes, not the waits
                # Native stacks need the process paused for each sample; otherwise not.
                *(["--native"] if self.py_spy_native else ["--nonblocking"]),
                "--output",
                str(self.py_spy_out),
                "--",
                *argv,
            ]
        return argv


@dataclass
class Service:
    url: str
    database_url: str
    auth: AuthSettings
    process: asyncio.subprocess.Process
    tansu_pid: int
    log: Path

    def pids(self) -> list[int]:
        """The service's processes: uvicorn's, its workers if any, and py-spy (whose child
        the service is) when profiling."""
        return [self.process.pid, *descendants(self.process.pid)]

    def token(self, *, sub: str, org: str, roles: list[str], name: str | None = None) -> str:
        return mint_dev_token(self.auth, sub=sub, org=org, roles=roles, name=name)


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def service_env(
    *, workdir: Path, database_url: str, port: int, bootstrap: str, pool_size: int | None
) -> dict[str, str]:
    """The environment ``carethread dev`` gives a service, pointed at the benchmark's own
    database, broker, port and signing key; no demo data."""
    env = dict(os.environ)
    env.update({f"KAFKA_{k.upper()}": str(v) for k, v in TANSU_CLIENT.items()})
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKA_TOPIC_PREFIX": f"bench{uuid.uuid4().hex[:8]}.",
            "CARETHREAD_AUTH_DEV_KEY_PATH": str(workdir / "dev-signing-key.pem"),
            "REFERRALS_DATA_DIR": str(workdir),
            "REFERRALS_DATABASE_URL": database_url,
            "REFERRALS_HOST": "127.0.0.1",
            "REFERRALS_PORT": str(port),
            "REFERRALS_LOAD_DEMO_DATA": "false",
        }
    )
    if pool_size is not None:
        env["REFERRALS_DATABASE_POOL_SIZE"] = str(pool_size)
    return env


async def _wait_ready(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"the referrals service exited:\n{_tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/health/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.25)
    raise RuntimeError(f"the referrals service was not ready within 120 s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def _tansu() -> Iterator[TansuBroker]:
    broker = TansuBroker().start()
    try:
        yield broker
    finally:
        broker.stop()


def service_command() -> list[str]:
    """``python -m referrals``, as ``carethread dev`` and the deployment run it (with
    ``REFERRALS_WORKERS`` server processes)."""
    return [sys.executable, "-m", "referrals"]


def over_unix_socket(database_url: str, directory: str) -> str:
    """The same database reached through PostgreSQL's Unix socket in ``directory``."""
    url = make_url(database_url)
    return URL.create(
        url.drivername,
        username=url.username,
        password=url.password,
        database=url.database,
        query={"host": directory},
    ).render_as_string(hide_password=False)


@asynccontextmanager
async def running_service(
    workdir: Path,
    *,
    profiler: Profiler | None = None,
    pool_size: int | None = None,
    workers: int = 1,
    socket_dir: str | None = None,
) -> AsyncIterator[Service]:
    """Tansu, a temporary PostgreSQL database and ``python -m referrals`` on a free port,
    ready; everything stopped and dropped afterwards."""
    with _tansu() as broker:
        assert broker.process is not None
        async with temporary_postgres_database(prefix="ct_bench_referrals") as database_url:
            port = free_port()
            auth = AuthSettings(dev_key_path=workdir / "dev-signing-key.pem")
            mint_dev_token(auth, sub="bootstrap", org="X", roles=[])  # creates the key once
            env = service_env(
                workdir=workdir,
                database_url=over_unix_socket(database_url, socket_dir)
                if socket_dir
                else database_url,
                port=port,
                bootstrap=broker.bootstrap_servers,
                pool_size=pool_size,
            )
            env["REFERRALS_WORKERS"] = str(workers)
            argv = (profiler or Profiler()).command(service_command())
            log = workdir / "referrals.log"
            with log.open("ab") as out:
                process = await asyncio.create_subprocess_exec(
                    *argv, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
                )
            url = f"http://127.0.0.1:{port}"
            try:
                await _wait_ready(url, process, log)
                yield Service(url, database_url, auth, process, broker.process.pid, log)
            finally:
                await _stop(process, env["REFERRALS_DATABASE_URL"])


async def _stop(process: asyncio.subprocess.Process, marker: str) -> None:
    """SIGTERM to the service itself (under py-spy, to its child), so that uvicorn shuts
    down gracefully (stopping its workers, if any) and a profiler writes what it gathered;
    then anything of it still running is killed."""
    if process.returncode is not None:
        return
    family = descendants(process.pid)
    if _is_python(process.pid):
        targets = [process.pid]
    else:  # py-spy, whose child is the service
        targets = [p for p in family if _is_python(p) and _parent(p) == process.pid]
    for pid in targets or [process.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    try:
        async with asyncio.timeout(60):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()
    for pid in family:
        with contextlib.suppress(ProcessLookupError):
            if _environment_holds(pid, marker):  # still the service's, not a pid reused
                os.kill(pid, signal.SIGKILL)


def _environment_holds(pid: int, marker: str) -> bool:
    try:
        return marker.encode() in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _is_python(pid: int) -> bool:
    try:
        return "python" in Path(f"/proc/{pid}/comm").read_text()
    except OSError:
        return False


def find_py_spy(given: str | None) -> str | None:
    return given or shutil.which("py-spy")


# -- the database, directly ------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    rows: int
    build_seconds: float
    insert_seconds: float
    analyze_seconds: float


async def store_referrals(
    database_url: str, count: int, *, seed: int, now: datetime, days: int, batch: int = 5_000
) -> Stored:
    """``count`` referral rows inserted in bulk (Core ``executemany`` of the service's own
    table), then ``VACUUM ANALYZE``, as a database holding them for a while would have been."""
    began = time.perf_counter()
    rows = stored_rows(count, seed=seed, now=now, days=days)
    built = time.perf_counter()
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            for start in range(0, len(rows), batch):
                await conn.execute(insert(ReferralRow), rows[start : start + batch])
        inserted = time.perf_counter()
        # Autovacuum would long since have visited rows held for months: the visibility
        # map it sets is what lets counts be answered from an index alone.
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE referral"))
        analyzed = time.perf_counter()
    finally:
        await engine.dispose()
    return Stored(
        rows=count,
        build_seconds=round(built - began, 2),
        insert_seconds=round(inserted - built, 2),
        analyze_seconds=round(analyzed - inserted, 2),
    )


async def counts(database_url: str) -> dict[str, int]:
    """What the service wrote: referrals, their history, audit records and outbox rows."""
    engine = create_engine(database_url)

    try:
        async with session_factory(engine)() as s:
            out = {
                "referrals": await s.scalar(select(func.count()).select_from(ReferralRow)),
                "transitions": await s.scalar(select(func.count()).select_from(TransitionRow)),
                "audit_records": await s.scalar(select(func.count()).select_from(AuditRow)),
                "outbox": await s.scalar(select(func.count()).select_from(OutboxRow)),
                "outbox_referral_received": await s.scalar(
                    select(func.count())
                    .select_from(OutboxRow)
                    .where(OutboxRow.event_type == ReferralReceivedV1.event_type)
                ),
                "outbox_audit_recorded": await s.scalar(
                    select(func.count())
                    .select_from(OutboxRow)
                    .where(OutboxRow.event_type == AuditRecordedV1.event_type)
                ),
                "outbox_other_events": await s.scalar(
                    select(func.count())
                    .select_from(OutboxRow)
                    .where(
                        OutboxRow.event_type.not_in(
                            [ReferralReceivedV1.event_type, AuditRecordedV1.event_type]
                        )
                    )
                ),
                "outbox_unpublished": await s.scalar(
                    select(func.count())
                    .select_from(OutboxRow)
                    .where(OutboxRow.published_at.is_(None))
                ),
            }
    finally:
        await engine.dispose()
    return {k: v or 0 for k, v in out.items()}


async def sessions_opened(database_url: str) -> int:
    """How many connections to the service's database have been opened so far (this one
    not counted): PostgreSQL's own count, ``pg_stat_database.sessions``."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            )
    finally:
        await engine.dispose()
    return max(int(found or 0) - 1, 0)


async def wait_published(database_url: str, timeout: float) -> float | None:
    """Seconds until the relay had published every outbox row (None: not within timeout)."""
    engine = create_engine(database_url)
    began = time.monotonic()
    try:
        while time.monotonic() - began < timeout:
            async with engine.connect() as conn:
                left = await conn.scalar(
                    select(func.count())
                    .select_from(OutboxRow)
                    .where(OutboxRow.published_at.is_(None))
                )
            if not left:
                return round(time.monotonic() - began, 2)
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()
    return None
