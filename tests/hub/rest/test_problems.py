"""Bad input gets a 4xx problem+json that says what is wrong, never a 500, and stores nothing."""

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy.exc
from fastapi import FastAPI

from hub.app import create_app
from hub.runtime import HubRuntime, build_runtime
from tests.hub.conftest import hub_settings
from tests.hub.rest.conftest import ClientFactory, assert_problem, count_rows
from tests.hub.rest.payloads import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    acknowledgement_xml,
    certificate_xml,
    submission,
)


async def _sent_to_bb(client_as: ClientFactory, number: str = "AA-2026-0001") -> str:
    response = await client_as("AA").post("/envelopes", json=submission(number))
    assert response.status_code == 201, response.text
    delivery_number: str = response.json()["hub_delivery_number"]
    return delivery_number


# ----------------------------------------------------------------------------- malformed requests


async def test_malformed_json_is_a_422_that_says_so(client_as: ClientFactory) -> None:
    response = await client_as("AA").post(
        "/envelopes", content=b'{"from": "AA",', headers={"Content-Type": "application/json"}
    )
    problem = assert_problem(response, 422, "invalid_request")
    assert "not valid JSON" in str(problem["detail"])


async def test_a_body_that_is_not_a_json_object_is_a_422(client_as: ClientFactory) -> None:
    response = await client_as("AA").post("/envelopes", json=["AA", "BB"])
    problem = assert_problem(response, 422, "invalid_request")
    assert "JSON object" in str(problem["detail"])


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"certificate_type": "851"}, "certificate_type", "valid integer"),
        ({"certificate_status": 70.5}, "certificate_status", "valid integer"),
        ({"certificate_type": 100000}, "certificate_type", "less than or equal to 999"),
        ({"validate_first": "yes"}, "validate_first", "valid boolean"),
        ({"to": "B B"}, "to", "pattern"),
        ({"forwardings": ["CC", 7]}, "forwardings[1]", "valid string"),
        ({"forwardings": "CC"}, "forwardings", "valid list"),
        ({"nppo_certificate_number": "AA\n2026"}, "nppo_certificate_number", "one line"),
        ({"nppo_certificate_number": "AA\x002026"}, "nppo_certificate_number", "NUL"),
        ({"content": "<a>\ud800</a>"}, "content", "lone surrogate"),
        ({"content_base64": "PGE+"}, "content_base64", None),
        ({"frm": "AA"}, "frm", "not a field"),
    ],
)
async def test_a_wrong_field_is_named_with_the_reason_in_plain_words(
    client_as: ClientFactory, change: dict[str, Any], field: str, reason: str | None
) -> None:
    # Serialised here, with ASCII escapes: httpx cannot encode a lone surrogate, JSON can.
    body = json.dumps({**submission(), **change}).encode()
    response = await client_as("AA").post(
        "/envelopes", content=body, headers={"Content-Type": "application/json"}
    )
    if field == "content_base64":  # both forms of the content at once
        problem = assert_problem(response, 422, "invalid_request")
        assert "exactly one of content or content_base64" in str(problem["detail"])
        return
    problem = assert_problem(response, 422, "invalid_request", field=field)
    assert reason is not None and reason in str(problem["detail"])
    assert str(problem["detail"]).startswith(f"{field}: ")


async def test_a_missing_field_is_named(client_as: ClientFactory) -> None:
    body = submission()
    del body["from"]
    problem = assert_problem(
        await client_as("AA").post("/envelopes", json=body), 422, "invalid_request", field="from"
    )
    assert problem["detail"] == "from: is required"


async def test_every_wrong_field_is_listed(client_as: ClientFactory) -> None:
    body = {**submission(), "certificate_type": "x", "to": ""}
    problem = assert_problem(
        await client_as("AA").post("/envelopes", json=body), 422, "invalid_request"
    )
    errors = problem["errors"]
    assert isinstance(errors, list)
    assert {e["field"] for e in errors} == {"certificate_type", "to"}


async def test_bad_base64_content_is_named(client_as: ClientFactory) -> None:
    body = submission()
    del body["content"]
    body["content_base64"] = "PD94bWw*"
    problem = assert_problem(
        await client_as("AA").post("/envelopes", json=body),
        422,
        "invalid_request",
        field="content_base64",
    )
    assert "not valid base64" in str(problem["detail"])


# ----------------------------------------------------------------------------- refused deliveries


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (BILLION_LAUGHS, "DOCTYPE"),
        (EXTERNAL_ENTITY, "DOCTYPE"),
        ("<rsm:SPSCertificate", "well-formed"),
        ("not xml, not base64!", "base64"),
        (acknowledgement_xml(), "rsm:SPSCertificate"),
    ],
)
async def test_hostile_or_wrong_content_is_refused_and_nothing_is_stored(
    client_as: ClientFactory, runtime: HubRuntime, content: str, reason: str
) -> None:
    before = await count_rows(runtime)
    response = await client_as("AA").post("/envelopes", json=submission(content=content))
    problem = assert_problem(response, 422, "delivery_refused", field="content")
    assert reason in str(problem["detail"])
    assert await count_rows(runtime) == before


