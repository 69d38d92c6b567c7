"""The 27 operations against a client generated from the LIVE hub WSDL (zeep), no network.

zeep builds each request exactly as it would send it to the real hub; our dispatcher reads it
and calls the (fake) service; our answer must be valid against the live hub's schema and read
back by the same zeep client. The fakes stand in for the services only; the real services are
exercised end to end in test_endpoints.py.
"""

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import zeep
import zeep.exceptions
from lxml import etree

from ephyto_core._codelists import CodeLists
from hub.envelopes.domain import TrackingState
from hub.errors import DeliveryRefused, NotFound
from hub.soap.codec import soap_envelope
from hub.soap.faults import SoapFault, fault_for, render_fault
from hub.soap.operations import CODE_LISTS, OPERATIONS, find_operation
from hub.soap.request import operation_element
from tests.hub.soap import livewsdl
from tests.hub.soap.fakes import CERTIFICATE, Fakes, header, make_fakes
from tests.hub.soap.livewsdl import hub_web_exception, zeep_reads
from tests.hub.soap.soapxml import NS, soap_request

HEADER = {
    "From": "AA",
    "To": "BB",
    "CertificateType": 851,
    "CertificateStatus": 70,
    "NPPOCertificateNumber": "AA-2025-0001",
}

#: Operation -> the arguments a national system passes through zeep.
ARGUMENTS: dict[str, dict[str, Any]] = {
    "DeliverEnvelope": {"env": {**HEADER, "Content": CERTIFICATE}},
    "ValidateAndDeliverEnvelope": {"envelope": {**HEADER, "Content": CERTIFICATE}},
    "DeliverPhytoEnvelope": {
        "ePhytoEnvelope": {
            **HEADER,
            "SPSCertificate": {
                "SPSExchangedDocument": {
                    "Name": "Phytosanitary certificate",
                    "ID": "AA-2025-0001",
                    "TypeCode": 851,
                    "StatusCode": 70,
                }
            },
        }
    },
    "DeliverCountryResponseEnvelope": {
        "CountryResponseEnvelope": {
            **HEADER,
            "SPSAcknowledgement": {"SPSAcknowledgementDocument": {"StatusCode": 39}},
        }
    },
    "GetImportEnvelopeHeaders": {"countryCode": "AA"},
    "PULLSingleImportEnvelope": {"hubTrackingNumber": "n-1"},
    "AcknowledgeEnvelopeReceipt": {"hubTrackingNumber": "n-1"},
    "AdvancedAcknowledgeEnvelopeReceipt": {"hubTrackingNumber": "n-1", "warningMessage": "odd"},
    "AcknowledgeFailedEnvelopeReceipt": {"hubTrackingNumber": "n-1", "message": "unreadable"},
    "GetEnvelopeTrackingInfo": {"hubTrackingNumber": "n-1"},
    "SetTrackingInfoUpdate": {
        "header": {**HEADER, "hubDeliveryNumber": "n-1", "HUBTrackingInfo": "Delivered"}
    },
    "ValidatePhytoXML": {"ePhytoXML": CERTIFICATE},
}


@pytest.fixture(scope="module")
def live_schema(conformance_dir: Path) -> etree.XMLSchema:
    return etree.XMLSchema(
        etree.parse(str(conformance_dir / "hub-xsd" / "hub-ephyto.ippc.int.xsd"))
    )


@pytest.fixture(scope="module")
def code_lists() -> CodeLists:
    return CodeLists.load()


@pytest.fixture
def fakes(code_lists: CodeLists) -> Fakes:
    return make_fakes(code_lists)


def request_from(client: zeep.Client, operation: str) -> bytes:
    return livewsdl.request_from(client, operation, **ARGUMENTS.get(operation, {}))


async def dispatch(request: bytes, fakes: Fakes) -> etree._Element:
    element = operation_element(request)
    return await find_operation(element).handle(fakes.context, element)


def live_operations(conformance_dir: Path) -> list[str]:
    wsdl = etree.parse(str(conformance_dir / "hub-wsdl-2024" / "ephyto-prod.wsdl"))
    return wsdl.xpath(
        "/wsdl:definitions/wsdl:portType/wsdl:operation/@name",
        namespaces={"wsdl": "http://schemas.xmlsoap.org/wsdl/"},
    )


def test_every_operation_of_the_live_port_type_has_a_handler(conformance_dir: Path) -> None:
    assert sorted(live_operations(conformance_dir)) == sorted(OPERATIONS)
    assert len(OPERATIONS) == 27


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
async def test_answer_to_a_live_wsdl_request_is_valid_against_the_live_schema(
    operation: str, live_client: zeep.Client, live_schema: etree.XMLSchema, fakes: Fakes
) -> None:
    response = await dispatch(request_from(live_client, operation), fakes)
    assert etree.QName(response).localname == f"{operation}Response"
    live_schema.assertValid(copy.deepcopy(response))
    zeep_reads(live_client, operation, soap_envelope(response))  # raises if zeep cannot read it


