"""Every new form refuses bad input with a message at the field, and keeps what was typed."""

import re

from tests.gens.conftest import Browser, BrowserFactory, TenantUsers
from tests.gens.forms import (
    act,
    create_certificate,
    error_at,
    fetch,
    fill_certificate,
    input_value,
    issue_and_send,
    received_links,
    route,
)


def selected(html: str, field: str) -> str | None:
    block = re.search(rf'<select id="{field}"[^>]*>(.*?)</select>', html, re.S)
    if block is None:
        return None
    found = re.search(r'<option value="([^"]*)" selected>', block.group(1))
    return found.group(1) if found else None


def textarea(html: str, field: str) -> str | None:
    found = re.search(rf'<textarea id="f-{field}"[^>]*>([^<]*)</textarea>', html)
    return found.group(1) if found else None


async def received(browser: BrowserFactory) -> tuple[str, Browser]:
    await issue_and_send(await browser("ke-officer"), import_country="PE")
    inspector = await browser("pe-inspector")
    await fetch(inspector)
    [link] = received_links((await inspector.get("/imports")).text)
    return link, inspector


async def test_acknowledging_with_warnings_needs_the_warnings(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    link, inspector = await received(browser)
    refused = await inspector.submit(
        link, {"kind": "with_warnings", "message": "  "}, action=f"{link}/acknowledge"
    )
    assert refused.status_code == 422
    assert error_at(refused.text, "message")
    assert selected(refused.text, "f-kind") == "with_warnings"
    bogus = await inspector.submit(
        link, {"kind": "maybe", "message": "Seal number differs"}, action=f"{link}/acknowledge"
    )
    assert bogus.status_code == 422 and error_at(bogus.text, "kind")
    assert textarea(bogus.text, "message") == "Seal number differs"
    # Nothing was acknowledged: the form is still there.
    assert f'action="{link}/acknowledge"' in (await inspector.get(link)).text


async def test_a_rejection_needs_a_reason(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    link, inspector = await received(browser)
    done = await inspector.submit(link, {"kind": "ok"}, action=f"{link}/acknowledge")
    assert done.status_code == 303
    refused = await inspector.submit(
        link, {"decision": "rejected", "reason": ""}, action=f"{link}/decision"
    )
    assert refused.status_code == 422 and error_at(refused.text, "reason")
    assert selected(refused.text, "f-decision") == "rejected"
    too_long = await inspector.submit(
        link, {"decision": "rejected", "reason": "x" * 2001}, action=f"{link}/decision"
    )
    assert too_long.status_code == 422 and error_at(too_long.text, "reason")
    assert textarea(too_long.text, "reason") == "x" * 2001


async def test_sending_to_a_participant_not_on_the_hub_is_refused_at_the_field(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    officer = await browser("ke-officer")
    path = await create_certificate(officer)
    await fill_certificate(officer, path, route=route(import_country="PE"))
    for action in ("submit", "approve", "issue"):
        assert (await act(officer, path, action)).status_code == 303
    page = (await officer.get(path)).text
    assert selected(page, "d-send") == "PE"  # the import country's participant, preselected
    options = re.findall(r'<option value="([A-Z]+)"', page)
    assert "NL" in options and "KE" not in options  # not to itself
    refused = await act(officer, path, "send", destination="ZZ")
    assert refused.status_code == 422
    assert error_at(refused.text, "destination")
    empty = await act(officer, path, "send", destination="")
    assert empty.status_code == 422 and error_at(empty.text, "destination")
    assert "Issued" in (await officer.get(path)).text


async def test_the_check_form_names_the_wrong_field_and_keeps_it(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    visitor = await browser()
    bad = await visitor.get("/check?n=abc%3Cdef&d=12345")
    assert bad.status_code == 422
    assert error_at(bad.text, "n") and error_at(bad.text, "d")
    assert input_value(bad.text, "d") == "12345"
    assert input_value(bad.text, "n") == "abc&lt;def"
    unknown = await visitor.get("/check?n=no-such-number&d=" + "a" * 64)
    assert unknown.status_code == 404 and 'id="verdict"' in unknown.text


async def test_the_report_form_refuses_impossible_dates(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    officer = await browser("ke-officer")
    bad = await officer.get("/reports?direction=exports&start=2026-13-01&end=2026-11-30")
    assert bad.status_code == 422 and error_at(bad.text, "start")
    assert input_value(bad.text, "start") == "2026-13-01"
    backwards = await officer.get("/reports?direction=imports&start=2026-11-30&end=2026-11-01")
    assert backwards.status_code == 422 and error_at(backwards.text, "end")
    assert selected(backwards.text, "f-direction") == "imports"
    wrong = await officer.get("/reports?direction=sideways&start=2026-11-01&end=2026-11-30")
    assert wrong.status_code == 422 and error_at(wrong.text, "direction")
