"""The SOAP face of the real hub (real services, PostgreSQL and SQLite), called the way a national
system generated from the live WSDL calls it. HTTP runs in-process (httpx ASGITransport); the
client certificate travels in the trusted-proxy header, as in the REST tests."""

import base64
from collections.abc import AsyncIterator, Callable
from urllib.parse import quote

import httpx
import pytest
import zeep
import zeep.exceptions
from fastapi import FastAPI
from lxml import etree
from sqlalchemy import func, select

from ephyto_core._namespaces import RAM, RSM
from hub.app import create_app
from hub.database import Base
from hub.identity.domain import AuthenticatedNppo
from hub.runtime import HubRuntime
from hub.soap.endpoints import SOAP_PATH
from tests.hub import conftest as hub_fixtures
from tests.hub.rest.payloads import acknowledgement_xml, certificate_xml
from tests.hub.soap.livewsdl import hub_web_exception, request_from, zeep_reads
from tests.hub.soap.soapxml import NS, header_xml, soap_request

Caller = Callable[..., "SoapCaller"]


class SoapCaller:
    """One NPPO's national system: builds requests with the live-WSDL client, posts them."""

    def __init__(self, http: httpx.AsyncClient, client: zeep.Client) -> None:
        self.http = http
        self.client = client

    async def post(self, body: bytes) -> httpx.Response:
        # SOAPAction "" as many clients send it: the operation comes from the Body.
        return await self.http.post(
            SOAP_PATH,
            content=body,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        )

    async def call(self, operation: str, **arguments: object) -> object:
        response = await self.post(request_from(self.client, operation, **arguments))
        return zeep_reads(self.client, operation, response.content, status=response.status_code)

    async def fault(self, operation: str, **arguments: object) -> zeep.exceptions.Fault:
        with pytest.raises(zeep.exceptions.Fault) as raised:
            await self.call(operation, **arguments)
        return raised.value


@pytest.fixture
def app(runtime: HubRuntime) -> FastAPI:
    return create_app(runtime=runtime)


@pytest.fixture
async def nppo(
    app: FastAPI,
    live_client: zeep.Client,
    test_pki: hub_fixtures.TestPki,
    nppos: dict[str, AuthenticatedNppo],
) -> AsyncIterator[Caller]:
    opened: list[httpx.AsyncClient] = []

    def caller(code: str | None) -> SoapCaller:
        headers = {}
        if code is not None:
            pem = test_pki.clients[code].cert_pem().decode("ascii")
            headers["X-Client-Cert"] = quote(pem)
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub.test", headers=headers
        )
        opened.append(http)
        return SoapCaller(http, live_client)

    yield caller
    for http in opened:
        await http.aclose()


def envelope_args(number: str, *, to: str = "BB", content: str | None = None) -> dict[str, object]:
    return {
        "From": "AA",
        "To": to,
        "CertificateType": 851,
        "CertificateStatus": 70,
        "NPPOCertificateNumber": number,
        "Content": certificate_xml(number) if content is None else content,
    }


async def count_rows(runtime: HubRuntime) -> dict[str, int]:
    async with runtime.sessionmaker() as session:
        return {
            table.name: (
                await session.execute(select(func.count()).select_from(table))
            ).scalar_one()
            for table in Base.metadata.sorted_tables
        }


async def test_full_exchange_over_soap(nppo: Caller) -> None:
    aa, bb = nppo("AA"), nppo("BB")
    xml = certificate_xml("AA-2026-0001")

    sent = await aa.call("DeliverEnvelope", env=envelope_args("AA-2026-0001", content=xml))
    assert sent.HUBTrackingInfo == "PendingDelivery"
    number = sent.hubDeliveryNumber

    waiting = await bb.call("GetImportEnvelopeHeaders")
    assert [h.hubDeliveryNumber for h in waiting] == [number]
    pulled = await bb.call("PULLSingleImportEnvelope", hubTrackingNumber=number)
    assert pulled.Content == xml
    assert (await aa.call("GetEnvelopeTrackingInfo", hubTrackingNumber=number)).HUBTrackingInfo == (
        "PendingDelivery"
    )
    assert [h.hubDeliveryNumber for h in await aa.call("GetUnderDeliveryEnvelope")] == [number]

    assert await bb.call("AcknowledgeEnvelopeReceipt", hubTrackingNumber=number) is None

    tracked = await aa.call("GetEnvelopeTrackingInfo", hubTrackingNumber=number)
    assert tracked.HUBTrackingInfo == "Delivered"
    assert await bb.call("GetImportEnvelopeHeaders") is None  # nothing waits any more
    assert await aa.call("GetUnderDeliveryEnvelope") is None