# ------------------------------------------------------------------------ requests reach services

ServiceCall = tuple[str, dict[str, Any]]
EXPECTED_CALLS: dict[str, Callable[[ServiceCall], None]] = {}


def expects(
    operation: str,
) -> Callable[[Callable[[ServiceCall], None]], Callable[[ServiceCall], None]]:
    def register(check: Callable[[ServiceCall], None]) -> Callable[[ServiceCall], None]:
        EXPECTED_CALLS[operation] = check
        return check

    return register


@expects("DeliverEnvelope")
def _deliver(call: ServiceCall) -> None:
    method, kw = call
    assert method == "deliver"
    assert kw["validate_first"] is False
    assert kw["content"] == CERTIFICATE
    assert kw["header"] == header(hub_delivery_number=None, tracking_info=None, forwardings=())


@expects("ValidateAndDeliverEnvelope")
def _validate_and_deliver(call: ServiceCall) -> None:
    method, kw = call
    assert (method, kw["validate_first"], kw["content"]) == ("deliver", True, CERTIFICATE)


@expects("DeliverPhytoEnvelope")
def _deliver_phyto(call: ServiceCall) -> None:
    method, kw = call
    assert (method, kw["validate_first"]) == ("deliver", False)
    certificate = etree.fromstring(kw["content"])
    assert certificate.findtext(".//ram:ID", namespaces=NS) == "AA-2025-0001"


@expects("DeliverCountryResponseEnvelope")
def _deliver_country_response(call: ServiceCall) -> None:
    method, kw = call
    assert method == "deliver_country_response"
    acknowledgement = etree.fromstring(kw["acknowledgement"])
    assert etree.QName(acknowledgement).localname == "SPSAcknowledgement"


@expects("GetImportEnvelopeHeaders")
def _waiting(call: ServiceCall) -> None:
    assert call == ("waiting_headers", {"caller": call[1]["caller"], "country_code": "AA"})


@expects("PULLSingleImportEnvelope")
def _pull_one(call: ServiceCall) -> None:
    assert (call[0], call[1]["delivery_number"]) == ("pull_one", "n-1")


@expects("AcknowledgeEnvelopeReceipt")
def _acknowledge(call: ServiceCall) -> None:
    assert (call[0], call[1]["delivery_number"]) == ("acknowledge", "n-1")


@expects("AdvancedAcknowledgeEnvelopeReceipt")
def _advanced(call: ServiceCall) -> None:
    assert (call[0], call[1]["delivery_number"], call[1]["warning"]) == (
        "acknowledge_with_warnings",
        "n-1",
        "odd",
    )


@expects("AcknowledgeFailedEnvelopeReceipt")
def _failed(call: ServiceCall) -> None:
    assert (call[0], call[1]["delivery_number"], call[1]["reason"]) == (
        "acknowledge_failed",
        "n-1",
        "unreadable",
    )


@expects("GetEnvelopeTrackingInfo")
def _tracking(call: ServiceCall) -> None:
    assert (call[0], call[1]["delivery_number"]) == ("tracking_info", "n-1")


@expects("SetTrackingInfoUpdate")
def _update(call: ServiceCall) -> None:
    method, kw = call
    assert method == "report_tracking_update"
    assert kw["header"].hub_delivery_number == "n-1"
    assert kw["header"].tracking_info is TrackingState.DELIVERED


@expects("ValidatePhytoXML")
def _validate(call: ServiceCall) -> None:
    assert call == ("validate_xml", {"xml": CERTIFICATE})


@pytest.mark.parametrize("operation", sorted(EXPECTED_CALLS))
async def test_live_wsdl_request_reaches_the_service_as_domain_values(
    operation: str, live_client: zeep.Client, fakes: Fakes
) -> None:
    await dispatch(request_from(live_client, operation), fakes)
    EXPECTED_CALLS[operation](fakes.envelopes.last)
    if operation != "ValidatePhytoXML":  # the one call that is not about the caller's envelopes
        assert fakes.envelopes.last[1]["caller"].code == "AA"


async def test_get_profile_asks_for_the_callers_own_profile(
    live_client: zeep.Client, fakes: Fakes
) -> None:
    await dispatch(request_from(live_client, "GetProfile"), fakes)
    assert fakes.nppos.last == ("profile", {"code": "AA"})


# ------------------------------------------------------------------------ zeep reads the answers


