"""Reading the SOAP 1.1 envelope: the one operation element, or a fault that says what is wrong."""

import pytest

from ephyto_core._errors import MalformedXmlError, UnsafeXmlError
from ephyto_core._namespaces import HUB
from ephyto_core._safexml import XmlLimits
from hub.soap.faults import FaultCode, SoapFault
from hub.soap.request import operation_element
from tests.hub.soap.soapxml import soap_request


def test_operation_element_is_the_body_child() -> None:
    element = operation_element(soap_request("<hub:GetProfile/>"))
    assert element.tag == f"{{{HUB}}}GetProfile"


def test_header_comments_and_whitespace_are_ignored() -> None:
    request = soap_request(
        "\n  <!-- a comment -->\n  <hub:GetProfile/>\n  <?pi x?>\n",
        header='<soap:Header><x:Trace xmlns:x="urn:x">1</x:Trace></soap:Header>',
    )
    assert operation_element(request).tag == f"{{{HUB}}}GetProfile"


def test_soap12_envelope_is_a_version_mismatch() -> None:
    request = (
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope">'
        b"<e:Body><x/></e:Body></e:Envelope>"
    )
    with pytest.raises(SoapFault) as refused:
        operation_element(request)
    assert refused.value.code is FaultCode.VERSION_MISMATCH
    assert "SOAP 1.2" in refused.value.message


def test_a_bare_certificate_is_not_a_soap_envelope() -> None:
    with pytest.raises(SoapFault, match="not a SOAP envelope") as refused:
        operation_element(b'<rsm:SPSCertificate xmlns:rsm="urn:x"/>')
    assert refused.value.code is FaultCode.CLIENT


def test_missing_body_is_refused() -> None:
    request = b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"/>'
    with pytest.raises(SoapFault, match="no Body") as refused:
        operation_element(request)
    assert refused.value.field == "soap:Body"


def test_empty_body_is_refused() -> None:
    with pytest.raises(SoapFault, match="Body is empty"):
        operation_element(soap_request(""))


def test_two_body_children_are_refused() -> None:
    with pytest.raises(SoapFault, match="holds 2 elements") as refused:
        operation_element(soap_request("<hub:GetProfile/><hub:GetActiveNppos/>"))
    assert refused.value.field == "soap:Body"


def test_text_in_body_is_refused() -> None:
    with pytest.raises(SoapFault, match="unexpected text"):
        operation_element(soap_request("hello<hub:GetProfile/>"))


def test_header_after_body_is_refused() -> None:
    request = soap_request("<hub:GetProfile/>").replace(
        b"</soap:Envelope>", b"<soap:Header/></soap:Envelope>"
    )
    with pytest.raises(SoapFault, match="misplaced Header"):
        operation_element(request)


def test_must_understand_header_block_is_refused() -> None:
    header = '<soap:Header><x:Security xmlns:x="urn:x" soap:mustUnderstand="1"/></soap:Header>'
    with pytest.raises(SoapFault) as refused:
        operation_element(soap_request("<hub:GetProfile/>", header=header))
    assert refused.value.code is FaultCode.MUST_UNDERSTAND


def test_must_understand_block_for_another_actor_is_not_ours() -> None:
    header = (
        '<soap:Header><x:Route xmlns:x="urn:x" soap:mustUnderstand="1" '
        'soap:actor="urn:some-intermediary"/></soap:Header>'
    )
    assert operation_element(soap_request("<hub:GetProfile/>", header=header)) is not None


def test_malformed_xml_is_a_malformed_xml_error() -> None:
    with pytest.raises(MalformedXmlError) as refused:
        operation_element(soap_request("<hub:GetProfile>")[:-10])
    assert refused.value.field == "soap:Envelope"


def test_doctype_with_entities_is_refused_before_parsing() -> None:
    request = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + soap_request(
        "<hub:GetProfile/>"
    )
    with pytest.raises(UnsafeXmlError, match="DOCTYPE"):
        operation_element(request)


def test_request_over_the_size_limit_is_refused() -> None:
    request = soap_request(
        f"<hub:ValidatePhytoXML><hub:ePhytoXML>{'x' * 2000}</hub:ePhytoXML></hub:ValidatePhytoXML>"
    )
    with pytest.raises(UnsafeXmlError):
        operation_element(request, limits=XmlLimits(max_bytes=1000))


def test_content_over_libxml2_text_node_cap_is_refused_with_the_reason() -> None:
    # libxml2 caps one text node at 10,000,000 bytes (huge_tree stays off), whatever max_bytes
    # allows: a Content string longer than that is refused cleanly, never half-read.
    content = "A" * 10_000_001
    request = soap_request(
        f"<hub:ValidatePhytoXML><hub:ePhytoXML>{content}</hub:ePhytoXML></hub:ValidatePhytoXML>"
    )
    with pytest.raises(UnsafeXmlError, match="Text node too long"):
        operation_element(request, limits=XmlLimits(max_bytes=24 * 1024 * 1024))
