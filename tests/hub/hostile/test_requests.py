"""Whole hostile requests: SOAP envelope tricks and REST (JSON, URL) tricks, from the manifest."""

import json
from typing import Any
from xml.sax.saxutils import escape

import pytest

from tests.hub.hostile.checks import assert_accepted_cleanly, assert_refused_cleanly, record
from tests.hub.hostile.corpus import MANIFEST, generate
from tests.hub.hostile.harness import (
    HostileHub,
    Observed,
    RecordingServer,
    assert_no_server_error,
    assert_nothing_leaks,
    measured,
    read_rest,
    read_soap,
    rows_change,
)
from tests.hub.rest.payloads import certificate_xml
from tests.hub.soap.soapxml import NS, header_xml

SOAP_CASES: list[dict[str, Any]] = MANIFEST["soap"]
REST_CASES: list[dict[str, Any]] = MANIFEST["rest"]
DECLARATIONS = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items())


def _split_escaped(text: str, every: int = 997) -> str:
    """The text escaped, with a comment every `every` characters (never inside a reference)."""
    chunks = [escape(text[i : i + every]) for i in range(0, len(text), every)]
    return "<!--split-->".join(chunks)


def soap_request(case: dict[str, Any], *, number: str, port: int) -> bytes:
    certificate = certificate_xml(number)
    text = (
        case["request"]
        .replace("{DECLS}", DECLARATIONS)
        .replace("{HEADER}", header_xml(number=number))
        .replace("{CERT_SPLIT}", _split_escaped(certificate))
        .replace("{CERT}", escape(certificate))
        .replace("{NUMBER}", number)
        .replace("{PORT}", str(port))
        .replace("{REPEAT}", generate(case.get("repeat", [])))
    )
    return text.encode(case.get("encoding", "utf-8"))


@pytest.mark.parametrize("case", SOAP_CASES, ids=[case["id"] for case in SOAP_CASES])
async def test_soap_request_gets_its_outcome(
    case: dict[str, Any], hostile_hub: HostileHub, recording_server: RecordingServer
) -> None:
    number = f"H-soap-{case['id']}"
    body = soap_request(case, number=number, port=recording_server.port)
    headers = {"Content-Type": case.get("content_type", "text/xml; charset=utf-8")}
    if "soap_action" in case:
        headers["SOAPAction"] = case["soap_action"]
    recording_server.requests.clear()
    before = await hostile_hub.rows()

    response, cost = await measured(
        lambda: hostile_hub.client("soap").post(
            "/hub/DeliveryService", content=body, headers=headers
        )
    )

    observed = read_soap(response)
    rows = rows_change(before, await hostile_hub.rows())
    expect = case["expect"]
    code = case.get("code", "Client")
    expected = {"fault": f"fault soap:{code}", "failed": "FailedDelivery"}.get(expect, expect)
    record(
        suite="soap",
        case=case["id"],
        carrier="request",
        expected=f"{expected}: {case['reason']}" if "reason" in case else expected,
        observed=observed,
        cost=cost,
        rows=rows,
    )
    if case.get("network"):
        assert recording_server.requests == []
    if expect == "accepted":
        assert_accepted_cleanly(observed, cost, rows)
        assert observed.code != case.get("not_number")
        await _assert_pulled_exactly(hostile_hub, observed, certificate_xml(number))
    elif expect == "ok":
        assert_refused_cleanly(observed, cost, rows, kinds=("ok",))
        assert observed.status == 200
    elif expect == "bounded":
        if observed.kind == "accepted":
            assert_accepted_cleanly(observed, cost, rows, envelopes=case["envelopes"])
        else:
            assert_refused_cleanly(observed, cost, rows, kinds=("fault", "failed-delivery"))
    else:
        kind = "fault" if expect == "fault" else "failed-delivery"
        assert_refused_cleanly(observed, cost, rows, kinds=(kind,))
        assert expect != "fault" or observed.code == code, observed
        assert case["reason"] in observed.message, observed


async def _assert_pulled_exactly(hub: HostileHub, observed: Observed, certificate: str) -> None:
    response = await hub.client("rest", "BB").get(
        f"/envelopes/{observed.code}", headers={"Accept": "application/xml"}
    )
    assert response.status_code == 200, response.text
    assert response.text == certificate


def rest_body(case: dict[str, Any], *, number: str) -> bytes | None:
    if "body_hex" in case:
        return bytes.fromhex(case["body_hex"])
    if "body" not in case:
        return None
    submission = {
        "from": "AA",
        "to": "BB",
        "certificate_type": 851,
        "certificate_status": 70,
        "nppo_certificate_number": number,
        "content": certificate_xml(number),
    }
    members = json.dumps(submission)[1:-1]
    text = case["body"].replace("{SUBMISSION}", members)
    return text.replace("{REPEAT}", generate(case.get("repeat", []))).encode()


@pytest.mark.parametrize("case", REST_CASES, ids=[case["id"] for case in REST_CASES])
async def test_rest_request_gets_its_outcome(case: dict[str, Any], hostile_hub: HostileHub) -> None:
    body = rest_body(case, number=f"H-rest-{case['id']}")
    path = case["path"].replace("{REPEAT}", generate(case.get("repeat", [])))
    content_type = case.get("content_type", "application/json" if body is not None else None)
    before = await hostile_hub.rows()

    response, cost = await measured(
        lambda: hostile_hub.rest(case["method"], path, content=body, content_type=content_type)
    )

    observed = read_rest(response)
    rows = rows_change(before, await hostile_hub.rows())
    expected = f"{case['status']} {case['code']}"
    record(
        suite="rest",
        case=case["id"],
        carrier="request",
        expected=f"{expected}: {case['reason']}" if "reason" in case else expected,
        observed=observed,
        cost=cost,
        rows=rows,
    )
    assert_no_server_error(observed)
    assert_nothing_leaks(observed)
    assert_refused_cleanly(observed, cost, rows, kinds=("problem",))
    assert (observed.status, observed.code) == (case["status"], case["code"]), observed
    assert case.get("reason", "") in observed.message, observed
