"""The console in a real browser (Debian's Chromium driven by Playwright), against a real hub:
uvicorn on loopback, PostgreSQL, the routing workers in the hub process, and a push receiver
over mutual TLS that the test breaks and mends.

Scenarios, as an operator lives them: find a stuck envelope, see why, retry it and watch it
arrive; pause and resume a destination; a destructive action confirmed by a second operator.
"""

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from ephyto_core._pki import issue_client_certificate, issue_server_certificate
from hub.app import create_app
from hub.identity.domain import AuthenticatedNppo
from hub.identity.server import run_in_thread
from hub.identity.tls import make_uvicorn_config
from hub.nppos.domain import DeliveryMode
from hub.operators.settings import OperatorSettings
from hub.routing.models import PushDelivery
from hub.runtime import HubRuntime, build_runtime
from hub.settings import HubSettings
from tests.hub.conftest import TestPki
from tests.hub.operators.helpers import PASSWORDS, add_operators, in_fresh_loop, run, submit
from tests.hub.routing.receiver import FakeReceiver

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
#: Flags for a sandboxed CI machine with no network beyond loopback and no GPU.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: The push lanes re-read the registry (and so the pauses) this often (RoutingWorkers' default).
LANE_REFRESH_SECONDS = 5.0


@dataclass
class Hub:
    url: str
    settings: HubSettings
    receiver: FakeReceiver
    sender: AuthenticatedNppo

    def submit(self, to: str, number: str) -> str:
        async def work() -> str:
            runtime = build_runtime(self.settings)
            try:
                return await submit(runtime, self.sender, to, number)
            finally:
                await runtime.close()

        return in_fresh_loop(work)

    def push_row(self, number: str) -> PushDelivery | None:
        async def work() -> PushDelivery | None:
            runtime = build_runtime(self.settings)
            try:
                result = await run(
                    runtime,
                    lambda s: s.execute(
                        select(PushDelivery).where(PushDelivery.hub_delivery_number == number)
                    ),
                )
                return result.scalar_one_or_none()
            finally:
                await runtime.close()

        return in_fresh_loop(work)


@pytest.fixture
def browser(hub: "Hub") -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread while it is open: it starts after
    # the hub (whose fixtures use asyncio.run) and stops before the hub is torn down.
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def hub(postgres_database_url: str, test_pki: TestPki, tmp_path: Path) -> Iterator[Hub]:
    ca = test_pki.ca
    receiver_tls = issue_server_certificate(ca).save(tmp_path, "receiver")
    hub_client = issue_client_certificate(ca, nppo_code="HUB").save(tmp_path, "hub-client")
    assert receiver_tls.cert_path and receiver_tls.key_path and ca.cert_path
    receiver = FakeReceiver()
    receiver.behaviour.mode = "error"  # the destination's system is down at first
    receiver_config = make_uvicorn_config(
        receiver,
        host="127.0.0.1",
        port=0,
        cert=receiver_tls.cert_path,
        key=receiver_tls.key_path,
        ca_bundle=ca.cert_path,
        require_client_cert=True,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    with run_in_thread(receiver_config) as receiver_url:
        settings = HubSettings(
            database_url=postgres_database_url,
            data_dir=tmp_path,
            broker_url="",  # in-process broker: the routing workers run in the hub process
            trusted_proxies=["127.0.0.1/32"],
            push_client_cert=hub_client.cert_path,
            push_client_key=hub_client.key_path,
            push_ca_bundle=ca.cert_path,
            push_timeout_seconds=3.0,
            push_backoff_base_seconds=0.2,
            push_backoff_max_seconds=600.0,
            # Three failures open the circuit for a minute: the envelope is then stuck until
            # someone acts.
            push_circuit_threshold=3,
            push_circuit_open_seconds=60.0,
        )

        async def prepare() -> AuthenticatedNppo:
            runtime: HubRuntime = build_runtime(settings)
            try:

                async def register(session: Any) -> None:
                    for code in ("AA", "BB"):
                        await runtime.nppos.register(session, code=code, name=f"NPPO {code}")
                    await runtime.nppos.register(
                        session,
                        code="PP",
                        name="NPPO PP (push)",
                        delivery_mode=DeliveryMode.PUSH,
                        push_url=f"{receiver_url}/ephyto/DeliveryService",
                    )

                await run(runtime, register)
                await add_operators(runtime)
            finally:
                await runtime.close()
            return AuthenticatedNppo(code="AA", certificate_fingerprint="0" * 64)

        sender = in_fresh_loop(prepare)
        app = create_app(settings, operator_settings=OperatorSettings(secure_cookies=False))
        config = make_uvicorn_config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"
        )
        with run_in_thread(config, startup_timeout=30) as url:
            yield Hub(url=url, settings=settings, receiver=receiver, sender=sender)


def sign_in(page: Page, hub: Hub, username: str) -> None:
    page.goto(f"{hub.url}/operator/")
    expect(page).to_have_url(f"{hub.url}/operator/login?next=/operator/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Delivery queues")).to_be_visible()


def act(page: Page, button: str, reason: str) -> None:
    """Fill the reason of the form that holds `button`, and press it."""
    form = page.locator("form", has=page.get_by_role("button", name=button))
    form.get_by_label("Reason").fill(reason)
    form.get_by_role("button", name=button).click()


