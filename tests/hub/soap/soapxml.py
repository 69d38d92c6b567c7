"""Building SOAP requests and reading SOAP answers in tests, by namespace, never by prefix."""

from lxml import etree

from ephyto_core._namespaces import ACK, HUB, HUB_ENTITIES, RAM, RSM, SOAP_ENV

NS = {"soap": SOAP_ENV, "hub": HUB, "ent": HUB_ENTITIES, "rsm": RSM, "ram": RAM, "ack": ACK}
_DECLARATIONS = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items())


def soap_request(body: str, *, header: str = "") -> bytes:
    """A SOAP 1.1 envelope around `body`, with the usual prefixes declared on the Envelope."""
    return (
        f"<soap:Envelope {_DECLARATIONS}>{header}<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def header_xml(
    *,
    sender: str = "AA",
    to: str = "BB",
    certificate_type: str = "851",
    certificate_status: str = "70",
    number: str = "AA-2025-0001",
    extra: str = "",
) -> str:
    return (
        f"<ent:From>{sender}</ent:From><ent:To>{to}</ent:To>"
        f"<ent:CertificateType>{certificate_type}</ent:CertificateType>"
        f"<ent:CertificateStatus>{certificate_status}</ent:CertificateStatus>"
        f"<ent:NPPOCertificateNumber>{number}</ent:NPPOCertificateNumber>{extra}"
    )


def body_of(answer: bytes) -> etree._Element:
    """The one element in the Body of a SOAP answer."""
    envelope = etree.fromstring(answer)
    assert envelope.tag == f"{{{SOAP_ENV}}}Envelope"
    (element,) = envelope.find("soap:Body", NS)
    return element
