"""Path and SQL injection strings (and their friends) in every free-text field, both faces.

A stored value comes back exactly as sent, or the request is refused clearly with nothing
stored; an identifier that matches nothing finds nothing. The certificate number and the
acknowledgement messages are stored, so they run on both databases.
"""

import json
import re
from collections.abc import Awaitable, Callable
from urllib.parse import quote
from xml.sax.saxutils import escape

import httpx
import pytest

from tests.hub.hostile.checks import record
from tests.hub.hostile.harness import (
    HostileHub,
    Observed,
    assert_no_server_error,
    assert_nothing_leaks,
    measured,
    read_rest,
    read_soap,
    rows_change,
)
from tests.hub.rest.payloads import certificate_xml
from tests.hub.soap.soapxml import header_xml, soap_request

INJECTIONS = {
    "sql-quote": "AA-1'; DROP TABLE envelopes;--",
    "sql-tautology": "1' OR '1'='1\" OR \"\"=\"",
    "path-traversal": "../../../../etc/passwd",
    "path-windows": "..\\..\\windows\\win.ini",
    "url-encoded": "%2e%2e%2f%00%s%n{0}",
    "shell": "$(cat /etc/passwd)`id`",
    "markup": "<script>alert(1)</script>]]><!--&amp;&#0;",
    "header-injection": "AA-1\r\nSet-Cookie: x=y",
    "bidi-and-fullwidth": "AA-\u202e1-GNP ＡＡ－１",
    "emoji": "🌱" * 20,
    "nul": "AA-1\x00",
    "lone-surrogate": "AA-\ud800",
    "long": "N" * 10_000,
}
# Characters XML 1.0 cannot carry even escaped: a SOAP client cannot send these at all.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    return escape(text, {"\r": "&#13;", '"': "&quot;"})


def _certificate_for(number: str) -> str:
    """A certificate with this ID, or, for an ID no XML can hold, one the hub must never see
    (the request is refused before the content is read)."""
    return certificate_xml("FT-UNSENDABLE" if _NOT_XML.search(number) else number)


async def _probe(
    hub: HostileHub,
    *,
    suite: str,
    case: str,
    face: str,
    send: Callable[[], Awaitable[httpx.Response]],
) -> tuple[Observed, dict[str, int]]:
    before = await hub.rows()
    response, cost = await measured(send)
    observed = read_soap(response) if face == "soap" else read_rest(response)
    rows = rows_change(before, await hub.rows())
    record(
        suite=suite,
        case=case,
        carrier=face,
        expected="round-trip or refused",
        observed=observed,
        cost=cost,
        rows=rows,
    )
    assert_no_server_error(observed)
    assert_nothing_leaks(observed)
    cost.assert_bounded()
    return observed, rows


def _refused(observed: Observed, rows: dict[str, int]) -> bool:
    if observed.kind in ("fault", "failed-delivery", "problem"):
        assert rows == {}, rows
        assert observed.kind != "problem" or 400 <= observed.status < 500, observed
        return True
    return False


async def _deliver(hub: HostileHub, face: str, number: str) -> httpx.Response:
    certificate = _certificate_for(number)
    if face == "soap":
        return await hub.soap(
            soap_request(
                f"<hub:DeliverEnvelope><hub:env>{header_xml(number=_xml(number))}"
                f"<ent:Content>{_xml(certificate)}</ent:Content></hub:env></hub:DeliverEnvelope>"
            )
        )
    body = {
        "from": "AA",
        "to": "BB",
        "certificate_type": 851,
        "certificate_status": 70,
        "nppo_certificate_number": number,
        "content": certificate,
    }
    return await hub.rest(
        "POST", "/envelopes", content=_json(body), content_type="application/json"
    )


def _json(body: dict[str, object]) -> bytes:
    # ensure_ascii: a lone surrogate travels as the escape \ud800, as a hostile client sends it.
    return json.dumps(body, ensure_ascii=True).encode()


@pytest.mark.parametrize("face", ["soap", "rest"])
async def test_certificate_number_round_trips_exactly_or_is_refused(
    face: str, fresh_hub: HostileHub
) -> None:
    for name, value in INJECTIONS.items():
        if face == "soap" and _NOT_XML.search(value):
            continue
        observed, rows = await _probe(
            fresh_hub,
            suite=f"number-{fresh_hub.backend}",
            case=name,
            face=face,
            send=lambda value=value: _deliver(fresh_hub, face, value),
        )
        if _refused(observed, rows):
            continue
        assert observed.kind == "accepted", (name, observed)
        number = observed.code
        tracked = await fresh_hub.client("rest", "AA").get(f"/envelopes/{number}/tracking")
        assert tracked.json()["nppo_certificate_number"] == value, name
        waiting = await fresh_hub.client("rest", "BB").get("/boxes/mine/envelopes")
        assert value in [h["nppo_certificate_number"] for h in waiting.json()], name
        pulled = await fresh_hub.client("rest", "BB").get(f"/envelopes/{number}")
        assert pulled.json()["content"] == certificate_xml(value), name


async def _acknowledge(
    hub: HostileHub, face: str, number: str, kind: str, message: str
) -> httpx.Response:
    if face == "soap":
        operation, parameter = {
            "with_warnings": ("AdvancedAcknowledgeEnvelopeReceipt", "warningMessage"),
            "failed": ("AcknowledgeFailedEnvelopeReceipt", "message"),
        }[kind]
        return await hub.soap(
            soap_request(
                f"<hub:{operation}><hub:hubTrackingNumber>{number}</hub:hubTrackingNumber>"
                f"<hub:{parameter}>{_xml(message)}</hub:{parameter}></hub:{operation}>"
            ),
            code="BB",
        )
    return await hub.rest(
        "POST",
        f"/envelopes/{number}/acknowledgement",
        code="BB",
        content=_json({"kind": kind, "message": message}),
        content_type="application/json",
    )


