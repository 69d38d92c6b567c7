"""Printed certificates: the PDF of a draft says DRAFT and has no QR code; a sent or received one
has a QR code that opens the public check page, which says authentic for it and only for it."""

import hashlib
import io
import re
from urllib.parse import parse_qs, urlsplit

import pypdfium2
import zxingcpp

from tests.gens.conftest import BrowserFactory, TenantUsers
from tests.gens.forms import (
    create_certificate,
    fetch,
    fill_certificate,
    issue_and_send,
    received_links,
)

#: One or two A4 pages with core fonts and vector QR modules: a few KB (measured 5-7 KB).
PDF_BUDGET_BYTES = 20 * 1024


def pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(data)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def qr_codes(data: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(data)
    found = []
    for page in document:
        found.extend(code.text for code in zxingcpp.read_barcodes(page.render(scale=3).to_pil()))
    return found


async def test_a_draft_prints_with_draft_across_it_and_no_qr_code(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    applicant = await browser("ke-applicant")
    path = await create_certificate(applicant)
    await fill_certificate(applicant, path)
    response = await applicant.get(f"{path}/certificate.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert len(response.content) < PDF_BUDGET_BYTES
    text = pdf_text(response.content)
    assert "DRAFT" in text
    assert "Highland Avocado Exporters Ltd" in text and "Persea americana" in text
    assert "1. Name and address of exporter" in text
    assert qr_codes(response.content) == []


async def test_a_sent_certificate_prints_a_qr_code_that_proves_it_authentic(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    officer = await browser("ke-officer")
    path = await issue_and_send(officer, import_country="PE")
    content = (await officer.get(f"{path}/content.xml")).content
    page = (await officer.get(path)).text
    number = re.search(r"Hub delivery number: ([0-9a-f-]+)", page)
    assert number
    printed = await officer.get(f"{path}/certificate.pdf")
    assert len(printed.content) < PDF_BUDGET_BYTES
    assert "DRAFT" not in pdf_text(printed.content)
    [url] = qr_codes(printed.content)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("http://gens.test/check?")
    assert query == {"n": [number.group(1)], "d": [hashlib.sha256(content).hexdigest()]}
    assert hashlib.sha256(content).hexdigest() in pdf_text(printed.content)

    visitor = await browser()  # no account needed
    authentic = await visitor.get(url.removeprefix("http://gens.test"))
    assert authentic.status_code == 200
    verdict = re.search(r'<div class="box ok" id="verdict">(.*?)</div>', authentic.text, re.S)
    assert verdict and "Authentic." in verdict.group(1)
    assert "KE-" in verdict.group(1) and "Highland" not in authentic.text  # no parties shown
    other = "0" * 64 if query["d"][0] != "0" * 64 else "1" * 64
    forged = await visitor.get(f"/check?n={number.group(1)}&d={other}")
    assert forged.status_code == 404
    assert '<div class="box warn" id="verdict">' in forged.text and "altered" in forged.text


async def test_a_received_certificate_prints_in_the_readers_language_with_its_qr_code(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    await issue_and_send(await browser("ke-officer"), import_country="PE")
    inspector = await browser("pe-inspector")
    await fetch(inspector)
    [link] = received_links((await inspector.get("/imports")).text)
    printed = await inspector.get(f"{link}/certificate.pdf")
    assert printed.status_code == 200 and len(printed.content) < PDF_BUDGET_BYTES
    text = pdf_text(printed.content)
    assert "Certificado fitosanitario" in text and "Nombre y dirección del exportador" in text
    [url] = qr_codes(printed.content)
    visitor = await browser()
    assert (await visitor.get(url.removeprefix("http://gens.test"))).status_code == 200
    # A PDF is a real PDF, start to end.
    assert printed.content.startswith(b"%PDF-") and b"%%EOF" in io.BytesIO(printed.content).read()