async def test_live_wsdl_client_reads_the_delivery_header(
    live_client: zeep.Client, fakes: Fakes
) -> None:
    response = await dispatch(request_from(live_client, "DeliverEnvelope"), fakes)
    result = zeep_reads(live_client, "DeliverEnvelope", soap_envelope(response))
    assert result.hubDeliveryNumber == "d0c0ffee-0000-4000-8000-000000000001"
    assert result.HUBTrackingInfo == "PendingDelivery"
    assert result.Forwardings.EnvelopeForwarding[0].HubDeliveryNumber == "copy-1"


async def test_live_wsdl_client_reads_pulled_content_as_the_certificate_text(
    live_client: zeep.Client, fakes: Fakes
) -> None:
    response = await dispatch(request_from(live_client, "PULLImportEnvelope"), fakes)
    result = zeep_reads(live_client, "PULLImportEnvelope", soap_envelope(response))
    # zeep unwraps ArrayOf* types into plain lists.
    assert [e.Content for e in result] == [CERTIFICATE, CERTIFICATE]
    assert [e.hubDeliveryNumber for e in result][1] == "n-2"


async def test_empty_lists_are_written_as_empty_arrays_not_omitted(
    live_client: zeep.Client, fakes: Fakes
) -> None:
    # JAXB and .NET clients turn an empty <...Result/> into an empty list and an absent one into
    # null: the empty list is the safer answer for a client that iterates without a null check.
    fakes.envelopes.answers["waiting_headers"] = []
    response = await dispatch(request_from(live_client, "GetImportEnvelopeHeaders"), fakes)
    (result,) = response
    assert result.tag == "{http://ephyto.ippc.int/}GetImportEnvelopeHeadersResult"
    assert len(result) == 0


async def test_live_wsdl_client_reads_profiles_with_documents_signature_and_rules(
    live_client: zeep.Client, fakes: Fakes
) -> None:
    response = await dispatch(request_from(live_client, "GetActiveNppos"), fakes)
    nppos = zeep_reads(live_client, "GetActiveNppos", soap_envelope(response))
    assert [n.Country for n in nppos] == ["AA", "BB"]
    first = nppos[0]
    assert (first.Send, first.Receive) == ("true", "false")
    document = first.AllowedDocument[0]
    assert (document.active, document.certificateType.number) == (True, 851)
    assert document.certificateType.value == "Phytosanitary certificate"
    assert first.Signature.dn == "CN=NPPO AA signing,C=AA"
    rule = first.ChannelRules.ChannelRule[0]
    assert (rule.id, rule.ruleType, rule.direction, rule.countryCode) == (
        7,
        "DELEGATE",
        "INC",
        "AA",
    )


async def test_live_wsdl_client_reads_channels(live_client: zeep.Client, fakes: Fakes) -> None:
    response = await dispatch(request_from(live_client, "GetAvailableChannels"), fakes)
    (channel,) = zeep_reads(live_client, "GetAvailableChannels", soap_envelope(response))
    assert (channel.Code, channel.Name, channel.Receive, channel.Send) == (
        "TRACES",
        "EU TRACES",
        True,
        False,
    )


async def test_live_wsdl_client_reads_validation_results(
    live_client: zeep.Client, fakes: Fakes
) -> None:
    response = await dispatch(request_from(live_client, "ValidatePhytoXML"), fakes)
    results = zeep_reads(live_client, "ValidatePhytoXML", soap_envelope(response))
    assert [(r.area, r.level, r.msg) for r in results] == [
        ("Schema", "SEVERE", "missing"),
        ("Mapping", "WARNING", "unknown code 'ZZ'"),
    ]


@pytest.mark.parametrize("operation", sorted(CODE_LISTS))
async def test_code_list_rows_have_unqualified_children_in_schema_order(
    operation: str, live_client: zeep.Client, fakes: Fakes, code_lists: CodeLists
) -> None:
    layout = CODE_LISTS[operation]
    response = await dispatch(request_from(live_client, operation), fakes)
    rows = list(response)
    expected_rows = code_lists[layout.list_name].rows("en" if layout.english_only else None)
    assert len(rows) == len(expected_rows) > 0
    for row in rows:
        names = [child.tag for child in row]
        assert all("}" not in name for name in names), "row children are unqualified"
        schema_order = [name for name, _ in layout.columns]
        assert names == [name for name in schema_order if name in names]
        assert names[0] == "active"
    parsed = zeep_reads(live_client, operation, soap_envelope(response))
    assert len(parsed) == len(expected_rows)


