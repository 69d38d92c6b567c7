"""A national system built from the LIVE hub WSDL, pointed at our hub by changing only the address.

Real network: our hub under uvicorn on 127.0.0.1 (random port) with TLS and client certificates,
zeep (over requests) with each NPPO's client certificate, PostgreSQL behind. zeep loads the live
WSDL file as a national system ships it and gets its service address replaced, nothing else.
"""

import asyncio
import base64
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep import Plugin
from zeep.transports import Transport

from ephyto_core._pki import issue_server_certificate
from hub.app import create_app
from hub.database import unit_of_work
from hub.identity.server import run_in_thread
from hub.identity.tls import make_uvicorn_config
from hub.runtime import build_runtime
from hub.settings import HubSettings
from hub.soap.endpoints import SOAP_PATH
from tests.conftest import REPO_ROOT
from tests.hub import conftest as hub_fixtures
from tests.hub.rest.payloads import certificate_xml

pytestmark = pytest.mark.slow

BINDING = "{http://ephyto.ippc.int/}DeliveryServiceSoapBinding"


async def _register(settings: HubSettings, pki: hub_fixtures.TestPki) -> None:
    runtime = build_runtime(settings)
    try:
        async with unit_of_work(runtime.sessionmaker) as session:
            for code in ("AA", "BB"):
                await runtime.nppos.register(session, code=code, name=f"NPPO {code}")
                await runtime.nppos.add_client_certificate(
                    session, code=code, certificate=pki.clients[code].cert_pem()
                )
    finally:
        await runtime.close()


@pytest.fixture
def hub_address(
    postgres_database_url: str, tmp_path: Path, test_pki: hub_fixtures.TestPki
) -> Iterator[str]:
    # No trusted proxies: the client certificate can only come from the TLS handshake.
    settings = HubSettings(database_url=postgres_database_url, data_dir=tmp_path)
    asyncio.run(_register(settings, test_pki))
    directory = tmp_path / "tls"
    directory.mkdir()
    server = issue_server_certificate(test_pki.ca).save(directory, "hub")
    # The server's own runtime: its engine is created and disposed in the server's event loop.
    app = create_app(runtime=build_runtime(settings))
    config = make_uvicorn_config(
        app,
        host="127.0.0.1",
        port=0,
        cert=server.cert_path,
        key=server.key_path,
        ca_bundle=test_pki.ca.cert_path,
        log_config=None,
    )
    with run_in_thread(config) as base_url:
        yield base_url + SOAP_PATH


NationalSystem = Callable[..., zeep.proxy.ServiceProxy]


@pytest.fixture
def national_system(
    hub_address: str, conformance_dir: Path, test_pki: hub_fixtures.TestPki
) -> Iterator[NationalSystem]:
    """`national_system("AA")`: the live-WSDL client with AA's client certificate, its service
    address changed to our hub's. `None` connects without a client certificate; `wsdl=` builds
    the client from another WSDL."""
    sessions: list[requests.Session] = []

    def connect(
        code: str | None, *, wsdl: str | None = None, plugins: list[Plugin] | None = None
    ) -> zeep.proxy.ServiceProxy:
        session = requests.Session()
        sessions.append(session)
        # Trust exactly the test CA: REQUESTS_CA_BUNDLE and proxy variables would override it.
        session.trust_env = False
        session.verify = str(test_pki.ca.cert_path)
        # One connection per call: uvicorn's graceful shutdown waits for open keep-alive
        # connections, and a response kept alive by a test's traceback would hold one open.
        session.headers["Connection"] = "close"
        if code is not None:
            client_certificate = test_pki.clients[code]
            session.cert = (str(client_certificate.cert_path), str(client_certificate.key_path))
        client = zeep.Client(
            wsdl or str(conformance_dir / "hub-wsdl-2024" / "ephyto-prod.wsdl"),
            transport=Transport(session=session, timeout=10, operation_timeout=30),
            plugins=plugins or [],
        )
        return client.create_service(BINDING, hub_address)

    yield connect
    for session in sessions:
        session.close()


