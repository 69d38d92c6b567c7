"""The whole exchange in a real browser (Debian's Chromium, driven by Playwright), on a phone-sized
screen, against real servers: the hub over mutual TLS and GeNS, each under uvicorn on loopback,
set up the way `ephyto demo` does it (tenant AA exports from Kenya, BB is the Netherlands).

In tenant AA an applicant enters a certificate and an authorising officer issues it and sends it
to BB; it travels through the hub; in tenant BB an inspector fetches it, reads it laid out like the
paper form, prints it, checks the printed QR code on the public page, acknowledges it and accepts
the consignment; AA then sees it delivered and accepted.

Screenshots of the main pages are compared with the references in tests/gens/screenshots/ (set
GENS_UPDATE_SCREENSHOTS=1 to write them anew, then look at them before committing), and checked for
what must be there whatever the data: the GeNS header colour at the top, the paper form's frame,
the green or red verdict box. This run's screenshots go to a temporary directory.
"""

import asyncio
import os
import re
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pypdfium2
import pytest
import uvicorn
import zxingcpp
from PIL import Image, ImageChops, ImageStat
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from ephyto_cli.demo import demo_settings, prepare_pki, register_demo_nppos
from generic_national_system.app import create_app as create_gens_app
from generic_national_system.demo import DemoTenant, DemoUser, create_demo_tenants
from generic_national_system.demo import demo_settings as gens_demo_settings
from hub.identity.server import run_in_thread
from hub.server import hub_uvicorn_config

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: A common phone screen: every page must work at this width without sideways scrolling.
PHONE = {"width": 390, "height": 844}
REFERENCES = Path(__file__).parent / "screenshots"
#: Mean difference (0-255, grey, after shrinking both to a tenth) a page may differ from its
#: reference by. Measured on these screenshots: the same page in two runs (other delivery numbers,
#: times) differs by 0.0-2.2; any two of the six pages differ by 14.1 (sent certificate vs
#: reports) to 45.8, so a page that became another one (an error page, a lost layout) fails.
TOLERANCE = 8.0
HEADER_GREEN = (0x1D, 0x4D, 0x2B)
OK_GREEN = (0xF2, 0xF8, 0xF3)
WARN_RED = (0xFF, 0xF4, 0xF4)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Servers:
    gens: str
    users: dict[str, DemoUser]  # "aa-officer" -> its credentials


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    data_dir = tmp_path_factory.mktemp("browser-demo")
    pki = prepare_pki(data_dir / "pki")
    hub_port = _free_port()
    hub_settings = demo_settings(data_dir, pki, hub_port=hub_port).model_copy(
        update={"database_url": f"sqlite:///{data_dir / 'hub.db'}", "broker_url": ""}
    )
    from hub.migrate import upgrade_to_head

    upgrade_to_head(hub_settings.sqlalchemy_url)
    asyncio.run(register_demo_nppos(hub_settings, pki))
    hub_config = hub_uvicorn_config(
        hub_settings, host="127.0.0.1", port=hub_port, log_level="warning"
    )
    with run_in_thread(hub_config, startup_timeout=30) as hub_url:
        assert pki.ca.cert_path and pki.seal.cert_path
        gens_settings = gens_demo_settings(
            data_dir / "gens",
            hub_url=hub_url,
            ca_cert=pki.ca.cert_path,
            seal_cert=pki.seal.cert_path,
            public_url="",  # the QR code then names the address the browser used
        ).model_copy(update={"database_url": f"sqlite:///{data_dir / 'gens.db'}"})
        tenants = create_demo_tenants(
            gens_settings,
            [
                DemoTenant(
                    code=code,
                    name=f"NPPO {code}",
                    country_code=country,
                    client_cert=pki.clients[code].cert_path,
                    client_key=pki.clients[code].key_path,
                    place_of_issue=place,
                )
                for code, country, place in (("AA", "KE", "Nairobi"), ("BB", "NL", "Rotterdam"))
            ],
        )
        users = {u["username"]: u for t in tenants for u in t["users"]}
        gens_config = uvicorn.Config(
            create_gens_app(gens_settings), host="127.0.0.1", port=0, log_level="warning"
        )
        with run_in_thread(gens_config, startup_timeout=30) as gens_url:
            yield Servers(gens=gens_url, users=users)