def reload_until(page: Page, selector: str, text: str, *, within: float = 30.0) -> None:
    """Reload (as an operator presses F5) until `selector` shows `text`."""
    deadline = time.monotonic() + within
    while True:
        if text in (page.locator(selector).text_content() or ""):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} did not show {text!r} within {within}s")
        time.sleep(0.5)
        page.reload()


def test_find_a_stuck_envelope_see_why_retry_it_and_watch_it_deliver(
    browser: Browser, hub: Hub
) -> None:
    number = hub.submit("PP", "STUCK-0001")
    page = browser.new_page()
    sign_in(page, hub, "alice")

    # The front page: PP has one envelope waiting; wait until its circuit has opened.
    page.goto(f"{hub.url}/operator/destinations/PP")
    reload_until(page, "#circuit", "open")
    expect(page.locator("#waiting")).to_have_text("1")

    # Why: the pushes being retried, with the receiver's answer.
    retrying = page.locator("#retrying")
    expect(retrying).to_contain_text(number)
    expect(retrying).to_contain_text("503")
    retrying.get_by_role("link", name=number).click()
    expect(page.locator("#state")).to_have_text("PendingDelivery")
    expect(page.locator("#push-error")).to_contain_text("503")
    attempts = int(page.locator("#push-attempts").text_content() or "0")
    assert attempts >= 3

    # The NPPO fixes its system; the operator retries at once instead of waiting a minute.
    hub.receiver.behaviour.mode = "ok"
    act(page, "Retry now", "PP says their receiver is back")
    expect(page.locator("#flash")).to_contain_text(f"retry of {number} requested")
    reload_until(page, "#state", "Delivered", within=30)
    assert number in hub.receiver.stored
    history = page.locator("#history")
    expect(history).to_contain_text("operator_retry")
    expect(history).to_contain_text("operator:alice")


def test_pause_and_resume_a_destination(browser: Browser, hub: Hub) -> None:
    hub.receiver.behaviour.mode = "ok"
    page = browser.new_page()
    sign_in(page, hub, "alice")
    page.goto(f"{hub.url}/operator/destinations/PP")
    expect(page.locator("#paused")).to_have_text("running")
    act(page, "Pause deliveries", "PP is migrating its receiver tonight")
    expect(page.locator("#flash")).to_have_text("deliveries to PP paused")
    expect(page.locator("#paused")).to_have_text("paused")
    expect(page.get_by_role("button", name="Resume deliveries")).to_be_visible()

    # The lanes drop a paused destination at their next registry refresh.
    time.sleep(LANE_REFRESH_SECONDS + 1)
    number = hub.submit("PP", "PAUSED-0001")
    time.sleep(3)
    page.reload()
    expect(page.locator("#waiting")).to_have_text("1")
    assert hub.receiver.calls[number] == 0
    row = hub.push_row(number)
    assert row is not None
    assert (row.state, row.attempts) == ("due", 0)

    act(page, "Resume deliveries", "migration finished")
    expect(page.locator("#flash")).to_have_text("deliveries to PP resumed")
    page.goto(f"{hub.url}/operator/envelopes/{number}")
    reload_until(page, "#state", "Delivered", within=LANE_REFRESH_SECONDS + 20)
    assert hub.receiver.calls[number] == 1

    page.goto(f"{hub.url}/operator/audit?target=PP")
    entries = page.locator("table.audit")
    expect(entries).to_contain_text("PP is migrating its receiver tonight")
    expect(entries).to_contain_text("migration finished")


def test_marking_failed_needs_a_second_operator(browser: Browser, hub: Hub) -> None:
    number = hub.submit("BB", "NEVER-READ-0001")
    alice = browser.new_context().new_page()
    sign_in(alice, hub, "alice")
    alice.goto(f"{hub.url}/operator/envelopes?certificate=never-read")
    alice.get_by_role("link", name=number).click()
    act(alice, "Mark failed…", "BB reports the content is unreadable")
    expect(alice.locator("#flash")).to_contain_text("waits for a second operator")
    expect(alice.locator("#state")).to_have_text("PendingDelivery")
    alice.goto(f"{hub.url}/operator/pending")
    expect(alice.locator("#pending")).to_contain_text("another operator must confirm")
    expect(alice.get_by_role("button", name="Confirm")).to_have_count(0)

    bob = browser.new_context().new_page()  # another person, another browser session
    sign_in(bob, hub, "bob")
    bob.goto(f"{hub.url}/operator/pending")
    expect(bob.locator("#pending")).to_contain_text(number)
    act(bob, "Confirm", "confirmed with BB by phone")
    expect(bob.locator("#flash")).to_contain_text(f"{number} marked FailedDelivery")
    bob.goto(f"{hub.url}/operator/envelopes/{number}")
    expect(bob.locator("#state")).to_have_text("FailedDelivery")
    expect(bob.locator("#error-message")).to_contain_text("BB reports the content is unreadable")
    audit = bob.locator("table.audit")
    expect(audit).to_contain_text("request_mark_failed")
    expect(audit).to_contain_text("confirm_mark_failed")
    expect(audit).to_contain_text("confirmed with BB by phone")