def test_live_wsdl_client_exchanges_a_certificate_with_our_hub(
    national_system: NationalSystem,
) -> None:
    aa, bb = national_system("AA"), national_system("BB")
    xml = certificate_xml("AA-2026-0100")

    sent = aa.DeliverEnvelope(
        env={
            "From": "AA",
            "To": "BB",
            "CertificateType": 851,
            "CertificateStatus": 70,
            "NPPOCertificateNumber": "AA-2026-0100",
            "Content": xml,
        }
    )
    assert sent.HUBTrackingInfo == "PendingDelivery", sent.hubDeliveryErrorMessage

    (waiting,) = bb.GetImportEnvelopeHeaders()
    assert waiting.hubDeliveryNumber == sent.hubDeliveryNumber
    assert bb.PULLSingleImportEnvelope(hubTrackingNumber=sent.hubDeliveryNumber).Content == xml
    bb.AcknowledgeEnvelopeReceipt(hubTrackingNumber=sent.hubDeliveryNumber)
    tracked = aa.GetEnvelopeTrackingInfo(hubTrackingNumber=sent.hubDeliveryNumber)
    assert tracked.HUBTrackingInfo == "Delivered"
    assert aa.GetProfile().Country == "AA"
    assert len(aa.GetStatements()) > 0


def test_live_wsdl_client_gets_hub_web_exception_faults(national_system: NationalSystem) -> None:
    anonymous = national_system(None)
    with pytest.raises(zeep.exceptions.Fault) as raised:
        anonymous.GetProfile()
    assert raised.value.code == "soap:Client"
    assert "no client certificate presented" in raised.value.message

    bb = national_system("BB")
    with pytest.raises(zeep.exceptions.Fault) as raised:
        bb.PULLSingleImportEnvelope(hubTrackingNumber="no-such-number")
    assert raised.value.code == "soap:Client"
    assert "no envelope no-such-number" in raised.value.message


def test_client_generated_from_our_served_wsdl_works(
    hub_address: str, national_system: NationalSystem
) -> None:
    # Fetched over HTTPS with the client certificate, as a national system would fetch it.
    ours = national_system("AA", wsdl=f"{hub_address}?wsdl")
    assert len(ours._binding._operations) == 27
    assert ours.GetProfile().Country == "AA"
    assert ours.GetImportEnvelopeHeaders() is None


class _ContentAsCdata(Plugin):
    """Sends envelope `Content` in a CDATA section, as some national systems do."""

    def egress(
        self,
        envelope: etree._Element,
        http_headers: dict[str, str],
        operation: object,
        binding_options: object,
    ) -> tuple[etree._Element, dict[str, str]]:
        for content in envelope.iter("{http://ephyto.ippc.int/HUB.Entities}Content"):
            content.text = etree.CDATA(content.text or "")
        return envelope, http_headers


def _header(number: str, **extra: object) -> dict[str, object]:
    return {
        "From": "AA",
        "To": "BB",
        "CertificateType": 851,
        "CertificateStatus": 70,
        "NPPOCertificateNumber": number,
        **extra,
    }


