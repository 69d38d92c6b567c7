"""Who may do what: every REST call is made as the NPPO its client certificate belongs to."""

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from ephyto_core._pki import issue_client_certificate
from hub.database import unit_of_work
from hub.runtime import HubRuntime
from tests.hub import conftest as hub_fixtures
from tests.hub.rest.conftest import ClientFactory, assert_problem, count_rows
from tests.hub.rest.payloads import submission

#: Every route that needs a client certificate, with a body where it takes one.
AUTHENTICATED_ROUTES = [
    ("POST", "/envelopes", submission()),
    ("GET", "/boxes/mine/envelopes", None),
    ("POST", "/boxes/mine/pull", None),
    ("GET", "/envelopes/n-1", None),
    ("POST", "/envelopes/n-1/acknowledgement", {"kind": "ok"}),
    ("GET", "/envelopes/n-1/tracking", None),
    ("GET", "/envelopes/n-1/history", None),
    ("GET", "/sent", None),
    ("POST", "/validation", {"xml": "<a/>"}),
    ("GET", "/nppos/me", None),
    ("GET", "/nppos", None),
    ("GET", "/channels", None),
    ("GET", "/codelists", None),
    ("GET", "/codelists/units", None),
]


async def _send_aa_to_bb(client_as: ClientFactory) -> str:
    response = await client_as("AA").post("/envelopes", json=submission())
    assert response.status_code == 201
    number: str = response.json()["hub_delivery_number"]
    return number


@pytest.mark.parametrize(("method", "path", "body"), AUTHENTICATED_ROUTES)
async def test_every_route_but_health_refuses_a_caller_without_certificate(
    client_as: ClientFactory, method: str, path: str, body: object
) -> None:
    response = await client_as(None).request(method, path, json=body)
    assert_problem(response, 401, "not_authenticated", field="client_certificate")


async def test_an_unregistered_certificate_is_refused(
    client_as: ClientFactory, test_pki: hub_fixtures.TestPki
) -> None:
    stranger = issue_client_certificate(test_pki.ca, nppo_code="ZZ")
    response = await client_as(certificate=stranger).get("/boxes/mine/envelopes")
    problem = assert_problem(response, 401, "not_authenticated")
    assert "not registered" in str(problem["detail"])


async def test_a_header_that_is_not_a_certificate_is_refused_as_unreadable(
    client_as: ClientFactory,
) -> None:
    """Registered certificates are recognised by the digest of their DER bytes alone; bytes
    that match none are read as a certificate only to say why they are refused."""
    not_der = base64.b64encode(b"not a certificate at all").decode()
    pem = f"-----BEGIN CERTIFICATE-----\n{not_der}\n-----END CERTIFICATE-----\n"
    response = await client_as(None).get(
        "/boxes/mine/envelopes", headers={"X-Client-Cert": quote(pem)}
    )
    problem = assert_problem(response, 401, "not_authenticated", field="client_certificate")
    assert "could not be read" in str(problem["detail"])


async def test_an_expired_certificate_is_refused(
    client_as: ClientFactory, runtime: HubRuntime, test_pki: hub_fixtures.TestPki
) -> None:
    now = datetime.now(UTC)
    expired = issue_client_certificate(
        test_pki.ca,
        nppo_code="AA",
        not_before=now - timedelta(days=30),
        not_after=now - timedelta(days=1),
    )
    async with unit_of_work(runtime.sessionmaker) as session:
        await runtime.nppos.add_client_certificate(
            session, code="AA", certificate=expired.cert_pem()
        )
    response = await client_as(certificate=expired).get("/boxes/mine/envelopes")
    problem = assert_problem(response, 401, "not_authenticated")
    assert "expired" in str(problem["detail"])


async def test_a_revoked_certificate_is_refused(
    client_as: ClientFactory, runtime: HubRuntime, test_pki: hub_fixtures.TestPki
) -> None:
    aa = client_as("AA")
    assert (await aa.get("/nppos/me")).status_code == 200
    async with unit_of_work(runtime.sessionmaker) as session:
        await runtime.nppos.revoke_client_certificate(
            session, fingerprint=test_pki.clients["AA"].fingerprint, reason="key compromise"
        )
    problem = assert_problem(await aa.get("/nppos/me"), 401, "not_authenticated")
    assert "revoked" in str(problem["detail"])


async def test_a_certificate_header_from_an_untrusted_peer_is_ignored(
    client_as: ClientFactory, runtime: HubRuntime
) -> None:
    runtime.settings.trusted_proxies = []  # this test's runtime only
    response = await client_as("AA").get("/nppos/me")
    assert_problem(response, 401, "not_authenticated")


async def test_nobody_can_send_as_another_nppo(
    client_as: ClientFactory, runtime: HubRuntime
) -> None:
    before = await count_rows(runtime)
    response = await client_as("AA").post("/envelopes", json=submission(sender="BB", to="CC"))
    assert_problem(response, 403, "forbidden", field="from")
    assert await count_rows(runtime) == before


async def test_nobody_can_answer_as_another_nppo(client_as: ClientFactory) -> None:
    await _send_aa_to_bb(client_as)
    response = await client_as("CC").post(
        "/envelopes/country-responses",
        json={
            "from": "BB",
            "to": "AA",
            "certificate_type": 851,
            "certificate_status": 70,
            "nppo_certificate_number": "AA-2026-0001",
            "acknowledgement": "<x/>",
        },
    )
    assert_problem(response, 403, "forbidden", field="from")


async def test_a_box_lists_only_its_own_envelopes(client_as: ClientFactory) -> None:
    number = await _send_aa_to_bb(client_as)
    assert (await client_as("CC").get("/boxes/mine/envelopes")).json() == []
    assert (await client_as("AA").get("/boxes/mine/envelopes")).json() == []
    assert (await client_as("CC").post("/boxes/mine/pull")).json() == []
    bb_box = (await client_as("BB").get("/boxes/mine/envelopes")).json()
    assert [h["hub_delivery_number"] for h in bb_box] == [number]


async def test_others_cannot_pull_or_acknowledge_an_envelope(client_as: ClientFactory) -> None:
    number = await _send_aa_to_bb(client_as)
    for outsider in ("AA", "CC"):  # the sender is not the receiver either
        client = client_as(outsider)
        assert_problem(await client.get(f"/envelopes/{number}"), 404, "not_found", field="number")
        assert_problem(
            await client.post(f"/envelopes/{number}/acknowledgement", json={"kind": "ok"}),
            404,
            "not_found",
            field="number",
        )
    tracked = await client_as("AA").get(f"/envelopes/{number}/tracking")
    assert tracked.json()["tracking_info"] == "PendingDelivery"


async def test_only_the_sender_tracks_and_only_the_two_ends_see_history(
    client_as: ClientFactory,
) -> None:
    number = await _send_aa_to_bb(client_as)
    for not_sender in ("BB", "CC"):
        response = await client_as(not_sender).get(f"/envelopes/{number}/tracking")
        assert_problem(response, 404, "not_found", field="number")
    assert_problem(
        await client_as("CC").get(f"/envelopes/{number}/history"), 404, "not_found", field="number"
    )
    assert (await client_as("BB").get(f"/envelopes/{number}/history")).status_code == 200


async def test_sent_lists_only_the_callers_envelopes(client_as: ClientFactory) -> None:
    number = await _send_aa_to_bb(client_as)
    assert (await client_as("BB").get("/sent")).json() == []
    assert [h["hub_delivery_number"] for h in (await client_as("AA").get("/sent")).json()] == [
        number
    ]
