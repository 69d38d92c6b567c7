"""A re-export certificate (657) and documents attached to a certificate."""

from ephyto_core.certificate import read_certificate, reexport_details
from tests.gens.conftest import BrowserFactory, TenantUsers
from tests.gens.forms import (
    act,
    create_certificate,
    declarations,
    error_at,
    fill_certificate,
    state_of,
)

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8


async def test_a_reexport_certificate_carries_the_reexport_box(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    officer = await browser("ke-officer")
    path = await create_certificate(officer, "657")
    # The 851 statement is not offered on a 657: the re-export one is the default.
    form = (await officer.get(f"{path}/sections/declarations")).text
    assert '<option value="1"' not in form and '<option value="3" selected>' in form
    await fill_certificate(officer, path, declarations=declarations(statement_code="3"))
    missing = await act(officer, path, "submit")
    assert "Complete the section “Re-export”." in missing.text
    saved = await officer.submit(
        f"{path}/sections/reexport",
        {
            "origin_country": "PE",
            "original_certificate_number": "PE-2026-004711",
            "packed": "true",
            "original_containers": "true",
        },
    )
    assert saved.status_code == 303, saved.text[:2000]
    for action in ("submit", "approve", "issue"):
        done = await act(officer, path, action)
        assert done.status_code == 303, (action, done.text[:4000])

    cert = read_certificate((await officer.get(f"{path}/content.xml")).content)
    assert cert.document.type_code == 657
    details = reexport_details(cert.consignment.trade_line_items[0])
    assert details is not None
    assert details.origin_country_id == "PE"
    assert details.original_certificate_number == "PE-2026-004711"
    assert details.packed and details.original_containers and not details.repacked


async def test_an_attached_pdf_travels_in_the_issued_certificate(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    officer = await browser("ke-officer")
    path = await create_certificate(officer)
    await fill_certificate(officer, path)
    page = f"{path}/attachments/new"

    wrong = await officer.submit(
        page,
        {"description": "Lab report"},
        files={"file": ("report.exe", b"MZ\x90\x00", "application/pdf")},
    )
    assert wrong.status_code == 422
    assert error_at(wrong.text, "file") == "Attach a PDF, JPEG or PNG file."
    assert 'value="Lab report"' in wrong.text

    attached = await officer.submit(
        page,
        {"description": "Laboratory analysis report"},
        files={"file": ("../../lab report.pdf", PDF, "application/octet-stream")},
    )
    assert attached.status_code == 303, attached.text[:2000]
    view = (await officer.get(path)).text
    assert "lab report.pdf" in view
    for action in ("submit", "approve", "issue"):
        assert (await act(officer, path, action)).status_code == 303
    assert state_of((await officer.get(path)).text) == "Issued"

    cert = read_certificate((await officer.get(f"{path}/content.xml")).content)
    [document] = cert.document.referenced_documents
    assert document.attachment is not None
    assert document.attachment.content == PDF
    assert document.attachment.filename == "lab report.pdf"
    assert document.information is not None
    assert document.information.value == "Laboratory analysis report"


async def test_an_attachment_over_the_limit_is_refused(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    officer = await browser("ke-officer")
    path = await create_certificate(officer)
    too_big = b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024)
    refused = await officer.submit(
        f"{path}/attachments/new",
        {"description": "Scan"},
        files={"file": ("scan.pdf", too_big, "application/pdf")},
    )
    assert refused.status_code == 413
    assert "No attachment." in (await officer.get(path)).text