async def test_unit_rows_carry_symbol_and_type(live_client: zeep.Client, fakes: Fakes) -> None:
    response = await dispatch(request_from(live_client, "GetUnitMeasures"), fakes)
    units = zeep_reads(live_client, "GetUnitMeasures", soap_envelope(response))
    kilogram = next(u for u in units if u.code == "KGM")
    assert (kilogram.name, kilogram.symbol, kilogram.type, kilogram.active) == (
        "kilogram",
        "kg",
        "WEIGHT",
        True,
    )
    assert kilogram.lastModified.tzinfo is not None


# ------------------------------------------------------------------------ refusals


async def test_refused_delivery_is_a_failed_delivery_header_and_rolls_back(
    live_client: zeep.Client, fakes: Fakes
) -> None:
    fakes.envelopes.answers["deliver"] = DeliveryRefused(
        "destination BB is not registered", field="To"
    )
    response = await dispatch(request_from(live_client, "DeliverEnvelope"), fakes)
    result = zeep_reads(live_client, "DeliverEnvelope", soap_envelope(response))
    assert result.HUBTrackingInfo == "FailedDelivery"
    assert result.hubDeliveryErrorMessage == "To: destination BB is not registered"
    assert result.hubDeliveryNumber is None
    assert result.NPPOCertificateNumber == "AA-2025-0001"
    assert fakes.session.rollbacks == 1


def fault_seen_by_zeep(
    client: zeep.Client, operation: str, error: Exception
) -> tuple[zeep.exceptions.Fault, Any]:
    with pytest.raises(zeep.exceptions.Fault) as raised:
        zeep_reads(client, operation, render_fault(fault_for(error)), status=500)
    return raised.value, hub_web_exception(client, raised.value)


async def test_service_refusal_is_a_hub_web_exception_zeep_can_read(
    live_client: zeep.Client, fakes: Fakes
) -> None:
    fakes.envelopes.answers["pull_one"] = NotFound("no envelope n-1 in the box of AA")
    with pytest.raises(NotFound) as raised:
        await dispatch(request_from(live_client, "PULLSingleImportEnvelope"), fakes)
    fault, detail = fault_seen_by_zeep(live_client, "PULLSingleImportEnvelope", raised.value)
    assert fault.code == "soap:Client"
    assert fault.message == detail.message == "no envelope n-1 in the box of AA"


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (
            "<hub:DeliverEnvelope><hub:env>"
            "<ent:From>AA</ent:From><ent:To>BB</ent:To><ent:CertificateType>abc</ent:CertificateType>"
            "<ent:CertificateStatus>70</ent:CertificateStatus>"
            "<ent:NPPOCertificateNumber>1</ent:NPPOCertificateNumber><ent:Content>x</ent:Content>"
            "</hub:env></hub:DeliverEnvelope>",
            "DeliverEnvelope/env/CertificateType",
            "expected an integer (xs:int), found 'abc'",
        ),
        (
            "<hub:AcknowledgeEnvelopeReceipt/>",
            "AcknowledgeEnvelopeReceipt/hubTrackingNumber",
            "required element is missing",
        ),
        (
            "<hub:DeliverEnvelope/>",
            "DeliverEnvelope/env",
            "required element is missing",
        ),
        (
            "<hub:GetProfile><hub:code>AA</hub:code></hub:GetProfile>",
            "GetProfile",
            "unexpected element {http://ephyto.ippc.int/}code; allowed here: nothing",
        ),
        (
            "<hub:AcknowledgeEnvelopeReceipt><hubTrackingNumber>1</hubTrackingNumber>"
            "</hub:AcknowledgeEnvelopeReceipt>",
            "AcknowledgeEnvelopeReceipt",
            "hubTrackingNumber must be in namespace http://ephyto.ippc.int/, found it in "
            "(no namespace)",
        ),
        (
            "<hub:NegativeAcknowledgeEnvelopeReceipt/>",
            "soap:Body",
            "{http://ephyto.ippc.int/}NegativeAcknowledgeEnvelopeReceipt is not an operation",
        ),
        (
            "<GetProfile/>",
            "soap:Body",
            "operation GetProfile must be in namespace http://ephyto.ippc.int/",
        ),
    ],
)
async def test_caller_errors_are_client_faults_naming_field_and_reason(
    body: str, field: str, reason: str, live_client: zeep.Client, fakes: Fakes
) -> None:
    with pytest.raises(SoapFault) as raised:
        await dispatch(soap_request(body), fakes)
    assert raised.value.field == field
    assert reason in raised.value.message
    assert fakes.envelopes.calls == []
    fault, detail = fault_seen_by_zeep(live_client, "GetProfile", raised.value)
    assert fault.code == "soap:Client"
    assert detail.message == f"{field}: {raised.value.message}"
