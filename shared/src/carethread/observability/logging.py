"""JSON logs (structlog) that carry the current trace id."""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.typing import EventDict, WrappedLogger

from carethread.observability.tracing import current_trace_id


def _add_trace_id(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    trace_id = current_trace_id()
    if trace_id:
        event["trace_id"] = trace_id
    return event


def configure_logging(level: str = "INFO", *, json: bool = True, service: str = "") -> None:
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_id,
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    # The console renderer draws the exception itself; a JSON line carries it as data,
    # or an error logged with log.exception would say only "exc_info": true.
    ending: list[structlog.typing.Processor] = (
        [structlog.processors.dict_tracebacks, renderer] if json else [renderer]
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *ending],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiokafka logs every reconnect attempt at ERROR; our own messages say what matters.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    if service:
        structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
