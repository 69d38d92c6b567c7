"""Structured logs: one JSON object per line, with the envelope a line is about."""

import io
import json
import logging
from collections.abc import Iterator

import pytest

from hub.identity.domain import AuthenticatedNppo
from hub.observability.logs import (
    EnvelopeContextFilter,
    JsonFormatter,
    LogSettings,
    TextFormatter,
    configure_logging,
    envelope_context,
)
from hub.operators.actions import OperatorActions
from hub.operators.audit import Actor
from hub.operators.routing_control import RoutingControl
from hub.runtime import HubRuntime
from tests.hub.operators.helpers import add_operators, run, submit


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged at INFO and above, formatted as the hub does in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(EnvelopeContextFilter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_line_is_one_json_object_with_the_standard_fields(captured: io.StringIO) -> None:
    logging.getLogger("hub.test").warning("box %s is %d hours behind", "BB", 3)
    (entry,) = lines(captured)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "hub.test"
    assert entry["message"] == "box BB is 3 hours behind"
    assert str(entry["time"]).endswith("+00:00")
    assert "hub_delivery_number" not in entry


def test_lines_about_an_envelope_carry_its_number(captured: io.StringIO) -> None:
    log = logging.getLogger("hub.test")
    with envelope_context("number-1"):
        log.info("pushed")
        with envelope_context("number-2"):
            log.info("copy pushed")
        log.info("acknowledged")
    log.info("idle")
    log.info("explicit", extra={"hub_delivery_number": "number-3"})
    numbers = [entry.get("hub_delivery_number") for entry in lines(captured)]
    assert numbers == ["number-1", "number-2", "number-1", None, "number-3"]


def test_a_failure_keeps_its_traceback_in_the_same_line(captured: io.StringIO) -> None:
    try:
        raise ValueError("receiver answered garbage")
    except ValueError:
        logging.getLogger("hub.test").exception("push failed")
    (entry,) = lines(captured)
    assert "ValueError: receiver answered garbage" in str(entry["exception"])
    assert captured.getvalue().count("\n") == 1


def test_text_format_names_the_envelope_too() -> None:
    record = logging.LogRecord("hub.test", logging.INFO, __file__, 1, "pushed", None, None)
    record.hub_delivery_number = "number-1"
    assert TextFormatter().format(record).endswith("pushed [envelope number-1]")


def test_the_format_is_chosen_by_ephyto_log_format(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        monkeypatch.setenv("EPHYTO_LOG_FORMAT", "json")
        configure_logging()
        logging.getLogger("hub.test").info("started")
        entry = json.loads(capfd.readouterr().err.strip().splitlines()[-1])
        assert (entry["logger"], entry["message"]) == ("hub.test", "started")
        # uvicorn's loggers lose their own handlers and go through the structured one.
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            assert logging.getLogger(name).handlers == []
            assert logging.getLogger(name).propagate

        configure_logging(LogSettings(log_format="text"))
        logging.getLogger("hub.test").info("plain")
        assert capfd.readouterr().err.strip().endswith("hub.test: plain")
    finally:
        root.handlers[:] = saved
        root.setLevel(level)


async def test_operator_actions_log_the_envelope_number(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], captured: io.StringIO
) -> None:
    await add_operators(runtime)
    number = await submit(runtime, nppos["AA"], "BB", "LOG-1")
    actions = OperatorActions(control=RoutingControl())
    await run(
        runtime,
        lambda s: actions.request_mark_failed(
            s, actor=Actor(username="alice"), number=number, reason="x"
        ),
    )
    mine = [e for e in lines(captured) if e["logger"] == "hub.operators.actions"]
    assert mine
    assert all(e["hub_delivery_number"] == number for e in mine)