async def test_acknowledgements_with_warnings_and_failure_return_the_new_state(
    nppo: Caller,
) -> None:
    aa, bb = nppo("AA"), nppo("BB")
    first = await aa.call("DeliverEnvelope", env=envelope_args("AA-2026-0002"))
    second = await aa.call("DeliverEnvelope", env=envelope_args("AA-2026-0003"))

    warned = await bb.call(
        "AdvancedAcknowledgeEnvelopeReceipt",
        hubTrackingNumber=first.hubDeliveryNumber,
        warningMessage="treatment date missing",
    )
    failed = await bb.call(
        "AcknowledgeFailedEnvelopeReceipt",
        hubTrackingNumber=second.hubDeliveryNumber,
        message="cannot parse",
    )

    assert (warned, failed) == ("DeliveredWithWarnings", "DeliveredNotReadable")
    tracked = await aa.call("GetEnvelopeTrackingInfo", hubTrackingNumber=first.hubDeliveryNumber)
    assert tracked.hubDeliveryErrorMessage == "treatment date missing"


async def test_base64_content_is_accepted_and_pulled_as_xml(nppo: Caller) -> None:
    xml = certificate_xml("AA-2026-0004")
    encoded = base64.encodebytes(xml.encode()).decode()
    sent = await nppo("AA").call(
        "DeliverEnvelope", env=envelope_args("AA-2026-0004", content=encoded)
    )
    pulled = await nppo("BB").call("PULLImportEnvelope")
    assert [(e.hubDeliveryNumber, e.Content) for e in pulled] == [(sent.hubDeliveryNumber, xml)]


async def test_embedded_certificate_is_delivered_with_its_namespaces(nppo: Caller) -> None:
    # The certificate's prefixes are declared on the SOAP Envelope only, as toolkits often do.
    certificate = etree.fromstring(certificate_xml("AA-2026-0005").encode())
    body = etree.tostring(certificate).decode()
    for prefix, uri in certificate.nsmap.items():
        body = body.replace(f' xmlns:{prefix}="{uri}"', "")
    missing = {p: u for p, u in certificate.nsmap.items() if p and p not in NS}
    assert all(NS[p] == u for p, u in certificate.nsmap.items() if p in NS)
    declarations = " ".join(f'xmlns:{p}="{u}"' for p, u in missing.items())
    request = soap_request(
        f"<hub:DeliverPhytoEnvelope><hub:ePhytoEnvelope>{header_xml(number='AA-2026-0005')}"
        f"{body}</hub:ePhytoEnvelope></hub:DeliverPhytoEnvelope>"
    ).replace(b"<soap:Envelope ", f"<soap:Envelope {declarations} ".encode(), 1)
    aa = nppo("AA")

    response = await aa.post(request)
    sent = zeep_reads(
        aa.client, "DeliverPhytoEnvelope", response.content, status=response.status_code
    )

    assert sent.HUBTrackingInfo == "PendingDelivery", sent.hubDeliveryErrorMessage
    pulled = await nppo("BB").call(
        "PULLSingleImportEnvelope", hubTrackingNumber=sent.hubDeliveryNumber
    )
    stored = etree.fromstring(pulled.Content.encode())
    assert stored.tag == f"{{{RSM}}}SPSCertificate"
    assert stored.findtext(f"{{{RSM}}}SPSExchangedDocument/{{{RAM}}}ID") == "AA-2026-0005"


async def test_country_response_travels_back_to_the_exporter(nppo: Caller) -> None:
    aa, bb = nppo("AA"), nppo("BB")
    await aa.call("DeliverEnvelope", env=envelope_args("AA-2026-0006"))
    acknowledgement = etree.fromstring(acknowledgement_xml().encode())
    body = etree.tostring(acknowledgement).decode()
    request = soap_request(
        "<hub:DeliverCountryResponseEnvelope><hub:CountryResponseEnvelope>"
        f"{header_xml(sender='BB', to='AA', number='AA-2026-0006')}{body}"
        "</hub:CountryResponseEnvelope></hub:DeliverCountryResponseEnvelope>"
    )

    response = await bb.post(request)
    answered = zeep_reads(
        bb.client, "DeliverCountryResponseEnvelope", response.content, status=response.status_code
    )

    assert answered.HUBTrackingInfo == "PendingDelivery", answered.hubDeliveryErrorMessage
    (waiting,) = await aa.call("GetImportEnvelopeHeaders")
    assert waiting.hubDeliveryNumber == answered.hubDeliveryNumber


async def test_refused_delivery_answers_failed_delivery_and_stores_nothing(
    nppo: Caller, runtime: HubRuntime
) -> None:
    before = await count_rows(runtime)
    refused = await nppo("AA").call("DeliverEnvelope", env=envelope_args("AA-2026-0007", to="ZZ"))
    assert refused.HUBTrackingInfo == "FailedDelivery"
    assert refused.hubDeliveryNumber is None
    assert "ZZ" in refused.hubDeliveryErrorMessage
    assert await count_rows(runtime) == before


