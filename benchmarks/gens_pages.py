"""How fast does GeNS serve its pages, next to rendering their templates and serving their bytes?

GeNS runs as the tests run it: the real app (`generic_national_system.app.create_app`) on SQLite
(the embedded default) or PostgreSQL, talking to the real hub app in-process. Two tenants, KE and
PE; KE's authorising officer enters certificates through the pages (one issued and sent to PE,
one filled draft, and drafts copied from it up to --certificates), PE's inspector fetches the
sent one. Then, for each page, one GET at a time:

- ``login``: the sign-in page, anonymous;
- ``certificate list``: KE's export list with --certificates certificates (it shows the newest 100);
- ``commodity form``: the form of a filled draft's first commodity (code-list pickers);
- ``certificate page``: the issued and sent certificate, with its history;
- ``received certificate``: PE's view of it, laid out like the paper form.

Each page is measured three ways, interleaved round by round (the order rotates) so load from
other processes hits all alike:

- ``app``: the whole app over httpx's in-process ASGI transport (middleware, session lookup,
  queries, template, security headers);
- ``template``: ``Templates.render`` alone, with the request and context captured from the app's
  own rendering of that page (jinja2, CSRF token, HTMLResponse; no I/O). The benchmark checks
  that it produces the very bytes the app served;
- ``bare route``: a bare Starlette app returning those bytes over the same transport, the floor
  any in-process ASGI app pays to serve a page of that size.

Latency is wall time per request (p50/p99 over every request of every round); pages/s is the
median over rounds of requests ÷ the round's wall time, with its min–max. The goal where one
exists is the page budget for low-bandwidth users that tests/gens checks: under 50 KB a page.

    .venv/bin/python -m benchmarks.gens_pages [--database sqlite|postgres] [--certificates 100]
        [--rounds 10] [--requests 50] [--json results.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.support import postgres_admin, postgres_url
from ephyto_core._pki import create_ca, issue_client_certificate
from generic_national_system.accounts import service as accounts
from generic_national_system.accounts.models import User
from generic_national_system.accounts.passwords import hash_password
from generic_national_system.accounts.roles import Role
from generic_national_system.accounts.secrets import seal
from generic_national_system.accounts.service import viewer_for
from generic_national_system.app import create_app as create_gens_app
from generic_national_system.database import unit_of_work
from generic_national_system.migrate import upgrade_to_head as gens_upgrade
from generic_national_system.models import register_models
from generic_national_system.runtime import GensRuntime, build_runtime
from generic_national_system.settings import async_database_url
from generic_national_system.web.csrf import SESSION_COOKIE
from hub.app import create_app as create_hub_app
from hub.database import unit_of_work as hub_unit_of_work
from hub.migrate import upgrade_to_head as hub_upgrade
from hub.runtime import build_runtime as build_hub_runtime
from hub.settings import HubSettings
from tests.gens.conftest import PASSWORD, SECRET, Browser, gens_settings
from tests.gens.forms import (
    create_certificate,
    fetch,
    fill_certificate,
    issue_and_send,
    received_links,
)

register_models()

#: The page budget tests/gens/test_pages.py holds every main page to.
PAGE_BUDGET_BYTES = 50 * 1024
VARIANTS = ("app", "template", "bare route")


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    browser: Browser


@dataclass
class Timings:
    #: one requests ÷ seconds per round
    rates: list[float] = field(default_factory=list)
    #: every request's wall time, in seconds
    latencies: list[float] = field(default_factory=list)


# ------------------------------------------------------------------------------ the setup


@contextmanager
def gens_database(kind: str, work: Path) -> Iterator[str]:
    """A fresh GeNS database at the newest migration (PostgreSQL: dropped afterwards)."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{work / 'gens.db'}"
        gens_upgrade(url)
        yield url
        return
    name = f"gens_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(postgres_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = async_database_url(postgres_url(name))
        gens_upgrade(url)
        yield url
    finally:
        asyncio.run(postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def add_tenants(runtime: GensRuntime, pki: dict[str, Any]) -> None:
    """KE (an English-speaking authorising officer) and PE (a Spanish-speaking inspector)."""
    password_hash = hash_password(PASSWORD)
    async with unit_of_work(runtime.sessionmaker) as session:
        for code, language, role in (("KE", "en", Role.OFFICER), ("PE", "es", Role.INSPECTOR)):
            tenant = await accounts.create_tenant(
                session, code=code, name=f"NPPO of {code}", place_of_issue=f"{code} City"
            )
            tenant.hub_client_cert_pem = pki[code].cert_pem().decode("ascii")
            tenant.hub_client_key_sealed = seal(pki[code].key_pem(), secret_key=SECRET)
            session.add(
                User(
                    tenant_id=tenant.id,
                    username=f"{code.lower()}-{role.value}",
                    full_name=f"{role.value.title()} of {code}",
                    role=role.value,
                    language=language,
                    password_hash=password_hash,
                )
            )


async def copy_drafts(runtime: GensRuntime, officer: Browser, path: str, copies: int) -> None:
    """`copies` more drafts with the same data as the draft at `path`, through the service (one
    at a time through the pages would take minutes for what the list page does not show)."""
    certificates = runtime.certificates
    async with unit_of_work(runtime.sessionmaker) as session:
        viewer = await viewer_for(session, token=officer.client.cookies[SESSION_COOKIE])
        model = await certificates.get(
            session, viewer=viewer, certificate_id=int(path.rsplit("/", 1)[1])
        )
        draft = certificates.draft_of(model)
    for _ in range(copies):
        async with unit_of_work(runtime.sessionmaker) as session:
            cert = await certificates.create(session, viewer=viewer, type_code=model.type_code)
            for section, values in draft.sections.items():
                await certificates.save_section(
                    session, viewer=viewer, cert=cert, section=section, values=dict(values)
                )
            for line in draft.lines:
                await certificates.save_line(
                    session, viewer=viewer, cert=cert, index=None, values=dict(line.values)
                )


async def open_browser(client: httpx.AsyncClient, username: str | None) -> Browser:
    person = Browser(client)
    if username is not None:
        signed_in = await person.sign_in(username)
        if signed_in.status_code != 303:
            raise SystemExit(f"{username} cannot sign in: {signed_in.status_code}")
    return person


# ------------------------------------------------------------------------------ the measurement


@dataclass(frozen=True)
class Probe:
    """One page as the app served it, and its template rendering alone."""

    body: bytes
    render: Callable[[], Response]


async def probe(runtime: GensRuntime, page: Page) -> Probe:
    """Serve `page` once while recording the call the app makes to render it."""
    templates = runtime.templates
    original = templates.render
    with mock.patch.object(templates, "render", wraps=original) as spy:
        response = await page.browser.get(page.path)
    if response.status_code != 200 or spy.call_count != 1:
        raise SystemExit(f"{page.path}: status {response.status_code}, {spy.call_count} renders")
    args, kwargs = spy.call_args

    def render() -> Response:
        return original(*args, **kwargs)

    if render().body != response.content:
        raise SystemExit(f"{page.path}: rendering the captured context gives other bytes")
    return Probe(body=response.content, render=render)


def bare_app(bodies: dict[str, bytes]) -> Starlette:
    """One route per page, answering with the page's bytes and nothing else."""

    def route(body: bytes) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(_request: Request) -> Response:
            return Response(body, media_type="text/html; charset=utf-8")

        return endpoint

    return Starlette(routes=[Route(f"/{i}", route(b)) for i, b in enumerate(bodies.values())])


async def timed(run: Callable[[], Awaitable[object]], requests: int, timings: Timings) -> None:
    started = time.perf_counter()
    for _ in range(requests):
        before = time.perf_counter()
        await run()
        timings.latencies.append(time.perf_counter() - before)
    timings.rates.append(requests / (time.perf_counter() - started))


def _checked(page: Page) -> Callable[[], Awaitable[object]]:
    async def get() -> None:
        response = await page.browser.client.get(page.path)
        if response.status_code != 200:
            raise SystemExit(f"{page.path}: status {response.status_code}")

    return get


def _getter(client: httpx.AsyncClient, path: str) -> Callable[[], Awaitable[object]]:
    async def get() -> object:
        return await client.get(path)

    return get


def _awaitable(call: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    async def run() -> object:
        return call()

    return run


async def measure(
    runtime: GensRuntime, pages: list[Page], *, rounds: int, requests: int
) -> dict[str, Any]:
    for page in pages:  # warm-up: compiled templates, code-list options, prepared statements
        for _ in range(3):
            await _checked(page)()
    probes = {page.name: await probe(runtime, page) for page in pages}
    bare = bare_app({name: p.body for name, p in probes.items()})
    results: dict[str, dict[str, Timings]] = {
        page.name: {variant: Timings() for variant in VARIANTS} for page in pages
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=bare), base_url="http://bare.test"
    ) as bare_client:
        runs: dict[str, dict[str, Callable[[], Awaitable[object]]]] = {}
        for index, page in enumerate(pages):
            bare_path = f"/{index}"
            runs[page.name] = {
                "app": _checked(page),
                "template": _awaitable(probes[page.name].render),
                "bare route": _getter(bare_client, bare_path),
            }
            for run in runs[page.name].values():
                await run()
        for round_ in range(rounds):
            for page in pages:
                order = VARIANTS[round_ % 3 :] + VARIANTS[: round_ % 3]
                for variant in order:
                    await timed(runs[page.name][variant], requests, results[page.name][variant])
    return {
        "pages": [
            {
                "page": page.name,
                "path": page.path,
                "bytes": len(probes[page.name].body),
                "variants": {
                    variant: _summary(timings) for variant, timings in results[page.name].items()
                },
                # app pages/s ÷ the reference's, round by round (the same round's conditions)
                "app_vs": {
                    reference: _ratios(results[page.name]["app"], results[page.name][reference])
                    for reference in VARIANTS[1:]
                },
            }
            for page in pages
        ]
    }


def _ratios(ours: Timings, reference: Timings) -> dict[str, float]:
    ratios = [o / r for o, r in zip(ours.rates, reference.rates, strict=True)]
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(timings: Timings) -> dict[str, Any]:
    return {
        "pages_per_s": {
            "median": statistics.median(timings.rates),
            "min": min(timings.rates),
            "max": max(timings.rates),
        },
        "p50_ms": percentile(timings.latencies, 0.5) * 1000,
        "p99_ms": percentile(timings.latencies, 0.99) * 1000,
        "requests": len(timings.latencies),
    }


# ------------------------------------------------------------------------------ the run


async def run(args: argparse.Namespace, database_url: str, work: Path) -> dict[str, Any]:
    ca = create_ca()
    pki = {c: issue_client_certificate(ca, nppo_code=c) for c in ("KE", "NL", "PE")}
    hub_runtime = build_hub_runtime(
        HubSettings(
            database_url=f"sqlite+aiosqlite:///{work / 'hub.db'}",
            data_dir=work / "hub",
            trusted_proxies=["127.0.0.1/32"],  # GeNS presents its tenants' certificates in a header
        )
    )
    async with hub_unit_of_work(hub_runtime.sessionmaker) as session:
        for code, issued in pki.items():
            await hub_runtime.nppos.register(session, code=code, name=f"NPPO {code}")
            await hub_runtime.nppos.add_client_certificate(
                session, code=code, certificate=issued.cert_pem()
            )
    runtime = build_runtime(
        gens_settings(database_url, work / "gens"),
        hub_transport=httpx.ASGITransport(app=create_hub_app(runtime=hub_runtime)),
    )
    app = create_gens_app(runtime=runtime)
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gens.test")
        for _ in range(3)
    ]
    try:
        await add_tenants(runtime, pki)
        anonymous = await open_browser(clients[0], None)
        officer = await open_browser(clients[1], "ke-officer")
        inspector = await open_browser(clients[2], "pe-inspector")
        sent = await issue_and_send(officer, import_country="PE")
        draft = await create_certificate(officer)
        await fill_certificate(officer, draft)
        await copy_drafts(runtime, officer, draft, max(0, args.certificates - 2))
        fetched = await fetch(inspector)
        [received] = received_links((await inspector.get(fetched.headers["location"])).text)
        pages = [
            Page("login", "/login", anonymous),
            Page(f"certificate list ({args.certificates})", "/certificates", officer),
            Page("commodity form", f"{draft}/lines/1", officer),
            Page("certificate page (sent)", sent, officer),
            Page("received certificate", received, inspector),
        ]
        return await measure(runtime, pages, rounds=args.rounds, requests=args.requests)
    finally:
        for client in clients:
            await client.aclose()
        await runtime.close()
        await hub_runtime.close()


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"GeNS pages on {results['database']}, one request at a time over the in-process ASGI "
        f"transport: pages/s median (min–max) of {results['rounds']} interleaved rounds of "
        f"{results['requests_per_round']} requests; p50/p99 over all of them.",
        "",
        "| page | bytes | app pages/s | p50 / p99 ms | template alone /s | bare route /s "
        "| app ÷ bare route |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for page in results["pages"]:
        app, template, bare = (page["variants"][v] for v in VARIANTS)
        lines.append(
            f"| {page['page']} | {page['bytes']:,} | {_rate(app)} "
            f"| {app['p50_ms']:.1f} / {app['p99_ms']:.1f} | {_rate(template)} | {_rate(bare)} "
            f"| {page['app_vs']['bare route']['median']:.2f} |"
        )
    return "\n".join(lines)


def _rate(summary: dict[str, Any]) -> str:
    rate = summary["pages_per_s"]
    return f"{rate['median']:,.0f} ({rate['min']:,.0f}–{rate['max']:,.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--certificates", type=int, default=100, help="in KE's list (default 100)")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    parser.add_argument("--requests", type=int, default=50, help="per page, variant and round")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="gens-bench-") as tmp:
        work = Path(tmp)
        hub_upgrade(f"sqlite+aiosqlite:///{work / 'hub.db'}")
        with gens_database(args.database, work) as database_url:
            measured = asyncio.run(run(args, database_url, work))
    results = {
        "machine": {
            "python": platform.python_version(),
            "cores": os.cpu_count(),
            "load_average_at_start": load,
        },
        "database": args.database,
        "certificates": args.certificates,
        "rounds": args.rounds,
        "requests_per_round": args.requests,
        "clock": "wall",
        "transport": "httpx.ASGITransport (in-process)",
        "goal_page_bytes_below": PAGE_BUDGET_BYTES,
        **measured,
    }
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
