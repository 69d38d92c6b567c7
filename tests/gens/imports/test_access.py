"""Who sees and does what on the import side: one tenant never sees another's, and only an
inspector acknowledges or answers."""

import re

import pytest

from tests.gens.conftest import BrowserFactory, TenantUsers
from tests.gens.forms import fetch, issue_and_send, received_links


async def received_in_peru(browser: BrowserFactory) -> str:
    """A certificate KE sent to PE, fetched by PE's inspector; its page's path."""
    await issue_and_send(await browser("ke-officer"), import_country="PE")
    inspector = await browser("pe-inspector")
    assert (await fetch(inspector)).status_code == 303
    [link] = received_links((await inspector.get("/imports")).text)
    return link


async def test_a_user_of_another_tenant_cannot_see_the_imports(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    link = await received_in_peru(browser)
    kenyan = await browser("ke-inspector")
    assert received_links((await kenyan.get("/imports")).text) == []
    for page in (link, f"{link}/content.xml", f"{link}/certificate.pdf"):
        response = await kenyan.get(page)
        assert response.status_code == 404, page
        assert "Highland Avocado" not in response.text
    refused = await kenyan.submit("/imports", {"kind": "ok"}, action=f"{link}/acknowledge")
    assert refused.status_code == 404
    # Kenya's own fetch does not take Peru's envelope either.
    assert (await fetch(kenyan)).status_code == 303
    assert received_links((await kenyan.get("/imports")).text) == []


@pytest.mark.parametrize("role", ["officer", "applicant", "admin"])
async def test_only_an_inspector_acknowledges_or_answers(
    browser: BrowserFactory, tenants: dict[str, TenantUsers], role: str
) -> None:
    link = await received_in_peru(browser)
    person = await browser(f"pe-{role}")
    page = await person.get("/certificates")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    for action, fields in (
        ("acknowledge", {"kind": "ok", "message": ""}),
        ("decision", {"decision": "accepted", "reason": ""}),
    ):
        response = await person.client.post(
            f"{link}/{action}", data={**fields, "csrf_token": token.group(1)}
        )
        assert response.status_code == 403, (role, action, response.status_code)
    viewed = await person.get(link)
    if role == "officer":  # an authorising officer may read and print what was received
        assert viewed.status_code == 200
        assert f'action="{link}/acknowledge"' not in viewed.text
    else:
        assert viewed.status_code == 403
    # Nothing happened: the inspector still has it to acknowledge.
    inspector = await browser("pe-inspector")
    assert f'action="{link}/acknowledge"' in (await inspector.get(link)).text


async def test_the_received_menu_shows_only_to_those_who_may_receive(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    for role, shown in (("inspector", True), ("officer", True), ("applicant", False)):
        html = (await (await browser(f"ke-{role}")).get("/certificates")).text
        assert ('href="/imports"' in html) is shown, role