async def test_validate_and_deliver_refuses_severe_content_in_the_header(
    nppo: Caller, runtime: HubRuntime
) -> None:
    broken = certificate_xml("AA-2026-0008").replace("<ram:TypeCode>851</ram:TypeCode>", "", 1)
    before = await count_rows(runtime)
    refused = await nppo("AA").call(
        "ValidateAndDeliverEnvelope", envelope=envelope_args("AA-2026-0008", content=broken)
    )
    assert refused.HUBTrackingInfo == "FailedDelivery"
    assert "SEVERE" in refused.hubDeliveryErrorMessage
    assert await count_rows(runtime) == before


async def test_validate_phyto_xml_reports_findings_with_area_level_field(nppo: Caller) -> None:
    aa = nppo("AA")
    assert await aa.call("ValidatePhytoXML", ePhytoXML=certificate_xml("AA-2026-0009")) in (
        None,
        [],
    )
    broken = certificate_xml("AA-2026-0009").replace("<ram:TypeCode>851</ram:TypeCode>", "", 1)
    findings = await aa.call("ValidatePhytoXML", ePhytoXML=broken)
    assert any(f.level == "SEVERE" and f.area and f.field and f.msg for f in findings)


async def test_registry_and_code_lists_answer(nppo: Caller) -> None:
    aa = nppo("AA")
    profile = await aa.call("GetProfile")
    assert (profile.Country, profile.Send, profile.Receive) == ("AA", "true", "true")
    assert {n.Country for n in await aa.call("GetActiveNppos")} >= {"AA", "BB", "CC"}
    assert [c.Code for c in await aa.call("GetAvailableChannels")] == ["XCH"]
    statements = await aa.call("GetStatements")
    assert {s.lang for s in statements} >= {"en", "es", "fr"}


# ------------------------------------------------------------------------------- faults


async def test_sending_as_another_nppo_is_a_client_fault(nppo: Caller) -> None:
    arguments = envelope_args("AA-2026-0010")
    arguments["From"] = "CC"
    aa = nppo("AA")
    fault = await aa.fault("DeliverEnvelope", env=arguments)
    assert fault.code == "soap:Client"
    assert "From" in hub_web_exception(aa.client, fault).message


async def test_no_client_certificate_is_a_client_fault(nppo: Caller) -> None:
    anonymous = nppo(None)
    fault = await anonymous.fault("GetProfile")
    assert fault.code == "soap:Client"
    assert "client certificate" in fault.message


async def test_reading_another_nppos_box_is_refused(nppo: Caller) -> None:
    sent = await nppo("AA").call("DeliverEnvelope", env=envelope_args("AA-2026-0011"))
    fault = await nppo("CC").fault(
        "PULLSingleImportEnvelope", hubTrackingNumber=sent.hubDeliveryNumber
    )
    assert fault.code == "soap:Client"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<soap:Envelope", "not well-formed"),
        (b"", "empty"),
        (soap_request("<hub:GetProfile/><hub:GetProfile/>"), "exactly one operation element"),
        (soap_request("<hub:NoSuchOperation/>"), "not an operation of IDeliveryService"),
    ],
)
async def test_broken_requests_are_client_faults_with_http_500(
    nppo: Caller, body: bytes, reason: str
) -> None:
    response = await nppo("AA").post(body)
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    fault = etree.fromstring(response.content).find("soap:Body/soap:Fault", NS)
    assert fault is not None
    assert fault.findtext("faultcode") == "soap:Client"
    assert reason in (fault.findtext("detail/hub:HubWebException/hub:message", namespaces=NS) or "")


async def test_unexpected_error_is_a_generic_server_fault(
    nppo: Caller, runtime: HubRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("password=hunter2 in the traceback")

    monkeypatch.setattr(runtime.envelopes, "under_delivery", broken)
    aa = nppo("AA")
    response = await aa.post(request_from(aa.client, "GetUnderDeliveryEnvelope"))
    assert response.status_code == 500
    assert b"hunter2" not in response.content
    fault = etree.fromstring(response.content).find("soap:Body/soap:Fault", NS)
    assert fault is not None and fault.findtext("faultcode") == "soap:Server"


async def test_oversized_request_is_refused_before_it_is_read(
    nppo: Caller, runtime: HubRuntime
) -> None:
    response = await nppo("AA").post(b" " * (runtime.settings.max_request_bytes + 1))
    assert response.status_code == 500
    assert b"accepts at most" in response.content


# ------------------------------------------------------------------------------- the WSDL


@pytest.mark.parametrize("query", ["wsdl", "WSDL"])
async def test_wsdl_is_served_with_the_public_address(
    nppo: Caller, runtime: HubRuntime, query: str
) -> None:
    response = await nppo(None).http.get(f"{SOAP_PATH}?{query}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    wsdl = etree.fromstring(response.content)
    (address,) = wsdl.xpath(
        "//soap:address/@location", namespaces={"soap": "http://schemas.xmlsoap.org/wsdl/soap/"}
    )
    assert address == runtime.settings.public_url + SOAP_PATH
