"""The rest of a certificate's life: correction, refusals, replacement, withdrawal."""

import re
from pathlib import Path

import httpx
from sqlalchemy import select

from generic_national_system.app import create_app
from generic_national_system.certificates.models import ExportCertificate
from generic_national_system.database import unit_of_work
from generic_national_system.runtime import GensRuntime, build_runtime
from hub.database import unit_of_work as hub_unit_of_work
from hub.runtime import HubRuntime
from tests.gens.conftest import Browser, BrowserFactory, TenantUsers, gens_settings
from tests.gens.forms import (
    act,
    create_certificate,
    declarations,
    error_at,
    fill_certificate,
    route,
    state_of,
)


async def issued_certificate(browser: BrowserFactory, **sections: dict[str, str]) -> str:
    applicant = await browser("ke-applicant")
    path = await create_certificate(applicant)
    await fill_certificate(applicant, path, **sections)
    assert (await act(applicant, path, "submit")).status_code == 303
    officer = await browser("ke-officer")
    assert (await act(officer, path, "approve")).status_code == 303
    issued = await act(officer, path, "issue")
    assert issued.status_code == 303, issued.text[:3000]
    return path


async def test_returned_for_correction_the_applicant_edits_and_submits_again(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    applicant = await browser("ke-applicant")
    path = await create_certificate(applicant)
    await fill_certificate(applicant, path)
    assert (await act(applicant, path, "submit")).status_code == 303
    inspector = await browser("ke-inspector")

    no_reason = await act(inspector, path, "return", comment="  ")
    assert no_reason.status_code == 422
    assert error_at(no_reason.text, "comment-return") == "This field is required."

    assert (await act(inspector, path, "return", comment="Seal number is wrong")).status_code == 303
    page = (await applicant.get(path)).text
    assert state_of(page) == "Returned for correction"
    assert "Seal number is wrong" in page
    fixed = await applicant.submit(f"{path}/sections/route", route(seal_id="SL999999"))
    assert fixed.status_code == 303
    assert (await act(applicant, path, "submit")).status_code == 303
    assert state_of((await inspector.get(path)).text) == "Submitted"


async def test_an_incomplete_certificate_cannot_be_submitted(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    applicant = await browser("ke-applicant")
    path = await create_certificate(applicant)
    refused = await act(applicant, path, "submit")
    assert refused.status_code == 422
    assert "Complete the section “Exporter and consignee”." in refused.text
    assert "Add at least one commodity." in refused.text
    assert state_of(refused.text) == "Draft"


async def test_issue_is_refused_with_the_findings_when_the_checks_find_a_severe_problem(
    browser: BrowserFactory, tenants: dict[str, TenantUsers], gens_runtime: GensRuntime
) -> None:
    applicant = await browser("ke-applicant")
    path = await create_certificate(applicant)
    await fill_certificate(applicant, path)
    assert (await act(applicant, path, "submit")).status_code == 303
    officer = await browser("ke-officer")
    assert (await act(officer, path, "approve")).status_code == 303
    # A code that was valid when entered and no longer is (a list refreshed in between).
    async with unit_of_work(gens_runtime.sessionmaker) as session:
        cert = await session.scalar(select(ExportCertificate))
        assert cert is not None
        data = dict(cert.data)
        data["sections"] = {**data["sections"], "route": {**data["sections"]["route"]}}
        data["sections"]["route"]["import_country"] = "XX"
        cert.data = data

    refused = await act(officer, path, "issue")

    assert refused.status_code == 422
    assert "The certificate cannot be issued" in refused.text
    assert "SEVERE – &#39;XX&#39; is not a known importing country code" in refused.text
    page = (await officer.get(path)).text
    assert state_of(page) == "Approved"
    assert "issue_refused" in page  # in the history
    assert (await officer.get(f"{path}/content.xml")).status_code == 404


async def test_a_delivery_the_hub_refuses_marks_the_certificate_failed_with_the_reason(
    browser: BrowserFactory, tenants: dict[str, TenantUsers], hub_runtime: HubRuntime
) -> None:
    path = await issued_certificate(browser, route=route(import_country="NL"))
    officer = await browser("ke-officer")
    assert "NL" in (await officer.get(path)).text  # offered: NL is on the hub's directory
    # Meanwhile the hub stops accepting phytosanitary certificates for NL.
    async with hub_unit_of_work(hub_runtime.sessionmaker) as session:
        await hub_runtime.nppos.set_allowed_document(
            session, code="NL", certificate_type=851, certificate_status=70, active=False
        )
    sent = await act(officer, path, "send")
    assert sent.status_code == 303
    page = (await officer.get(path)).text
    assert state_of(page) == "Delivery failed"
    message = re.search(r"Message from the hub: ([^<]+)", page)
    assert message and "NL" in message.group(1), page[:3000]


async def replace(officer: Browser, path: str) -> str:
    started = await act(officer, path, "replace")
    assert started.status_code == 303
    new_path: str = started.headers["location"]
    assert new_path != path
    return new_path


async def test_a_replacement_is_linked_and_replaces_the_original_once_issued(
    browser: BrowserFactory, tenants: dict[str, TenantUsers], hub_as
) -> None:
    path = await issued_certificate(browser)
    officer = await browser("ke-officer")
    assert (await act(officer, path, "send")).status_code == 303
    new_path = await replace(officer, path)
    old_number = (await officer.get(path)).text.split("<h1>")[1].split(" ")[0]
    page = (await officer.get(new_path)).text
    assert state_of(page) == "Draft" and f"Replaces {old_number}" in page

    refused = await officer.submit(f"{new_path}/sections/declarations", declarations())
    assert error_at(refused.text, "replacement_reason") == "This field is required."
    saved = await officer.submit(
        f"{new_path}/sections/declarations",
        declarations(replacement_reason="Consignee address corrected"),
    )
    assert saved.status_code == 303
    assert state_of((await officer.get(path)).text) == "Sent"  # not yet replaced
    for action in ("submit", "approve", "issue", "send"):
        done = await act(officer, new_path, action)
        assert done.status_code == 303, (action, done.text[:3000])

    assert state_of((await officer.get(path)).text) == "Replaced"
    xml = (await officer.get(f"{new_path}/content.xml")).text
    assert "ADRPN" in xml and old_number in xml and "Consignee address corrected" in xml
    box = (await hub_as("NL").get("/boxes/mine/envelopes")).json()
    assert len(box) == 2  # the original and its replacement


async def test_withdrawing_a_sent_certificate_tells_the_importer_through_the_hub(
    browser: BrowserFactory, tenants: dict[str, TenantUsers], hub_as
) -> None:
    path = await issued_certificate(browser)
    officer = await browser("ke-officer")
    assert (await act(officer, path, "send")).status_code == 303
    withdrawn = await act(officer, path, "withdraw", comment="Consignment not shipped")
    assert withdrawn.status_code == 303, withdrawn.text[:3000]
    assert state_of((await officer.get(path)).text) == "Withdrawn"
    box = (await hub_as("NL").get("/boxes/mine/envelopes")).json()
    assert sorted(h["certificate_status"] for h in box) == [40, 70]


async def test_a_certificate_issued_but_not_sent_is_withdrawn_locally(
    browser: BrowserFactory, tenants: dict[str, TenantUsers], hub_as
) -> None:
    path = await issued_certificate(browser)
    officer = await browser("ke-officer")
    assert (await act(officer, path, "withdraw", comment="Mistake")).status_code == 303
    assert state_of((await officer.get(path)).text) == "Withdrawn"
    assert (await hub_as("NL").get("/boxes/mine/envelopes")).json() == []


async def test_when_the_hub_cannot_be_reached_sending_changes_nothing_and_says_so(
    browser: BrowserFactory,
    tenants: dict[str, TenantUsers],
    gens_database_url: str,
    tmp_path: Path,
) -> None:
    path = await issued_certificate(browser)
    officer = await browser("ke-officer")
    # The same GeNS (same database, so the same sign-in), configured with a hub nobody answers.
    offline = build_runtime(
        gens_settings(gens_database_url, tmp_path / "offline", hub_url="http://127.0.0.1:9/api")
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(runtime=offline)),
        base_url="http://gens.test",
        cookies=officer.client.cookies,
    ) as client:
        response = await act(Browser(client), path, "send")
    await offline.close()

    assert response.status_code == 502
    assert "cannot be reached just now" in response.text
    assert state_of((await officer.get(path)).text) == "Issued"
