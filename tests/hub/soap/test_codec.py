"""XML <-> domain types, in the namespaces and forms the live WSDL's schema declares."""

import base64
from pathlib import Path

import pytest
from lxml import etree

from ephyto_core._namespaces import HUB, HUB_ENTITIES, RSM
from hub.envelopes.domain import Envelope, EnvelopeHeader, Forwarding, TrackingState
from hub.soap.codec import (
    content_text,
    read_envelope,
    read_envelope_header,
    read_phyto_envelope,
    write_envelope,
    write_header,
)
from hub.soap.faults import SoapFault
from tests.hub.soap.soapxml import NS, header_xml

ENT = f"{{{HUB_ENTITIES}}}"


def _element(xml: str) -> etree._Element:
    declarations = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items())
    return etree.fromstring(f"<hub:env {declarations}>{xml}</hub:env>")


def test_header_fields_are_read_from_the_entities_namespace() -> None:
    forwardings = (
        "<ent:Forwardings><ent:EnvelopeForwarding><ent:Code>TRACES</ent:Code>"
        "</ent:EnvelopeForwarding></ent:Forwardings>"
    )
    header = read_envelope_header(_element(header_xml(extra=forwardings)), path="header")
    assert header == EnvelopeHeader(
        from_code="AA",
        to_code="BB",
        certificate_type=851,
        certificate_status=70,
        nppo_certificate_number="AA-2025-0001",
        forwardings=(Forwarding(code="TRACES"),),
    )


def test_certificate_type_that_is_not_an_int_names_the_field() -> None:
    with pytest.raises(SoapFault) as refused:
        read_envelope_header(
            _element(header_xml(certificate_type="abc")), path="DeliverEnvelope/env"
        )
    assert refused.value.field == "DeliverEnvelope/env/CertificateType"
    assert "expected an integer (xs:int), found 'abc'" in refused.value.message


@pytest.mark.parametrize("value", ["2147483648", "-2147483649", "9" * 5000])
def test_int_outside_the_xs_int_range_is_refused(value: str) -> None:
    with pytest.raises(SoapFault, match="out of the xs:int range"):
        read_envelope_header(_element(header_xml(certificate_status=value)), path="h")


def test_int_with_leading_zeros_and_spaces_is_an_int() -> None:
    header = read_envelope_header(_element(header_xml(certificate_type=" 000851 ")), path="h")
    assert header.certificate_type == 851


def test_missing_required_field_is_named() -> None:
    xml = header_xml().replace("<ent:To>BB</ent:To>", "")
    with pytest.raises(SoapFault) as refused:
        read_envelope_header(_element(xml), path="DeliverEnvelope/env")
    assert refused.value.field == "DeliverEnvelope/env/To"
    assert refused.value.message == "required element is missing"


def test_field_in_the_wrong_namespace_says_which_namespace() -> None:
    xml = header_xml().replace("<ent:To>BB</ent:To>", "<To>BB</To>")
    with pytest.raises(SoapFault, match=f"To must be in namespace {HUB_ENTITIES}"):
        read_envelope_header(_element(xml), path="env")


def test_repeated_field_is_refused() -> None:
    with pytest.raises(SoapFault, match="From appears more than once"):
        read_envelope_header(_element(header_xml(extra="<ent:From>CC</ent:From>")), path="env")


def test_unknown_tracking_state_is_refused_with_the_allowed_values() -> None:
    xml = header_xml(extra="<ent:HUBTrackingInfo>Lost</ent:HUBTrackingInfo>")
    with pytest.raises(SoapFault, match="PendingDelivery, Delivered"):
        read_envelope_header(_element(xml), path="header")


def test_escaped_content_reaches_the_service_as_the_xml_text() -> None:
    content = (
        "&lt;rsm:SPSCertificate xmlns:rsm=&quot;urn:x&quot;&gt;&amp;amp;&lt;/rsm:SPSCertificate&gt;"
    )
    submitted = read_envelope(
        _element(header_xml() + f"<ent:Content>{content}</ent:Content>"), path="env"
    )
    assert submitted.content == '<rsm:SPSCertificate xmlns:rsm="urn:x">&amp;</rsm:SPSCertificate>'


def test_cdata_content_reaches_the_service_as_the_xml_text() -> None:
    xml = header_xml() + "<ent:Content><![CDATA[<a>&amp;</a>]]></ent:Content>"
    assert read_envelope(_element(xml), path="env").content == "<a>&amp;</a>"


