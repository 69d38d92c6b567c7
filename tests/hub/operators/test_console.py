"""The console as an operator uses it: sign in, read the queues, find an envelope, act, sign out."""

import re

import httpx
import pytest
from sqlalchemy import select

from ephyto_core._pki import create_ca, issue_client_certificate
from hub.database import utcnow
from hub.identity.domain import AuthenticatedNppo
from hub.operators.models import AuditEntry, PendingAction
from hub.routing import repository as routing_repository
from hub.runtime import HubRuntime
from tests.hub.operators.helpers import PASSWORDS, client, console_app, flash, run, sign_in, submit

pytestmark = pytest.mark.usefixtures("operators")


@pytest.fixture
async def http(runtime: HubRuntime) -> httpx.AsyncClient:
    async with client(console_app(runtime)) as http:
        yield http  # type: ignore[misc]


async def test_pages_send_a_stranger_to_the_login_page(http: httpx.AsyncClient) -> None:
    for path in ("/operator/", "/operator/envelopes?from=AA", "/operator/audit"):
        answer = await http.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/operator/login?next=/operator/")


async def test_a_wrong_password_is_refused_without_saying_which_part(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/operator/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce is not None
    for username, password in (("alice", "not-her-password"), ("nobody", "whatever-it-is")):
        answer = await http.post(
            "/operator/login",
            data={"username": username, "password": password, "nonce": nonce.group(1)},
        )
        assert answer.status_code == 401
        assert "Unknown username or wrong password." in answer.text
    assert (await http.get("/operator/")).status_code == 303


async def test_login_without_the_forms_nonce_is_refused(http: httpx.AsyncClient) -> None:
    answer = await http.post(
        "/operator/login", data={"username": "alice", "password": PASSWORDS["alice"]}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/operator/login"
    assert (await http.get("/operator/")).status_code == 303


async def test_the_session_cookie_is_private_to_the_console(runtime: HubRuntime) -> None:
    from hub.app import create_app

    async with client(create_app(runtime=runtime)) as http:  # production default: secure
        page = await http.get("/operator/login")
        nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
        assert nonce is not None
        # A Secure cookie is not sent back over the test's plain HTTP: hand it over as a
        # browser on HTTPS would.
        http.cookies.set("ephyto_operator_login", nonce.group(1))
        answer = await http.post(
            "/operator/login",
            data={"username": "alice", "password": PASSWORDS["alice"], "nonce": nonce.group(1)},
        )
    cookie = next(
        v for k, v in answer.headers.multi_items() if k == "set-cookie" and "ephyto_operator=" in v
    )
    for attribute in ("HttpOnly", "Path=/operator", "SameSite=strict", "Secure"):
        assert attribute.lower() in cookie.lower()


async def test_pages_allow_no_scripts_and_no_framing(http: httpx.AsyncClient) -> None:
    await sign_in(http, "alice")
    answer = await http.get("/operator/")
    assert answer.status_code == 200
    assert "script-src" not in answer.headers["content-security-policy"]
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert "<script" not in answer.text


async def test_the_front_page_shows_each_box_with_waiting_count_and_age(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], http: httpx.AsyncClient
) -> None:
    for number in ("DASH-1", "DASH-2"):
        await submit(runtime, nppos["AA"], "BB", number)
    await submit(runtime, nppos["AA"], "CC", "DASH-3")
    await sign_in(http, "alice")
    page = (await http.get("/operator/")).text
    rows = dict(re.findall(r'data-destination="(\w+)">.*?class="num waiting">(\d+)<', page, re.S))
    assert rows["BB"] == "2"
    assert rows["CC"] == "1"
    assert rows["AA"] == "0"
    bb = re.search(r'data-destination="BB">.*?class="num oldest">([^<]+)<', page, re.S)
    assert bb is not None
    assert bb.group(1).endswith(" s")  # seconds old, not "-"


async def test_search_finds_envelopes_by_certificate_pair_and_state(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], http: httpx.AsyncClient
) -> None:
    wanted = await submit(runtime, nppos["AA"], "BB", "FIND-ME-77")
    other = await submit(runtime, nppos["AA"], "CC", "OTHER-78")
    await sign_in(http, "alice")
    by_number = (await http.get("/operator/envelopes", params={"certificate": "find-me"})).text
    assert wanted in by_number
    assert other not in by_number
    by_pair = (await http.get("/operator/envelopes", params={"from": "aa", "to": "CC"})).text
    assert other in by_pair
    assert wanted not in by_pair
    delivered = (await http.get("/operator/envelopes", params={"state": "Delivered"})).text
    assert wanted not in delivered
    assert "0 envelope(s)" in delivered
    bad_date = await http.get("/operator/envelopes", params={"since": "yesterday"})
    assert "is not a date" in bad_date.text


