"""Structured logs: one JSON object per line, with the envelope a line is about.

`EPHYTO_LOG_FORMAT=json` (the default in containers) or `text` (for a terminal). Code that works
on an envelope wraps the work in `envelope_context(number)`; every line logged inside it, by
any logger, carries `hub_delivery_number`. A single line can also pass
`extra={"hub_delivery_number": ...}`.
"""

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

_delivery_number: ContextVar[str | None] = ContextVar("hub_delivery_number", default=None)

#: Attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    # uvicorn's copy of the message with terminal colour codes: noise in a log store.
    | {"message", "asctime", "color_message"}
)


class LogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EPHYTO_", extra="ignore")

    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"


@contextmanager
def envelope_context(hub_delivery_number: str) -> Iterator[None]:
    token = _delivery_number.set(hub_delivery_number)
    try:
        yield
    finally:
        _delivery_number.reset(token)


def current_delivery_number() -> str | None:
    return _delivery_number.get()


class EnvelopeContextFilter(logging.Filter):
    """Puts the context's delivery number on the record, unless the call passed its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "hub_delivery_number", None) is None:
            number = _delivery_number.get()
            if number is not None:
                record.hub_delivery_number = number
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        number = getattr(record, "hub_delivery_number", None)
        return f"{line} [envelope {number}]" if number else line


def configure_logging(settings: LogSettings | None = None) -> logging.Handler:
    """Send every logger (uvicorn's and aio-pika's included) through one handler on stderr."""
    settings = settings or LogSettings()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(EnvelopeContextFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's own handlers would print a second, unstructured copy of each line.
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    return handler
