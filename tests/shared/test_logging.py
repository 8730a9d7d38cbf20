"""Logs are one JSON object per line, naming the service and the trace they belong to."""

from __future__ import annotations

import json
import logging

import pytest

from carethread.observability.logging import configure_logging, get_logger
from carethread.observability.tracing import configure_tracing, span_from_headers

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


def test_a_log_line_is_json_with_service_level_and_trace_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_tracing()
    configure_logging("INFO", json=True, service="referrals")
    try:
        headers = {"traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"}
        with span_from_headers("POST /api/v1/referrals", headers):
            get_logger("tests").info("referral received", referral_id="r-1")
        logging.getLogger("some.library").warning("from the standard library")
    finally:
        logging.getLogger().handlers.clear()

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    ours, foreign = lines[-2], lines[-1]
    assert ours["event"] == "referral received"
    assert ours["referral_id"] == "r-1"
    assert ours["service"] == "referrals"
    assert ours["level"] == "info"
    assert ours["trace_id"] == TRACE_ID
    assert "timestamp" in ours
    assert foreign["event"] == "from the standard library"
    assert foreign["level"] == "warning"
    assert "trace_id" not in foreign  # outside any span


def test_an_error_logged_with_its_exception_carries_the_traceback_as_data(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", json=True, service="referrals")
    try:
        try:
            int("not a number")
        except ValueError:
            get_logger("tests").exception("unhandled error", path="/api/v1/referrals")
    finally:
        logging.getLogger().handlers.clear()

    line = json.loads(capsys.readouterr().err.splitlines()[-1])
    assert line["event"] == "unhandled error"
    (raised,) = line["exception"]
    assert raised["exc_type"] == "ValueError"
    assert raised["frames"][-1]["name"] == (
        "test_an_error_logged_with_its_exception_carries_the_traceback_as_data"
    )
