"""Schemathesis over ``/oruk``, driven by the ORUK UK profile's own OpenAPI description:
generated requests find no server error and no response that breaks the profile's schemas.

The published OpenAPI file has two known defects, mended here before use: its schema
``$ref``s are public URLs (replaced by the local compiled schemas), and its
``start_time``/``end_time`` parameters say ``"type": "time"`` (read as a string in the
``time`` format)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from carethread.testing.apps import auth_settings, bearer
from carethread.testing.tansu import free_port
from tests.directory.support import FIXTURES, listing, oruk_example
from tests.directory.test_import import v1_page, v1_service

REMOTE = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"


def _local(node: Any) -> Any:
    """The OpenAPI document with every remote schema inlined and the time types mended."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REMOTE):
            return _local(json.loads((FIXTURES / "schema" / ref.removeprefix(REMOTE)).read_text()))
        if ref == "taxonomy_term.json":
            return _local(json.loads((FIXTURES / "schema" / "taxonomy_term.json").read_text()))
        if node.get("type") == "time":
            return {**node, "type": "string", "format": "time"}
        return {k: _local(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_local(v) for v in node]
    return node


SPEC = _local(json.loads((FIXTURES / "schema" / "openapi.json").read_text()))
schema = schemathesis.openapi.from_dict(SPEC)


@pytest.fixture(scope="module")
def oruk_base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The directory as a real process on SQLite, filled with the ORUK example, a v1
    import and a curator's listing."""
    tmp = tmp_path_factory.mktemp("oruk")
    auth = auth_settings(tmp)
    port = free_port()
    env = {
        **os.environ,
        "DIRECTORY_PORT": str(port),
        "DIRECTORY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'directory.db'}",
        "DIRECTORY_LOG_JSON": "false",
        "DIRECTORY_LOG_LEVEL": "WARNING",
        "CARETHREAD_AUTH_DEV_KEY_PATH": str(auth.dev_key_path),
        # No broker: the events wait in the outbox, which this test does not look at.
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
    }
    log = (tmp / "directory.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "directory"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, Path(log.name).read_text()[-2000:]
            assert time.monotonic() < deadline, "the directory did not start"
            time.sleep(0.2)
        headers = bearer(auth, roles=["curator"])
        pages = [oruk_example("service_full.json"), v1_page(v1_service(1))]
        r = httpx.post(f"{base}/api/v1/import/oruk", json={"pages": pages}, headers=headers)
        assert r.status_code == 200, r.text
        r = httpx.post(f"{base}/api/v1/services", json=listing(), headers=headers)
        assert r.status_code == 201, r.text
        yield f"{base}/oruk"
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_oruk_api_conforms_to_the_profile(case: schemathesis.Case[Any], oruk_base_url: str) -> None:
    case.call_and_validate(
        base_url=oruk_base_url, checks=[not_a_server_error, response_schema_conformance]
    )