async def test_a_certificate_with_severe_findings_is_refused_unless_told_otherwise(
    client_as: ClientFactory, runtime: HubRuntime
) -> None:
    broken = certificate_xml("AA-2026-0001").replace(
        "<ram:ID>NZ</ram:ID>",
        "<ram:ID>QQ</ram:ID>",
        1,  # the exporting country
    )
    before = await count_rows(runtime)
    refused = await client_as("AA").post("/envelopes", json=submission(content=broken))
    problem = assert_problem(refused, 422, "delivery_refused")
    assert "SEVERE" in str(problem["detail"])
    assert str(problem["field"]).endswith("ram:ExportSPSCountry/ram:ID")  # the document path
    assert await count_rows(runtime) == before

    accepted = await client_as("AA").post(
        "/envelopes", json=submission(content=broken, validate_first=False)
    )
    assert accepted.status_code == 201, accepted.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"to": "QQ"}, "to"),
        ({"to": "AA"}, "to"),
        ({"certificate_type": 999}, "certificate_type"),
        ({"certificate_status": 1}, "certificate_status"),
        ({"nppo_certificate_number": "AA-2026-9999"}, "nppo_certificate_number"),
        ({"forwardings": ["QQ"]}, "forwardings"),
    ],
)
async def test_a_refused_header_names_the_rest_field(
    client_as: ClientFactory, runtime: HubRuntime, change: dict[str, Any], field: str
) -> None:
    before = await count_rows(runtime)
    response = await client_as("AA").post("/envelopes", json={**submission(), **change})
    assert_problem(response, 422, "delivery_refused", field=field)
    assert await count_rows(runtime) == before


async def test_a_country_response_must_answer_a_sent_certificate(
    client_as: ClientFactory,
) -> None:
    body = {
        "from": "BB",
        "to": "AA",
        "certificate_type": 851,
        "certificate_status": 70,
        "nppo_certificate_number": "AA-2026-0404",
        "acknowledgement": acknowledgement_xml(),
    }
    response = await client_as("BB").post("/envelopes/country-responses", json=body)
    assert_problem(response, 422, "delivery_refused", field="nppo_certificate_number")


# ----------------------------------------------------------------------------- numbers and routes


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/envelopes/{n}", None),
        ("POST", "/envelopes/{n}/acknowledgement", {"kind": "ok"}),
        ("GET", "/envelopes/{n}/tracking", None),
        ("GET", "/envelopes/{n}/history", None),
    ],
)
async def test_an_unknown_number_is_a_404_problem(
    client_as: ClientFactory, method: str, path: str, body: object
) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    response = await client_as("BB").request(method, path.format(n=unknown), json=body)
    problem = assert_problem(response, 404, "not_found", field="number")
    assert unknown in str(problem["detail"])


@pytest.mark.parametrize("number", ["%00", "a" * 41, "x%20y", "%F0%9F%8C%B1"])
async def test_a_malformed_number_is_a_422_problem(client_as: ClientFactory, number: str) -> None:
    response = await client_as("BB").get(f"/envelopes/{number}")
    assert_problem(response, 422, "invalid_request", field="number")


async def test_an_unknown_route_is_a_404_problem(client_as: ClientFactory) -> None:
    problem = assert_problem(await client_as("AA").get("/nowhere"), 404, "not_found")
    assert "/api/v1/nowhere" in str(problem["detail"])


async def test_a_wrong_method_is_a_405_problem_with_allow(client_as: ClientFactory) -> None:
    response = await client_as("AA").delete("/boxes/mine/envelopes")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


async def test_unknown_code_list_is_a_404_and_a_bad_language_a_422(
    client_as: ClientFactory,
) -> None:
    aa = client_as("AA")
    assert_problem(await aa.get("/codelists/nope"), 404, "not_found", field="name")
    assert_problem(
        await aa.get("/codelists/units", params={"lang": "english"}),
        422,
        "invalid_request",
        field="lang",
    )


# ----------------------------------------------------------------------------- acknowledgements


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"kind": "maybe"}, "kind"),
        ({"kind": "with_warnings"}, "message"),
        ({"kind": "failed", "message": "  "}, "message"),
        ({"kind": "ok", "message": "fine"}, "message"),
        ({}, "kind"),
    ],
)
async def test_a_wrong_acknowledgement_is_refused_and_changes_nothing(
    client_as: ClientFactory, answer: dict[str, Any], field: str
) -> None:
    number = await _sent_to_bb(client_as)
    bb = client_as("BB")
    response = await bb.post(f"/envelopes/{number}/acknowledgement", json=answer)
    assert_problem(response, 422, "invalid_request", field=field)
    tracked = await client_as("AA").get(f"/envelopes/{number}/tracking")
    assert tracked.json()["tracking_info"] == "PendingDelivery"


