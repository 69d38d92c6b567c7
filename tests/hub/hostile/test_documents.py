"""Every hostile document of the manifest, through every carrier of both faces."""

import re

import pytest
from lxml import etree

from tests.hub.hostile.checks import assert_accepted_cleanly, assert_refused_cleanly, record
from tests.hub.hostile.corpus import Carrier, Document, cases
from tests.hub.hostile.harness import (
    MARKER,
    HostileHub,
    RecordingServer,
    Secrets,
    measured,
    read_rest,
    read_soap,
    rows_change,
)

_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>")
CASES = [
    pytest.param(
        document,
        carrier,
        id=f"{document.id}-{carrier.name}",
        marks=[pytest.mark.xfail(strict=True, reason=document.xfail)] if document.xfail else [],
    )
    for document, carrier in cases()
]


@pytest.mark.parametrize(("document", "carrier"), CASES)
async def test_hostile_document_gets_its_outcome(
    document: Document,
    carrier: Carrier,
    hostile_hub: HostileHub,
    recording_server: RecordingServer,
    secrets: Secrets,
) -> None:
    number = f"H-{document.id}-{carrier.name}"
    content = document.content(number=number, port=recording_server.port, secrets=secrets)
    expect, reason = document.expectation(carrier.name)
    recording_server.requests.clear()
    before = await hostile_hub.rows()

    response, cost = await measured(lambda: carrier.send(hostile_hub, content, number))

    observed = read_soap(response) if carrier.face == "soap" else read_rest(response)
    rows = rows_change(before, await hostile_hub.rows())
    record(
        suite="document",
        case=document.id,
        carrier=carrier.name,
        expected=f"{expect}: {reason}" if reason else expect,
        observed=observed,
        cost=cost,
        rows=rows,
    )
    if document.network:
        assert recording_server.requests == []
    if expect == "bounded":
        kinds = ("accepted", "failed-delivery", "fault", "problem", "findings")
        if observed.kind == "accepted":
            assert_accepted_cleanly(observed, cost, rows)
        else:
            assert_refused_cleanly(observed, cost, rows, kinds=kinds)
        return
    if expect == "accepted" and carrier.purpose == "deliver":
        assert_accepted_cleanly(observed, cost, rows)
        await _assert_stored_intact(hostile_hub, observed.code, content)
        return
    if expect == "accepted":
        assert_refused_cleanly(observed, cost, rows, kinds=("findings",))
        return
    if expect == "fault":
        kinds: tuple[str, ...] = ("fault",)
    elif carrier.purpose == "validate":
        # A SEVERE finding; or a 4xx when the request cannot even hold the document.
        kinds = ("findings", "problem")
        assert observed.kind != "findings" or observed.code == "SEVERE", observed
    else:
        kinds = ("failed-delivery",) if carrier.face == "soap" else ("problem",)
    assert_refused_cleanly(observed, cost, rows, kinds=kinds)
    assert reason is not None and reason in observed.message, observed


async def _assert_stored_intact(hub: HostileHub, number: str | None, sent: bytes) -> None:
    """The receiver pulls what was sent (the same infoset), never anything fetched or expanded."""
    assert number is not None
    response = await hub.client("rest", "BB").get(
        f"/envelopes/{number}", headers={"Accept": "application/xml"}
    )
    assert response.status_code == 200, response.text
    assert MARKER.encode() not in response.content
    # A declared encoding describes the sender's bytes; the stored text is UTF-8 either way.
    expected = etree.fromstring(
        _DECLARATION.sub(b"", sent.lstrip()), etree.XMLParser(resolve_entities=False)
    )
    stored = etree.fromstring(response.content)
    # Exclusive: an embedded certificate keeps the SOAP envelope's namespace declarations.
    assert _c14n(stored) == _c14n(expected)


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)