def test_live_wsdl_client_runs_the_whole_exchange(
    national_system: NationalSystem, conformance_dir: Path, test_pki: hub_fixtures.TestPki
) -> None:
    """Every way of sending, both ways of pulling, all three acknowledgements, tracking,
    the sender's unfinished list, a country response and validation - over real mTLS."""
    aa, bb = national_system("AA"), national_system("BB")

    as_string = aa.DeliverEnvelope(env={**_header("AA-STR"), "Content": certificate_xml("AA-STR")})
    as_base64 = aa.DeliverEnvelope(
        env={
            **_header("AA-B64"),
            "Content": base64.b64encode(certificate_xml("AA-B64").encode()).decode(),
        }
    )
    validated = aa.ValidateAndDeliverEnvelope(
        envelope={**_header("AA-VAL"), "Content": certificate_xml("AA-VAL")}
    )
    cdata_client = national_system("AA", plugins=[_ContentAsCdata()])
    as_cdata = cdata_client.DeliverEnvelope(
        env={**_header("AA-CDATA"), "Content": certificate_xml("AA-CDATA")}
    )
    certificate_type = aa._client.get_element(
        "{urn:un:unece:uncefact:data:standard:SPSCertificate:17}SPSCertificate"
    )
    embedded = certificate_type.parse(
        etree.fromstring(certificate_xml("AA-PHYTO").encode()), aa._client.wsdl.types
    )
    as_element = aa.DeliverPhytoEnvelope(
        ePhytoEnvelope={**_header("AA-PHYTO"), "SPSCertificate": embedded}
    )
    sent = [as_string, as_base64, validated, as_cdata, as_element]
    for header in sent:
        assert header.HUBTrackingInfo == "PendingDelivery", header.hubDeliveryErrorMessage
    numbers = {h.hubDeliveryNumber for h in sent}
    assert len(numbers) == 5

    assert {h.hubDeliveryNumber for h in aa.GetUnderDeliveryEnvelope()} == numbers
    assert {h.hubDeliveryNumber for h in bb.GetImportEnvelopeHeaders()} == numbers
    assert {h.hubDeliveryNumber for h in bb.GetImportEnvelopeHeaders(countryCode="BB")} == numbers
    single = bb.PULLSingleImportEnvelope(hubTrackingNumber=as_base64.hubDeliveryNumber)
    assert single.Content == certificate_xml("AA-B64")  # base64 in, the certificate out
    everything = bb.PULLImportEnvelope()
    assert {e.hubDeliveryNumber for e in everything} == numbers
    pulled_cdata = next(e for e in everything if e.hubDeliveryNumber == as_cdata.hubDeliveryNumber)
    assert pulled_cdata.Content == certificate_xml("AA-CDATA")

    bb.AcknowledgeEnvelopeReceipt(hubTrackingNumber=as_string.hubDeliveryNumber)
    assert (
        bb.AdvancedAcknowledgeEnvelopeReceipt(
            hubTrackingNumber=as_base64.hubDeliveryNumber, warningMessage="seal number unreadable"
        )
        == "DeliveredWithWarnings"
    )
    assert (
        bb.AcknowledgeFailedEnvelopeReceipt(
            hubTrackingNumber=as_cdata.hubDeliveryNumber, message="could not read the consignee"
        )
        == "DeliveredNotReadable"
    )
    states = {n: aa.GetEnvelopeTrackingInfo(hubTrackingNumber=n) for n in numbers}
    assert states[as_string.hubDeliveryNumber].HUBTrackingInfo == "Delivered"
    warned = states[as_base64.hubDeliveryNumber]
    assert (warned.HUBTrackingInfo, warned.hubDeliveryErrorMessage) == (
        "DeliveredWithWarnings",
        "seal number unreadable",
    )
    assert states[as_cdata.hubDeliveryNumber].HUBTrackingInfo == "DeliveredNotReadable"
    assert states[validated.hubDeliveryNumber].HUBTrackingInfo == "PendingDelivery"
    assert (
        aa.GetEnvelopeTrackingInfo(hubTrackingNumber="unknown").HUBTrackingInfo
        == "EnvelopeNotExists"
    )
    assert {h.hubDeliveryNumber for h in aa.GetUnderDeliveryEnvelope()} == {
        validated.hubDeliveryNumber,
        as_element.hubDeliveryNumber,
    }

    acknowledgement = aa._client.get_element(
        "{urn:un:unece:uncefact:data:standard:SPSAcknowledgement:17}SPSAcknowledgement"
    ).parse(
        etree.parse(
            str(REPO_ROOT / "tests/core/data/acknowledgements/acknowledgement.xml")
        ).getroot(),
        aa._client.wsdl.types,
    )
    response = bb.DeliverCountryResponseEnvelope(
        CountryResponseEnvelope={
            **_header("AA-STR", From="BB", To="AA"),
            "SPSAcknowledgement": acknowledgement,
        }
    )
    assert response.HUBTrackingInfo == "PendingDelivery", response.hubDeliveryErrorMessage
    assert [h.hubDeliveryNumber for h in aa.GetImportEnvelopeHeaders()] == [
        response.hubDeliveryNumber
    ]

    findings = aa.ValidatePhytoXML(
        ePhytoXML=certificate_xml("AA-STR").replace("ScientificName", "Botany")
    )
    assert any(f.area == "Schema" and f.level == "SEVERE" for f in findings)
    assert aa.ValidatePhytoXML(ePhytoXML=certificate_xml("AA-STR")) in (None, [])
