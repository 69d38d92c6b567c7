"""Reading a SOAP 1.1 request: hardened parse, envelope checks, the one operation element.

The operation is the Body's only child element. SOAPAction is never consulted: clients send
``SOAPAction: ""``, and the live binding maps AdvancedAcknowledgeEnvelopeReceipt to the action
``.../NegativeAcknowledgeEnvelopeReceipt``, so the header cannot be trusted to name the operation.
"""

from typing import Final

from lxml import etree

from ephyto_core._namespaces import SOAP_ENV
from ephyto_core._safexml import DEFAULT_LIMITS, XmlLimits, parse_untrusted
from hub.soap.faults import FaultCode, SoapFault

SOAP12_ENV: Final = "http://www.w3.org/2003/05/soap-envelope"
_ENVELOPE: Final = f"{{{SOAP_ENV}}}Envelope"
_HEADER: Final = f"{{{SOAP_ENV}}}Header"
_BODY: Final = f"{{{SOAP_ENV}}}Body"
_MUST_UNDERSTAND: Final = f"{{{SOAP_ENV}}}mustUnderstand"
_ACTOR: Final = f"{{{SOAP_ENV}}}actor"
# Header blocks addressed to us: no actor, or the "next" actor (SOAP 1.1 §4.2.2).
_OUR_ACTORS: Final = frozenset({None, "http://schemas.xmlsoap.org/soap/actor/next"})


def operation_element(data: bytes, *, limits: XmlLimits = DEFAULT_LIMITS) -> etree._Element:
    """The Body's single child element of a SOAP 1.1 request.

    Raises `SoapFault` (or the parser's `UnsafeXmlError` / `MalformedXmlError`) with a message
    that names what is wrong.
    """
    root = parse_untrusted(data, limits=limits, field="soap:Envelope")
    _check_envelope(root)
    header, body = _header_and_body(root)
    if header is not None:
        _check_header(header)
    return _single_child(body)


def _check_envelope(root: etree._Element) -> None:
    if root.tag == _ENVELOPE:
        return
    local = etree.QName(root).localname
    if local == "Envelope":
        namespace = etree.QName(root).namespace
        hint = " (SOAP 1.2)" if namespace == SOAP12_ENV else ""
        raise SoapFault(
            f"the Envelope is in namespace {namespace or '(none)'}{hint}; this service speaks "
            f"SOAP 1.1, namespace {SOAP_ENV}",
            field="soap:Envelope",
            code=FaultCode.VERSION_MISMATCH,
        )
    raise SoapFault(
        f"the request is not a SOAP envelope: its root element is {root.tag}, expected "
        f"{{{SOAP_ENV}}}Envelope",
        field="soap:Envelope",
    )


def _header_and_body(
    envelope: etree._Element,
) -> tuple[etree._Element | None, etree._Element]:
    header: etree._Element | None = None
    body: etree._Element | None = None
    for child in _element_children(envelope, where="soap:Envelope"):
        if child.tag == _HEADER and header is None and body is None:
            header = child
        elif child.tag == _BODY and body is None:
            body = child
        elif child.tag in (_HEADER, _BODY):
            name = etree.QName(child).localname
            raise SoapFault(
                f"the Envelope has a second or misplaced {name}; SOAP 1.1 allows one optional "
                "Header followed by one Body",
                field=f"soap:{name}",
            )
        elif body is None:
            raise SoapFault(
                f"unexpected element {child.tag} before the Body", field="soap:Envelope"
            )
        # SOAP 1.1 §4.1.1 allows further namespace-qualified elements after the Body: ignored.
    if body is None:
        raise SoapFault(
            "the Envelope has no Body; it must hold one operation element, "
            "e.g. DeliverEnvelope in namespace http://ephyto.ippc.int/",
            field="soap:Body",
        )
    return header, body


def _check_header(header: etree._Element) -> None:
    for block in _element_children(header, where="soap:Header"):
        if block.get(_MUST_UNDERSTAND) in ("1", "true") and block.get(_ACTOR) in _OUR_ACTORS:
            raise SoapFault(
                f"header block {block.tag} is marked mustUnderstand, and this service "
                "processes no SOAP header blocks (identity comes from the TLS client certificate)",
                field="soap:Header",
                code=FaultCode.MUST_UNDERSTAND,
            )


def _single_child(body: etree._Element) -> etree._Element:
    children = list(_element_children(body, where="soap:Body"))
    if not children:
        raise SoapFault(
            "the Body is empty; it must hold one operation element, e.g. DeliverEnvelope in "
            "namespace http://ephyto.ippc.int/",
            field="soap:Body",
        )
    if len(children) > 1:
        names = ", ".join(etree.QName(c).localname for c in children[:5])
        raise SoapFault(
            f"the Body holds {len(children)} elements ({names}); exactly one operation "
            "element is expected",
            field="soap:Body",
        )
    return children[0]


def _element_children(parent: etree._Element, *, where: str) -> list[etree._Element]:
    """Element children, skipping comments and processing instructions; text is refused."""
    if parent.text is not None and parent.text.strip():
        raise SoapFault(f"unexpected text {_clip(parent.text)!r} in {where}", field=where)
    children = []
    for child in parent:
        if isinstance(child.tag, str):
            children.append(child)
        if child.tail is not None and child.tail.strip():
            raise SoapFault(f"unexpected text {_clip(child.tail)!r} in {where}", field=where)
    return children


def _clip(text: str, limit: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"
