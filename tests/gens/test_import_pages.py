"""The import, print-check and report pages are light, script-free, and in the reader's language."""

import re

from tests.gens.conftest import BrowserFactory, TenantUsers
from tests.gens.forms import (
    act,
    create_certificate,
    fetch,
    fill_certificate,
    issue_and_send,
    received_links,
    route,
)
from tests.gens.test_pages import PAGE_BUDGET_BYTES


async def test_the_new_pages_are_under_50_kb_without_scripts_in_the_readers_language(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    kenya = await browser("ke-officer")
    sent = await issue_and_send(kenya, import_country="PE")
    ready = await create_certificate(kenya)  # issued, not sent: the page with the send form
    await fill_certificate(kenya, ready, route=route(import_country="PE"))
    for action in ("submit", "approve", "issue"):
        assert (await act(kenya, ready, action)).status_code == 303
    inspector = await browser("pe-inspector")
    await fetch(inspector)
    [received] = received_links((await inspector.get("/imports")).text)
    number = re.search(r"Hub delivery number: ([0-9a-f-]+)", (await kenya.get(sent)).text)
    assert number
    visitor = await browser()

    pages = {
        (kenya, "en"): [ready, sent, "/reports", "/reports?direction=imports"],
        (inspector, "es"): ["/imports", received, "/reports?direction=imports"],
        (visitor, "en"): ["/check", f"/check?n={number.group(1)}&d={'0' * 64}"],
    }
    sizes = {}
    for (person, language), paths in pages.items():
        for path in paths:
            response = await person.get(path)
            assert response.status_code in (200, 404), (path, response.status_code)
            html = response.text
            assert f'<html lang="{language}">' in html, path
            assert "<script" not in html, path
            sizes[f"{language} {path}"] = len(response.content)
    heavy = {page: size for page, size in sizes.items() if size >= PAGE_BUDGET_BYTES}
    assert not heavy, heavy
    print("page sizes (bytes):", sizes)