@pytest.fixture(scope="module")
def browser(servers: Servers) -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def signed_in(browser: Browser, servers: Servers, username: str) -> Page:
    context: BrowserContext = browser.new_context(viewport=PHONE, base_url=servers.gens)
    page = context.new_page()
    page.goto("/login")
    page.fill("#f-username", username)
    page.fill("#f-password", servers.users[username]["password"])
    page.click("button[type=submit]:has-text('Sign in')")
    expect(page).to_have_url(re.compile(r"/certificates$"))
    return page


def save(page: Page, section: str) -> None:
    page.click(f"form[action$='/sections/{section}'] button[type=submit]")
    expect(page.locator("h1")).to_contain_text("AA-")


def press(page: Page, action: str) -> None:
    page.click(f"form[action$='/actions/{action}'] button[type=submit]")


def fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width}px wide"


def screenshot(page: Page, name: str, shots: Path) -> Image.Image:
    """This page as the person sees it (the phone's screen), checked against its reference."""
    fits_the_phone(page)
    path = shots / f"{name}.png"
    page.screenshot(path=str(path))
    image = Image.open(path).convert("RGB")
    assert image.size == (PHONE["width"], PHONE["height"])
    grey = ImageStat.Stat(image.convert("L"))
    assert grey.stddev[0] > 20, f"{name}: the screenshot is blank"
    reference = REFERENCES / f"{name}.png"
    if os.environ.get("GENS_UPDATE_SCREENSHOTS") == "1":
        REFERENCES.mkdir(exist_ok=True)
        shutil.copy(path, reference)
    assert reference.is_file(), f"no reference {reference}: run with GENS_UPDATE_SCREENSHOTS=1"
    difference = _difference(image, Image.open(reference).convert("RGB"))
    print(f"screenshot {name}: {difference:.1f} from its reference")
    assert difference < TOLERANCE, f"{name} differs from its reference by {difference:.1f}"
    return image