# Both kinds store their message the same way: each face takes one.
@pytest.mark.parametrize(("face", "kind"), [("soap", "with_warnings"), ("rest", "failed")])
async def test_acknowledgement_message_round_trips_exactly_or_is_refused(
    face: str, kind: str, fresh_hub: HostileHub
) -> None:
    for position, (name, value) in enumerate(INJECTIONS.items()):
        if face == "soap" and _NOT_XML.search(value):
            continue
        sent = read_rest(await _deliver(fresh_hub, "rest", f"ACK-{face}-{kind}-{position}"))
        number = sent.code
        observed, rows = await _probe(
            fresh_hub,
            suite=f"{kind}-message-{fresh_hub.backend}",
            case=name,
            face=face,
            send=lambda value=value, number=number: _acknowledge(
                fresh_hub, face, str(number), kind, value
            ),
        )
        if _refused(observed, rows):
            continue
        tracked = await fresh_hub.client("rest", "AA").get(f"/envelopes/{number}/tracking")
        assert tracked.json()["error_message"] == value, name
        expected = {"with_warnings": "DeliveredWithWarnings", "failed": "DeliveredNotReadable"}
        assert tracked.json()["tracking_info"] == expected[kind], name


def _soap_lookups(value: str) -> dict[str, bytes]:
    v = _xml(value)
    deliver = (
        "<hub:DeliverEnvelope><hub:env>{header}<ent:Content>"
        + _xml(certificate_xml("FT-1"))
        + "</ent:Content></hub:env></hub:DeliverEnvelope>"
    )
    return {
        "pull-number": soap_request(
            f"<hub:PULLSingleImportEnvelope><hub:hubTrackingNumber>{v}</hub:hubTrackingNumber>"
            "</hub:PULLSingleImportEnvelope>"
        ),
        "ack-number": soap_request(
            f"<hub:AcknowledgeEnvelopeReceipt><hub:hubTrackingNumber>{v}</hub:hubTrackingNumber>"
            "</hub:AcknowledgeEnvelopeReceipt>"
        ),
        "track-number": soap_request(
            f"<hub:GetEnvelopeTrackingInfo><hub:hubTrackingNumber>{v}</hub:hubTrackingNumber>"
            "</hub:GetEnvelopeTrackingInfo>"
        ),
        "country-code": soap_request(
            f"<hub:GetImportEnvelopeHeaders><hub:countryCode>{v}</hub:countryCode>"
            "</hub:GetImportEnvelopeHeaders>"
        ),
        "from": soap_request(deliver.format(header=header_xml(sender=v, number="FT-1"))),
        "to": soap_request(deliver.format(header=header_xml(to=v, number="FT-1"))),
        "forwarding": soap_request(
            deliver.format(
                header=header_xml(
                    number="FT-1",
                    extra=f"<ent:Forwardings><ent:EnvelopeForwarding><ent:Code>{v}</ent:Code>"
                    "</ent:EnvelopeForwarding></ent:Forwardings>",
                )
            )
        ),
    }


async def test_identifiers_with_injection_strings_find_nothing_over_soap(
    hostile_hub: HostileHub,
) -> None:
    for name, value in INJECTIONS.items():
        if _NOT_XML.search(value):
            continue
        for field, body in _soap_lookups(value).items():
            observed, rows = await _probe(
                hostile_hub,
                suite=f"identifier-{field}",
                case=name,
                face="soap",
                send=lambda body=body: hostile_hub.soap(body),
            )
            assert rows == {}, (field, name, rows)
            if field == "track-number":
                assert "EnvelopeNotExists" in observed.text, (name, observed)
            elif field == "country-code":
                assert observed.kind == "ok" and "<ent:EnvelopeHeader" not in observed.text, (
                    name,
                    observed,
                )
            else:
                assert observed.kind in ("fault", "failed-delivery"), (field, name, observed)


async def test_identifiers_with_injection_strings_find_nothing_over_rest(
    hostile_hub: HostileHub,
) -> None:
    for name, value in INJECTIONS.items():
        quoted = quote(value.encode("utf-8", "surrogatepass"), safe="")
        requests = {
            "pull-number": ("GET", f"/envelopes/{quoted}", None),
            "track-number": ("GET", f"/envelopes/{quoted}/tracking", None),
            "from": ("POST", "/envelopes", {"from": value}),
            "to": ("POST", "/envelopes", {"to": value}),
            "forwarding": ("POST", "/envelopes", {"forwardings": [value]}),
        }
        for field, (method, path, overrides) in requests.items():
            body = None
            if overrides is not None:
                body = (
                    {
                        "from": "AA",
                        "to": "BB",
                        "certificate_type": 851,
                        "certificate_status": 70,
                        "nppo_certificate_number": "FT-1",
                        "content": certificate_xml("FT-1"),
                    }
                    if path == "/envelopes"
                    else {}
                )
                body.update(overrides)
            observed, rows = await _probe(
                hostile_hub,
                suite=f"identifier-{field}",
                case=name,
                face="rest",
                send=lambda method=method, path=path, body=body: hostile_hub.rest(
                    method,
                    path,
                    content=None if body is None else _json(body),
                    content_type=None if body is None else "application/json",
                ),
            )
            assert rows == {}, (field, name, rows)
            assert observed.kind == "problem" and observed.status in (403, 404, 422), (
                field,
                name,
                observed,
            )
