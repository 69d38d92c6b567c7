"""The WSDL we serve at ``?wsdl``: generated from the operation table and our own schemas.

Self-contained, like the live hub's: the schemas of ``schemas/xsd`` that the service vocabulary
(``HubService.xsd``) imports, directly or not, are embedded in ``wsdl:types`` and refer to each
other by namespace only. A national system can store the one file and generate its client
offline; the only thing that differs from the live contract is ``soap:address``.
"""

import functools
from pathlib import Path
from typing import Final

from lxml import etree

from ephyto_core._namespaces import HUB
from ephyto_core._paths import xsd_dir
from hub.soap.operations import OPERATIONS

WSDL: Final = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP: Final = "http://schemas.xmlsoap.org/wsdl/soap/"
XS: Final = "http://www.w3.org/2001/XMLSchema"
SOAP_HTTP_TRANSPORT: Final = "http://schemas.xmlsoap.org/soap/http"

SERVICE: Final = "DeliveryService"
PORT_TYPE: Final = "IDeliveryService"
BINDING: Final = "DeliveryServiceSoapBinding"
PORT: Final = "IDeliveryServiceImplPort"
FAULT: Final = "HubWebException"
#: The schema that declares every operation's wrapper elements; the rest is reached by imports.
ENTRY_SCHEMA: Final = "HubService.xsd"

_SCHEMA_REFERENCES: Final = (f"{{{XS}}}import", f"{{{XS}}}include", f"{{{XS}}}redefine")


@functools.lru_cache(maxsize=8)
def wsdl_document(address: str, schemas: Path | None = None) -> bytes:
    """The WSDL with ``address`` in ``soap:address``; built once per address."""
    definitions = etree.Element(
        f"{{{WSDL}}}definitions",
        nsmap={"wsdl": WSDL, "soap": WSDL_SOAP, "xs": XS, "tns": HUB},
        name=SERVICE,
        targetNamespace=HUB,
    )
    etree.SubElement(definitions, f"{{{WSDL}}}documentation").text = (
        "IPPC ePhyto hub, IDeliveryService: SOAP 1.1, document/literal wrapped. Every operation "
        "faults with HubWebException {message}. Identity is the TLS client certificate."
    )
    etree.SubElement(definitions, f"{{{WSDL}}}types")
    _messages(definitions)
    _port_type(definitions)
    _binding(definitions)
    service = etree.SubElement(definitions, f"{{{WSDL}}}service", name=SERVICE)
    port = etree.SubElement(service, f"{{{WSDL}}}port", name=PORT, binding=f"tns:{BINDING}")
    etree.SubElement(port, f"{{{WSDL_SOAP}}}address", location=address)
    # The schemas go in as text. Appended as elements, lxml would drop each schema's namespace
    # declarations that the WSDL root repeats under another prefix (xmlns:hub vs xmlns:tns), and
    # the prefixes inside attribute values (type="hub:DeliverEnvelope") would no longer resolve.
    skeleton = etree.tostring(definitions, encoding="unicode", pretty_print=True)
    schemas_text = "".join(
        etree.tostring(schema, encoding="unicode")
        for schema in embedded_schemas(schemas or xsd_dir())
    )
    text = skeleton.replace("<wsdl:types/>", f"<wsdl:types>{schemas_text}</wsdl:types>", 1)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text.encode("utf-8")


def embedded_schemas(directory: Path) -> list[etree._Element]:
    """The entry schema and everything it imports, each with its schemaLocation removed.

    Only files reached from ``ENTRY_SCHEMA`` go in, so another schema lying in the directory (an
    official UN/CEFACT module with the same namespace, say) cannot clash with the hub's profile.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    pending = [ENTRY_SCHEMA]
    seen: set[str] = set()
    schemas: list[etree._Element] = []
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        root = etree.parse(str(directory / name), parser).getroot()
        for reference in root.iter(*_SCHEMA_REFERENCES):
            location = reference.get("schemaLocation")
            if location is not None:
                del reference.attrib["schemaLocation"]
                pending.append(location)
        schemas.append(root)
    return schemas


def _messages(definitions: etree._Element) -> None:
    for operation in OPERATIONS.values():
        for element in (operation.input_element, operation.output_element):
            message = etree.SubElement(definitions, f"{{{WSDL}}}message", name=element)
            etree.SubElement(
                message, f"{{{WSDL}}}part", name="parameters", element=f"tns:{element}"
            )
    fault = etree.SubElement(definitions, f"{{{WSDL}}}message", name=FAULT)
    etree.SubElement(fault, f"{{{WSDL}}}part", name=FAULT, element=f"tns:{FAULT}")


def _port_type(definitions: etree._Element) -> None:
    port_type = etree.SubElement(definitions, f"{{{WSDL}}}portType", name=PORT_TYPE)
    for operation in OPERATIONS.values():
        element = etree.SubElement(port_type, f"{{{WSDL}}}operation", name=operation.name)
        for kind, name in (
            ("input", operation.input_element),
            ("output", operation.output_element),
        ):
            etree.SubElement(element, f"{{{WSDL}}}{kind}", name=name, message=f"tns:{name}")
        etree.SubElement(element, f"{{{WSDL}}}fault", name=FAULT, message=f"tns:{FAULT}")


def _binding(definitions: etree._Element) -> None:
    binding = etree.SubElement(
        definitions, f"{{{WSDL}}}binding", name=BINDING, type=f"tns:{PORT_TYPE}"
    )
    etree.SubElement(
        binding, f"{{{WSDL_SOAP}}}binding", style="document", transport=SOAP_HTTP_TRANSPORT
    )
    for operation in OPERATIONS.values():
        element = etree.SubElement(binding, f"{{{WSDL}}}operation", name=operation.name)
        etree.SubElement(
            element,
            f"{{{WSDL_SOAP}}}operation",
            soapAction=operation.soap_action,
            style="document",
        )
        for kind, name in (
            ("input", operation.input_element),
            ("output", operation.output_element),
        ):
            message = etree.SubElement(element, f"{{{WSDL}}}{kind}", name=name)
            etree.SubElement(message, f"{{{WSDL_SOAP}}}body", use="literal")
        fault = etree.SubElement(element, f"{{{WSDL}}}fault", name=FAULT)
        etree.SubElement(fault, f"{{{WSDL_SOAP}}}fault", name=FAULT, use="literal")
