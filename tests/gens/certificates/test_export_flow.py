"""An export certificate from the first form to the importer's box, as the people involved do it."""

import base64

from lxml import etree

from ephyto_core.certificate import read_certificate
from tests.gens.conftest import BrowserFactory, TenantUsers
from tests.gens.forms import act, create_certificate, fill_certificate, state_of

RSM = "urn:un:unece:uncefact:data:standard:SPSCertificate:17"


async def test_applicant_enters_inspector_approves_officer_issues_and_sends_to_the_importer(
    browser: BrowserFactory, tenants: dict[str, TenantUsers], hub_as
) -> None:
    applicant = await browser("ke-applicant")
    path = await create_certificate(applicant)
    await fill_certificate(applicant, path)
    submitted = await act(applicant, path, "submit")
    assert submitted.status_code == 303, submitted.text[:3000]

    inspector = await browser("ke-inspector")
    assert (await act(inspector, path, "approve")).status_code == 303

    officer = await browser("ke-officer")
    issued = await act(officer, path, "issue")
    assert issued.status_code == 303, issued.text[:5000]
    page = (await officer.get(path)).text
    assert state_of(page) == "Issued"
    xml = (await officer.get(f"{path}/content.xml")).content
    cert = read_certificate(xml)
    number = cert.document.certificate_number
    assert number.startswith("KE-") and cert.document.type_code == 851
    assert cert.consignment.import_country is not None
    assert cert.consignment.import_country.id == "NL"
    [line] = cert.consignment.trade_line_items
    assert line.scientific_names[0].value == "Persea americana"
    assert str(line.net_weight.value) == "12500.5" if line.net_weight else False
    assert cert.document.signatory is not None
    assert cert.document.signatory.person_name == "Officer of KE"

    sent = await act(officer, path, "send")
    assert sent.status_code == 303, sent.text[:3000]
    assert state_of((await officer.get(path)).text) == "Sent"

    # The importing NPPO finds it in its box on the hub, byte for byte what GeNS issued.
    netherlands = hub_as("NL")
    box = (await netherlands.get("/boxes/mine/envelopes")).json()
    [header] = box
    assert header["from"] == "KE" and header["nppo_certificate_number"] == number
    pulled = (await netherlands.get(f"/envelopes/{header['hub_delivery_number']}")).json()
    received = (
        base64.b64decode(pulled["content"])
        if pulled["content_encoding"] == "base64"
        else pulled["content"].encode()
    )
    assert etree.fromstring(received).tag == f"{{{RSM}}}SPSCertificate"
    assert received == xml

    # It acknowledges; GeNS learns it on the next check.
    ack = await netherlands.post(
        f"/envelopes/{header['hub_delivery_number']}/acknowledgement", json={"kind": "ok"}
    )
    assert ack.status_code == 200, ack.text
    assert (await act(applicant, path, "refresh")).status_code == 303
    page = (await applicant.get(path)).text
    assert state_of(page) == "Delivered"
    for step in ("created", "submit", "approve", "issue", "send", "refresh"):
        assert f"<td>{step}" in page, step