def _difference(a: Image.Image, b: Image.Image) -> float:
    size = (a.width // 10, a.height // 10)
    small_a = a.convert("L").resize(size, Image.Resampling.BOX)
    small_b = b.convert("L").resize(size, Image.Resampling.BOX)
    return float(ImageStat.Stat(ImageChops.difference(small_a, small_b)).mean[0])


def share(
    image: Image.Image, colour: tuple[int, int, int], box: tuple[int, int, int, int]
) -> float:
    """The share of pixels of exactly `colour` in `box` (left, top, right, bottom)."""
    region = image.crop(box)
    counts = region.getcolors(maxcolors=region.width * region.height) or []
    found = sum(count for count, pixel in counts if pixel == colour)
    return found / (region.width * region.height)


def header_is_there(image: Image.Image) -> None:
    assert share(image, HEADER_GREEN, (0, 0, PHONE["width"], 30)) > 0.5, "no GeNS header"


def test_a_certificate_from_entry_in_one_country_to_acceptance_in_another(
    browser: Browser, servers: Servers, shots: Path
) -> None:
    # --- Tenant AA (Kenya): the applicant enters the certificate.
    applicant = signed_in(browser, servers, "aa-applicant")
    header_is_there(screenshot(applicant, "certificates", shots))
    applicant.click("form[action='/certificates'] button[type=submit]")
    expect(applicant.locator("h1")).to_contain_text("AA-")
    certificate = applicant.url
    number = (applicant.locator("h1").text_content() or "").split()[0]

    applicant.goto(f"{certificate}/sections/parties")
    applicant.fill("#f-consignor_name", "Highland Avocado Exporters Ltd")
    applicant.fill("#f-consignor_address", "12 Industrial Road\nNairobi")
    applicant.fill("#f-consignee_name", "Fresh Imports B.V.")
    applicant.fill("#f-consignee_address", "Harbour Street 4\nRotterdam")
    save(applicant, "parties")
    applicant.goto(f"{certificate}/sections/route")
    applicant.select_option("#f-import_country", "NL")
    applicant.fill("#f-point_of_entry_code", "NLRTM")
    applicant.fill("#f-point_of_entry_name", "Rotterdam")
    applicant.select_option("#f-transport_mode", "1")
    applicant.fill("#f-conveyance_name", "MSC Anna")
    save(applicant, "route")
    applicant.goto(f"{certificate}/sections/declarations")
    save(applicant, "declarations")  # the statement and the place of issue come preset
    applicant.goto(f"{certificate}/lines/new")
    applicant.fill("#f-description", "Fresh avocados")
    applicant.fill("#f-botanical_name", "Persea americana")
    applicant.fill("#f-net_weight", "12500")
    applicant.fill("#f-package_quantity", "1200")
    applicant.select_option("#f-package_type", "BX")
    applicant.click("form[action$='/lines/new'] button[type=submit]")
    expect(applicant).to_have_url(re.compile(r"/lines/1$"))
    applicant.goto(certificate)
    press(applicant, "submit")
    expect(applicant.locator("h1 .st")).to_have_text("Submitted")

    # --- The authorising officer approves, issues and sends it to BB (the hub has no "NL").
    officer = signed_in(browser, servers, "aa-officer")
    officer.goto(certificate)
    press(officer, "approve")
    press(officer, "issue")
    expect(officer.locator("h1 .st")).to_have_text("Issued")
    officer.select_option("#d-send", "BB")
    press(officer, "send")
    expect(officer.locator("h1 .st")).to_have_text("Sent")
    expect(officer.locator("main")).to_contain_text("Hub seal verified.")

    # --- Tenant BB (Netherlands): the inspector fetches it from the hub.
    inspector = signed_in(browser, servers, "bb-inspector")
    inspector.goto("/imports")
    inspector.click("form[action='/imports/fetch'] button[type=submit]")
    expect(inspector.locator("#fetched")).to_contain_text("1 new")
    inspector.click(f"a:has-text('{number}')")
    expect(inspector.locator("#seal")).to_contain_text("Hub seal verified")
    expect(inspector.locator("#box-1")).to_contain_text("Highland Avocado Exporters Ltd")
    expect(inspector.locator("#box-9")).to_contain_text("Persea americana")
    received = inspector.url
    inspector.locator("#paper").scroll_into_view_if_needed()
    paper = screenshot(inspector, "received-certificate", shots)
    # The form's frame: a 2px green line down both sides of the screen.
    assert share(paper, HEADER_GREEN, (0, 0, 40, PHONE["height"])) > 0.02, "no paper frame"

    # She prints it; the PDF's QR code opens the public check page, which needs no account.
    pdf = inspector.context.request.get(f"{received}/certificate.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(pdf.body())
    image = document[len(document) - 1].render(scale=3).to_pil()
    [code] = zxingcpp.read_barcodes(image)
    assert code.text.startswith(f"{servers.gens}/check?n="), code.text
    public = browser.new_context(viewport=PHONE).new_page()
    public.goto(code.text)
    expect(public.locator("#verdict")).to_contain_text("Authentic.")
    expect(public.locator("#verdict")).to_contain_text(number)
    verdict = screenshot(public, "check-authentic", shots)
    assert share(verdict, OK_GREEN, (0, 0, PHONE["width"], PHONE["height"])) > 0.05
    forged = re.sub(
        r"d=([0-9a-f])", lambda m: "d=" + ("0" if m.group(1) != "0" else "1"), code.text
    )
    public.goto(forged)
    expect(public.locator("#verdict")).to_contain_text("Not authentic.")
    refused = screenshot(public, "check-not-authentic", shots)
    assert share(refused, WARN_RED, (0, 0, PHONE["width"], PHONE["height"])) > 0.02

    # She acknowledges receipt and accepts the consignment.
    inspector.goto(received)
    inspector.select_option("#f-kind", "ok")
    inspector.click("form[action$='/acknowledge'] button[type=submit]")
    expect(inspector.locator("h1")).to_contain_text("Acknowledged")
    inspector.select_option("#f-decision", "accepted")
    inspector.click("form[action$='/decision'] button[type=submit]")
    expect(inspector.locator("#decision")).to_contain_text("Accepted")

    # --- Back in AA: delivered, and the importing country's answer arrives with the next fetch.
    officer.goto(certificate)
    press(officer, "refresh")
    expect(officer.locator("h1 .st")).to_have_text("Delivered")
    officer.goto("/imports")
    officer.click("form[action='/imports/fetch'] button[type=submit]")
    officer.goto(certificate)
    expect(officer.locator("#response-1")).to_contain_text("Accepted")
    header_is_there(screenshot(officer, "sent-certificate", shots))

    # The reports count it on both sides.
    officer.goto("/reports")
    expect(officer.locator("#total")).to_contain_text("1 certificate(s)")
    header_is_there(screenshot(officer, "reports", shots))