def test_base64_content_is_passed_through_for_the_service_to_decode() -> None:
    encoded = base64.b64encode(b"<a/>").decode()
    xml = header_xml() + f"<ent:Content>\n{encoded}\n</ent:Content>"
    assert read_envelope(_element(xml), path="env").content == f"\n{encoded}\n"


def test_unescaped_xml_in_content_is_refused_not_flattened() -> None:
    xml = header_xml() + "<ent:Content><rsm:SPSCertificate/></ent:Content>"
    with pytest.raises(SoapFault, match="must be escaped, wrapped in CDATA or base64") as refused:
        read_envelope(_element(xml), path="DeliverEnvelope/env")
    assert refused.value.field == "DeliverEnvelope/env/Content"


def test_missing_content_is_refused() -> None:
    with pytest.raises(SoapFault, match="required element is missing"):
        read_envelope(_element(header_xml()), path="env")


def test_embedded_certificate_keeps_the_namespaces_declared_on_the_envelope(
    conformance_dir: Path,
) -> None:
    # The 2022 sample request is a body without namespace declarations; declare its prefixes as
    # a SOAP toolkit would, on the Envelope, far above the certificate.
    sample = (
        conformance_dir / "hub-wsdl-2022" / "ejemplo.DeliverPhytoEnvelope.request.xml"
    ).read_text()
    declarations = {
        "soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
        "eph": HUB,
        "hub": HUB_ENTITIES,
        "urn": RSM,
        "urn1": NS["ram"],
        "urn2": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:21",
    }
    text = sample.split("?>", 1)[1].replace(
        "<soapenv:Envelope>",
        "<soapenv:Envelope " + " ".join(f'xmlns:{p}="{u}"' for p, u in declarations.items()) + ">",
    )
    phyto = etree.fromstring(text).find(
        "soapenv:Body/eph:DeliverPhytoEnvelope/eph:ePhytoEnvelope", declarations
    )
    assert phyto is not None

    submitted = read_phyto_envelope(phyto, path="DeliverPhytoEnvelope/ePhytoEnvelope")

    assert submitted.header.nppo_certificate_number == "BO-5845145424"
    assert isinstance(submitted.content, bytes)
    certificate = etree.fromstring(submitted.content)  # stands alone: every prefix declared
    assert certificate.tag == f"{{{RSM}}}SPSCertificate"
    assert certificate.findtext(".//urn1:ID", namespaces=declarations) == "BO-5845145424"


def test_header_is_written_in_schema_order_with_qualified_children() -> None:
    parent = etree.Element(f"{{{HUB}}}DeliverEnvelopeResponse")
    header = EnvelopeHeader(
        from_code="AA",
        to_code="BB",
        certificate_type=851,
        certificate_status=70,
        nppo_certificate_number="AA-1",
        hub_delivery_number="n-1",
        tracking_info=TrackingState.PENDING_DELIVERY,
        forwardings=(Forwarding(code="CC", hub_delivery_number="n-2"),),
    )
    written = write_header(parent, f"{{{HUB}}}DeliverEnvelopeResult", header)
    assert [child.tag for child in written] == [
        f"{ENT}{name}"
        for name in (
            "From",
            "To",
            "CertificateType",
            "CertificateStatus",
            "NPPOCertificateNumber",
            "hubDeliveryNumber",
            "HUBTrackingInfo",
            "Forwardings",
        )
    ]
    forwarding = written.find("ent:Forwardings/ent:EnvelopeForwarding", NS)
    assert forwarding is not None
    assert forwarding.findtext("ent:HubDeliveryNumber", namespaces=NS) == "n-2"


def test_content_goes_out_as_escaped_text_and_round_trips() -> None:
    xml = '<rsm:SPSCertificate xmlns:rsm="urn:x">Côte &amp; "Ivoire"</rsm:SPSCertificate>'
    envelope = Envelope(
        header=EnvelopeHeader(
            from_code="AA",
            to_code="BB",
            certificate_type=851,
            certificate_status=70,
            nppo_certificate_number="AA-1",
        ),
        content=xml.encode(),
    )
    parent = etree.Element(f"{{{HUB}}}R")
    write_envelope(parent, f"{{{HUB}}}Result", envelope)
    serialized = etree.tostring(parent)
    assert b"&lt;rsm:SPSCertificate" in serialized
    assert etree.fromstring(serialized).findtext("hub:Result/ent:Content", namespaces=NS) == xml


def test_content_that_is_not_utf8_goes_out_base64_encoded_unaltered() -> None:
    latin1 = '<?xml version="1.0" encoding="ISO-8859-1"?><a>Côte</a>'.encode("latin-1")
    assert base64.b64decode(content_text(latin1)) == latin1
