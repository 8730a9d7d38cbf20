"""``carethread token`` as a user runs it: a real process, its stdout, stderr and exit code."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest

from carethread.auth import Principal, TokenVerifier
from carethread.auth.keys import DEV_KEY_ID
from carethread.settings import AuthSettings

JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
SCRIPT = Path(sys.executable).parent / ("carethread.exe" if os.name == "nt" else "carethread")
ENTRY_POINTS = {
    "console-script": [str(SCRIPT)],  # [project.scripts] carethread = "carethread.cli:app"
    "python-m": [sys.executable, "-m", "carethread.cli"],
}


@dataclass
class Cli:
    command: list[str]
    key_path: Path
    cwd: Path
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def make_cli(entry_point: str, tmp_path: Path) -> Cli:
    command = ENTRY_POINTS[entry_point]
    if entry_point == "console-script":
        assert SCRIPT.exists(), f"the carethread console script is not installed next to {SCRIPT}"
    key_path = tmp_path / "keys" / "dev-signing-key.pem"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARETHREAD_AUTH_")}
    env.update(
        {
            "CARETHREAD_AUTH_DEV_KEY_PATH": str(key_path),
            "NO_COLOR": "1",
            "COLUMNS": "200",  # rich wraps error messages to the terminal's width
        }
    )
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return Cli(command, key_path, cwd, env)


@pytest.fixture(params=sorted(ENTRY_POINTS))
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Cli:
    return make_cli(request.param, tmp_path)


@pytest.fixture
def script(tmp_path: Path) -> Cli:
    """The console script alone, for the argument checks both entry points share."""
    return make_cli("console-script", tmp_path)


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def part(p: str) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
        return decoded

    header, payload, _ = token.split(".")
    return part(header), part(payload)


def only_the_token(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\n")
    lines = result.stdout.splitlines()
    assert len(lines) == 1, f"stdout must hold only the token, got {result.stdout!r}"
    token = lines[0]
    assert JWT.match(token), token
    return token


def test_token_prints_only_a_jwt_carrying_the_claims_asked_for(cli: Cli) -> None:
    result = cli.run(
        "token",
        "--sub",
        "S",
        "--org",
        "F83004",
        "--roles",
        "a,b",
        "--teams",
        "t1",
        "--neighbourhoods",
        "n1",
        "--boroughs",
        "Camden,Islington",
    )
    token = only_the_token(result)

    header, claims = decode_unverified(token)
    assert header["alg"] == "RS256"
    assert header["kid"] == DEV_KEY_ID
    assert claims["sub"] == "S"
    assert claims["org"] == "F83004"
    assert claims["roles"] == ["a", "b"]
    assert claims["teams"] == ["t1"]
    assert claims["neighbourhoods"] == ["n1"]
    assert claims["boroughs"] == ["Camden", "Islington"]
    assert claims["exp"] - claims["iat"] == 8 * 3600  # the default lifetime

    # Signed with the key the environment named (and created there), so a service trusts it.
    assert cli.key_path.exists()
    assert not (cli.cwd / "data").exists()
    principal = TokenVerifier(AuthSettings(dev_key_path=cli.key_path)).verify(token)
    assert principal == Principal(
        sub="S",
        name="S",
        org="F83004",
        roles=frozenset({"a", "b"}),
        teams=frozenset({"t1"}),
        neighbourhoods=frozenset({"n1"}),
        boroughs=frozenset({"Camden", "Islington"}),
    )


def test_token_splits_lists_and_honours_name_and_hours(cli: Cli) -> None:
    token = only_the_token(
        cli.run(
            "token",
            "--sub=dev.user",
            "--org=93C",
            "--roles=triager, referrer ,",
            "--teams=t1,t2",
            "--neighbourhoods=U02795,U84655",
            "--name=Dev User",
            "--hours=1.5",
        )
    )
    claims = jwt.decode(
        token,
        TokenVerifier(AuthSettings(dev_key_path=cli.key_path))._key_for(token),
        algorithms=["RS256"],
        audience="carethread",
        issuer="carethread-dev",
    )
    assert claims["roles"] == ["triager", "referrer"]
    assert claims["teams"] == ["t1", "t2"]
    assert claims["neighbourhoods"] == ["U02795", "U84655"]
    assert claims["name"] == "Dev User"
    assert claims["exp"] - claims["iat"] == 5400


def test_token_reuses_the_key_it_created(cli: Cli) -> None:
    first = only_the_token(cli.run("token", "--sub", "a", "--org", "X", "--roles", "r"))
    key = cli.key_path.read_bytes()
    second = only_the_token(cli.run("token", "--sub", "b", "--org", "X", "--roles", "r"))
    assert cli.key_path.read_bytes() == key
    verifier = TokenVerifier(AuthSettings(dev_key_path=cli.key_path))
    assert verifier.verify(first).sub == "a"
    assert verifier.verify(second).sub == "b"


BASE = ["token", "--sub", "S", "--org", "F83004", "--roles", "a"]


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["token", "--org", "F83004", "--roles", "a"], "--sub"),
        (["token", "--sub", "S", "--roles", "a"], "--org"),
        (["token", "--sub", "S", "--org", "F83004"], "--roles"),
        ([*BASE, "--hours", "eight"], "--hours"),
        ([*BASE, "--hours", "0"], "--hours"),
        ([*BASE, "--hours", "-1"], "--hours"),
        ([*BASE, "--hours", "nan"], "--hours"),
        ([*BASE, "--colour", "blue"], "--colour"),
        ([*BASE, "surplus"], "unexpected extra argument"),
        (["mint"], "No such command"),
    ],
    ids=[
        "no-sub",
        "no-org",
        "no-roles",
        "hours-not-a-number",
        "hours-zero",
        "hours-negative",
        "hours-nan",
        "unknown-option",
        "surplus-argument",
        "unknown-command",
    ],
)
def test_bad_arguments_fail_with_a_message_on_stderr_and_nothing_on_stdout(
    script: Cli, args: list[str], mentions: str
) -> None:
    result = script.run(*args)
    assert result.returncode != 0
    assert result.stdout == ""
    assert mentions in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not script.key_path.exists()  # refused before anything was signed
