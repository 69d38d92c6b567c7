"""The WSDL we serve: our own, self-contained, and to a client the same contract as the live one."""

from typing import Any

import pytest
import zeep
from lxml import etree
from zeep.xsd import ComplexType

from hub.soap.wsdl import wsdl_document

ADDRESS = "https://hub.example.test:8443/hub/DeliveryService"
WSDL_NS = {
    "wsdl": "http://schemas.xmlsoap.org/wsdl/",
    "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
    "xs": "http://www.w3.org/2001/XMLSchema",
}
#: The certificate and acknowledgement themselves are the schema set's business (tested with
#: the schemas); here they are compared by element name and occurrence only.
DOCUMENTS = {
    "{urn:un:unece:uncefact:data:standard:SPSCertificate:17}SPSCertificate",
    "{urn:un:unece:uncefact:data:standard:SPSAcknowledgement:17}SPSAcknowledgement",
}


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> zeep.Client:
    path = tmp_path_factory.mktemp("wsdl") / "DeliveryService.wsdl"
    path.write_bytes(wsdl_document(ADDRESS))
    return zeep.Client(str(path))


def shape(element: Any, depth: int = 8) -> tuple[Any, ...]:
    """What a client generated from a WSDL sees of an element: names, occurrences, types,
    children and attributes, recursively; independent of prefixes."""
    name = element.qname.text if element.qname is not None else element.name
    described: list[Any] = [name, element.min_occurs, element.max_occurs, element.nillable]
    kind = element.type
    if name in DOCUMENTS:
        return tuple(described)
    described.append(kind.qname.text if kind.qname is not None else None)
    if isinstance(kind, ComplexType) and depth > 0:
        described.append(tuple(shape(child, depth - 1) for _, child in kind.elements))
        described.append(
            tuple(
                (attribute.name, attribute.required, attribute.type.qname.text)
                for _, attribute in kind.attributes
            )
        )
    return tuple(described)


def operations(client: zeep.Client) -> dict[str, dict[str, Any]]:
    (service,) = client.wsdl.services.values()
    (port,) = service.ports.values()
    return {
        name: {
            "input": shape(operation.input.body),
            "output": shape(operation.output.body),
            "soap_action": operation.soapaction,
            "faults": {
                fault_name: [shape(part.element) for part in fault.abstract.parts.values()]
                for fault_name, fault in operation.faults.items()
            },
        }
        for name, operation in port.binding._operations.items()
    }


def test_zeep_sees_the_27_live_operations_with_the_same_messages(
    ours: zeep.Client, live_client: zeep.Client
) -> None:
    ours_ops, live_ops = operations(ours), operations(live_client)
    assert len(ours_ops) == 27
    assert sorted(ours_ops) == sorted(live_ops)
    for name, live_op in live_ops.items():
        assert ours_ops[name] == live_op, name


def test_advanced_acknowledge_keeps_the_live_soap_action_quirk(ours: zeep.Client) -> None:
    action = operations(ours)["AdvancedAcknowledgeEnvelopeReceipt"]["soap_action"]
    assert action == "http://ephyto.ippc.int/IDeliveryService/NegativeAcknowledgeEnvelopeReceipt"


def test_soap_address_is_ours(ours: zeep.Client) -> None:
    assert ours.service._binding_options["address"] == ADDRESS


def test_wsdl_is_self_contained(ours: zeep.Client) -> None:
    document = etree.fromstring(wsdl_document(ADDRESS))
    assert document.xpath("//xs:import/@schemaLocation", namespaces=WSDL_NS) == []
    assert document.xpath("//xs:include | //wsdl:import", namespaces=WSDL_NS) == []
    namespaces = document.xpath(
        "/wsdl:definitions/wsdl:types/xs:schema/@targetNamespace", namespaces=WSDL_NS
    )
    assert sorted(namespaces) == sorted(
        {
            "http://ephyto.ippc.int/",
            "http://ephyto.ippc.int/HUB.Entities",
            "urn:un:unece:uncefact:data:standard:SPSCertificate:17",
            "urn:un:unece:uncefact:data:standard:SPSAcknowledgement:17",
            "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:21",
            "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:21",
            "urn:un:unece:uncefact:data:Standard:QualifiedDataType:21",
        }
    )


def test_embedded_schemas_keep_their_prefix_declarations() -> None:
    # Every QName in a type/ref/base attribute must resolve where it stands in the WSDL.
    document = etree.fromstring(wsdl_document(ADDRESS))
    for node in document.iter("{http://www.w3.org/2001/XMLSchema}*"):
        for attribute in ("type", "ref", "base"):
            value = node.get(attribute)
            if value and ":" in value:
                prefix = value.split(":", 1)[0]
                assert prefix in node.nsmap, f"{value} on line {node.sourceline}"