async def test_a_final_state_cannot_be_changed_by_another_acknowledgement(
    client_as: ClientFactory,
) -> None:
    number = await _sent_to_bb(client_as)
    bb = client_as("BB")
    assert (await bb.post(f"/envelopes/{number}/acknowledgement", json={"kind": "ok"})).is_success
    response = await bb.post(
        f"/envelopes/{number}/acknowledgement", json={"kind": "failed", "message": "late"}
    )
    assert_problem(response, 409, "conflict", field="number")


# ----------------------------------------------------------------------------- validation endpoint


async def test_validation_of_hostile_xml_is_a_severe_finding(client_as: ClientFactory) -> None:
    response = await client_as("AA").post(
        "/validation", content=BILLION_LAUGHS, headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 200
    [finding] = response.json()
    assert finding["level"] == "SEVERE" and "DOCTYPE" in finding["msg"]


async def test_validation_refuses_other_media_types_and_bad_json(
    client_as: ClientFactory,
) -> None:
    aa = client_as("AA")
    assert_problem(
        await aa.post("/validation", content=b"<a/>", headers={"Content-Type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
    assert_problem(
        await aa.post("/validation", content=b"{", headers={"Content-Type": "application/json"}),
        422,
        "invalid_request",
    )
    assert_problem(
        await aa.post("/validation", json={"xml": 5}), 422, "invalid_request", field="xml"
    )


# ----------------------------------------------------------------------------- body size


@pytest.fixture
async def small_limit_app(sqlite_url: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    settings = hub_settings(sqlite_url, tmp_path).model_copy(update={"max_request_bytes": 1000})
    runtime = build_runtime(settings)
    yield create_app(runtime=runtime)
    await runtime.close()


async def test_an_oversized_body_is_refused_with_413_before_anything_else(
    small_limit_app: FastAPI,
) -> None:
    transport = httpx.ASGITransport(app=small_limit_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        declared = await client.post("/api/v1/envelopes", content=b"x" * 1001)
        problem = assert_problem(declared, 413, "payload_too_large")
        assert "1,001 bytes" in str(problem["detail"])

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
            for _ in range(20):
                yield b"x" * 100

        streamed = await client.post("/api/v1/validation", content=chunks())
        assert "content-length" not in streamed.request.headers
        assert_problem(streamed, 413, "payload_too_large")

        # At the limit it passes on (and fails later, for want of a client certificate).
        at_limit = await client.post("/api/v1/envelopes", content=b"x" * 1000)
        assert at_limit.status_code == 401


# ----------------------------------------------------------------------------- the last resort


async def test_an_unexpected_failure_is_a_500_problem_without_traceback(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/api/v1/explode", explode)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="hub.rest.errors"):
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            response = await client.get("/api/v1/explode")
    problem = assert_problem(response, 500, "internal_error")
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert problem["instance"] == "/api/v1/explode"
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)


HOSTILE_BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b"0",
    b'"x"',
    b"{}",
    b'{"from": null}',
    b'{"from": {"$ne": 1}}',
    b'{"content": "\\u0000"}',
    b'{"kind": "ok", "message": "\\udfff"}',
    b"\xff\xfe\x00\x00",
    b'{"from": "AA", "from": "BB"}',
    b"1e999999",
    b"[" * 5000 + b"]" * 5000,
    b'{"a": ' * 5000 + b"1" + b"}" * 5000,
]


@pytest.mark.parametrize(
    "path",
    [
        "/envelopes",
        "/envelopes/country-responses",
        "/envelopes/00000000-0000-4000-8000-000000000000/acknowledgement",
        "/validation",
        "/boxes/mine/pull",
    ],
)
async def test_junk_bodies_never_cause_a_500(client_as: ClientFactory, path: str) -> None:
    aa = client_as("AA")
    for body in HOSTILE_BODIES:
        for content_type in ("application/json", "application/xml"):
            response = await aa.post(path, content=body, headers={"Content-Type": content_type})
            assert response.status_code < 500, (body[:40], content_type, response.text)
            if response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json"


async def test_a_lost_database_is_a_503_problem_saying_to_retry(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def lose_the_database() -> None:
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, ConnectionResetError("gone"))

    app.add_api_route("/api/v1/lost", lose_the_database)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.WARNING, logger="hub.rest.errors"):
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            response = await client.get("/api/v1/lost")
    assert_problem(response, 503, "database_unavailable")
    assert response.headers["retry-after"] == "1"
    assert "nothing was stored" in response.json()["detail"]
    assert not any(r.exc_info for r in caplog.records)  # expected, not a bug: no traceback
