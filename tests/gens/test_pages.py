"""Every main page is light (under 50 KB) and declares the reader's language."""

import re

import pytest

from tests.gens.conftest import Browser, BrowserFactory, TenantUsers
from tests.gens.forms import create_certificate, fill_certificate

#: The budget for one page on a slow connection (the stylesheet is one more small, cached file).
PAGE_BUDGET_BYTES = 50 * 1024


async def main_pages(person: Browser, path: str) -> list[str]:
    return [
        "/certificates",
        path,
        f"{path}/sections/parties",
        f"{path}/sections/route",
        f"{path}/sections/declarations",
        f"{path}/lines/new",
        f"{path}/lines/1",
        f"{path}/lines/1/treatments/new",
        f"{path}/attachments/new",
        "/account",
    ]


ADMIN_PAGES = ["/admin/users", "/admin/users/new", "/admin/tenant", "/admin/audit"]


async def weigh(person: Browser, pages: list[str]) -> dict[str, int]:
    sizes = {}
    for page in pages:
        response = await person.get(page)
        assert response.status_code == 200, (page, response.text[:500])
        sizes[page] = len(response.content)
    return sizes


async def test_every_main_page_is_under_50_kb(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    officer = await browser("ke-officer")
    path = await create_certificate(officer)
    await fill_certificate(officer, path)
    sizes = await weigh(officer, await main_pages(officer, path))
    sizes.update(await weigh(await browser("ke-admin"), ADMIN_PAGES))
    sizes.update(await weigh(await browser(), ["/login"]))
    page = (await officer.get("/certificates")).text
    found = re.search(r'href="(/static/gens\.css\?v=\w+)"', page)
    assert found
    css = await officer.get(found.group(1))
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    sizes["stylesheet"] = len(css.content)

    heavy = {page: size for page, size in sizes.items() if size >= PAGE_BUDGET_BYTES}
    assert not heavy, heavy
    assert sizes["stylesheet"] < 5 * 1024
    print("page sizes (bytes):", sizes)


async def test_pages_need_no_script_and_no_web_font(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    officer = await browser("ke-officer")
    path = await create_certificate(officer)
    for page in await main_pages(officer, path):
        if page.endswith("/lines/1") or "treatments" in page:
            continue  # no commodity on this certificate
        html = (await officer.get(page)).text
        assert "<script" not in html and "@font-face" not in html, page
    response = await officer.get("/certificates")
    assert "script-src" not in response.headers["content-security-policy"]
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


@pytest.mark.parametrize(
    ("username", "language", "phrase"),
    [
        ("ke-applicant", "en", "Export certificates"),
        ("pe-applicant", "es", "Certificados de exportación"),
    ],
)
async def test_every_page_is_in_the_users_language(
    browser: BrowserFactory,
    tenants: dict[str, TenantUsers],
    username: str,
    language: str,
    phrase: str,
) -> None:
    person = await browser(username)
    path = await create_certificate(person)
    await fill_certificate(person, path)
    for page in await main_pages(person, path):
        html = (await person.get(page)).text
        assert f'<html lang="{language}">' in html, page
    assert phrase in (await person.get("/certificates")).text


async def test_a_user_switching_to_french_gets_french_pages(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    person = await browser("ke-inspector")
    saved = await person.submit("/account", {"language": "fr"})
    assert saved.status_code == 303
    html = (await person.get("/certificates")).text
    assert '<html lang="fr">' in html and "Certificats d'exportation" in html


async def test_the_sign_in_page_follows_the_browser_or_the_chosen_language(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    person = await browser()
    spanish = await person.client.get("/login", headers={"Accept-Language": "es-PE,es;q=0.9"})
    assert '<html lang="es">' in spanish.text and "Iniciar sesión" in spanish.text
    french = await person.get("/login?lang=fr")
    assert '<html lang="fr">' in french.text and "Se connecter" in french.text
    assert '<html lang="fr">' in (await person.get("/login")).text  # the choice is kept