async def test_the_envelope_page_shows_history_and_evidence(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], http: httpx.AsyncClient
) -> None:
    number = await submit(runtime, nppos["AA"], "BB", "SHOW-1")
    await sign_in(http, "alice")
    page = (await http.get(f"/operator/envelopes/{number}")).text
    history = page.split('id="history"')[1].split("</table>")[0]
    assert "accepted" in history
    assert "box BB" in history
    assert re.search(r'id="seal">signed, \d+ bytes', page)
    assert "Not yet in its box" in page
    await run(runtime, lambda s: routing_repository.route(s, [number], utcnow()))
    assert "BB pulls its box" in (await http.get(f"/operator/envelopes/{number}")).text
    unknown = await http.get("/operator/envelopes/no-such-number")
    assert unknown.status_code == 404
    assert "no envelope no-such-number" in unknown.text


async def test_a_form_without_the_sessions_token_does_nothing(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], http: httpx.AsyncClient
) -> None:
    number = await submit(runtime, nppos["AA"], "BB", "CSRF-1")
    await sign_in(http, "alice")
    answer = await http.post(
        f"/operator/envelopes/{number}/mark-failed",
        data={"reason": "forged", "csrf_token": "not-the-token"},
    )
    assert answer.status_code == 303
    assert "the form had expired" in flash(answer)
    pending = await run(runtime, lambda s: s.execute(select(PendingAction)))
    assert list(pending.scalars()) == []


async def test_destructive_actions_need_a_second_operator_in_the_console(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo]
) -> None:
    number = await submit(runtime, nppos["AA"], "BB", "TWO-OPS-1")
    app = console_app(runtime)
    async with client(app) as alice, client(app) as bob:
        token = await sign_in(alice, "alice")
        answer = await alice.post(
            f"/operator/envelopes/{number}/mark-failed",
            data={"reason": "BB cannot read it", "csrf_token": token},
        )
        assert "waits for a second operator" in flash(answer)
        own = (await alice.get("/operator/pending")).text
        assert "another operator must confirm" in own
        assert "/confirm" not in own
        action_id = re.search(r'data-action="(\d+)"', own)
        assert action_id is not None
        refused = await alice.post(
            f"/operator/pending/{action_id.group(1)}/confirm",
            data={"reason": "me again", "csrf_token": token},
        )
        assert "a different operator must confirm it" in flash(refused)

        bob_token = await sign_in(bob, "bob")
        confirmed = await bob.post(
            f"/operator/pending/{action_id.group(1)}/confirm",
            data={"reason": "agreed", "csrf_token": bob_token},
        )
        assert "marked FailedDelivery" in flash(confirmed)
        page = (await bob.get(f"/operator/envelopes/{number}")).text
    assert "state-FailedDelivery" in page.split('id="state"')[1][:200]
    assert "BB cannot read it" in page


async def test_registering_an_nppo_and_its_certificate_through_forms(
    runtime: HubRuntime, http: httpx.AsyncClient
) -> None:
    token = await sign_in(http, "alice")
    registered = await http.post(
        "/operator/nppos",
        data={
            "code": "nz",
            "name": "NPPO of New Zealand",
            "can_send": "on",
            "can_receive": "on",
            "allowed": "851:70 657:70",
            "reason": "joins the pilot",
            "csrf_token": token,
        },
    )
    assert flash(registered) == "ok:registered NZ"
    certificate = issue_client_certificate(create_ca(), nppo_code="NZ")
    uploaded = await http.post(
        "/operator/nppos/NZ/client-certificates",
        data={"reason": "first certificate", "csrf_token": token},
        files={"certificate": ("nz.pem", certificate.cert_pem(), "application/x-pem-file")},
    )
    assert "registered for NZ" in flash(uploaded)
    page = (await http.get("/operator/nppos/NZ")).text
    assert certificate.fingerprint in page
    missing_reason = await http.post(
        "/operator/nppos/NZ/delivery",
        data={"push_url": "https://nz.example/ephyto", "csrf_token": token},
    )
    assert "needs a reason" in flash(missing_reason)
    entries = await run(runtime, lambda s: s.execute(select(AuditEntry.action)))
    assert sorted(entries.scalars()) == ["add_client_certificate", "register_nppo"]


async def test_signing_out_ends_the_session(http: httpx.AsyncClient) -> None:
    token = await sign_in(http, "alice")
    answer = await http.post("/operator/logout", data={"csrf_token": token})
    assert answer.status_code == 303
    assert (await http.get("/operator/")).status_code == 303
