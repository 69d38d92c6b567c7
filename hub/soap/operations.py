"""The 27 operations of IDeliveryService: each reads its parameters, calls one service function
and writes its response element.

The table `OPERATIONS` is the single list of what the SOAP face offers: the dispatcher looks
operations up in it and the WSDL we serve is generated from it, so the two cannot drift apart.
"""

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from lxml import etree
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._codelists import CodeRow
from ephyto_core._namespaces import HUB
from hub.codelists.service import CodeListService
from hub.envelopes.domain import EnvelopeHeader, Submission, TrackingState
from hub.envelopes.service import EnvelopeService
from hub.errors import DeliveryRefused
from hub.identity.domain import AuthenticatedNppo
from hub.nppos.service import NppoService
from hub.signing.service import SigningService
from hub.soap.codec import (
    NSMAP,
    Children,
    SubmittedEnvelope,
    add_text,
    hub,
    read_country_response,
    read_envelope,
    read_envelope_header,
    read_phyto_envelope,
    write_channels,
    write_envelope,
    write_envelopes,
    write_header,
    write_headers,
    write_nppo,
    write_nppos,
    write_validation_results,
    xs_datetime,
)
from hub.soap.faults import SoapFault
from hub.soap.signatures import receipts_header, seals_header

SOAP_ACTION_BASE: Final = "http://ephyto.ippc.int/IDeliveryService/"


@dataclass(frozen=True, kw_only=True, slots=True)
class OperationContext:
    """What one request's handler may use: its transaction, its caller, the services."""

    session: AsyncSession
    caller: AuthenticatedNppo
    envelopes: EnvelopeService
    nppos: NppoService
    codelists: CodeListService
    #: Seals and receipts for the answer's SOAP header; None leaves them out (unit tests).
    signing: SigningService | None = None
    #: Header blocks the handler adds to its answer (hub.soap.signatures).
    soap_headers: list[etree._Element] = field(default_factory=list)


Handler = Callable[[OperationContext, etree._Element], Awaitable[etree._Element]]


@dataclass(frozen=True, kw_only=True, slots=True)
class Operation:
    name: str
    handle: Handler
    #: As the live binding declares it (clients send it; we never read it).
    soap_action: str

    @property
    def input_element(self) -> str:
        return self.name

    @property
    def output_element(self) -> str:
        return f"{self.name}Response"


def find_operation(element: etree._Element) -> Operation:
    """The operation a Body element names; a fault that says why if it names none."""
    name = etree.QName(element)
    operation = OPERATIONS.get(name.localname)
    if operation is not None and name.namespace == HUB:
        return operation
    if operation is not None:
        raise SoapFault(
            f"operation {name.localname} must be in namespace {HUB}, found it in "
            f"{name.namespace or '(no namespace)'}",
            field="soap:Body",
        )
    raise SoapFault(
        f"{element.tag} is not an operation of IDeliveryService; the WSDL (?wsdl) lists "
        "the 27 operations",
        field="soap:Body",
    )


# ------------------------------------------------------------------------------------ helpers


def _params(request: etree._Element, *names: str) -> Children:
    return Children(request, path=etree.QName(request).localname, allowed=[hub(n) for n in names])


def _response(operation: str) -> etree._Element:
    return etree.Element(hub(f"{operation}Response"), nsmap=NSMAP)


async def _attach_seals(
    ctx: OperationContext,
    numbers: Sequence[str | None],
    *,
    known: Mapping[str, bytes] | None = None,
) -> None:
    """The seals of these envelopes in a SOAP header block; ``known`` ones are not read again."""
    if ctx.signing is None:
        return
    seals = await ctx.signing.seals(ctx.session, [n for n in numbers if n], known=known)
    block = seals_header(seals)
    if block is not None:
        ctx.soap_headers.append(block)


def _tracking_number(request: etree._Element, *others: str) -> tuple[str, ...]:
    params = _params(request, "hubTrackingNumber", *others)
    return tuple(params.required_text(hub(n)) for n in ("hubTrackingNumber", *others))


async def _submission(
    ctx: OperationContext,
    operation: str,
    submitted: SubmittedEnvelope,
    submit: Callable[[], Awaitable[Submission]],
) -> etree._Element:
    """Run a submission; a refusal is answered as the live hub does, in the header.

    The hub reports header, rule and content errors of a submission as an `EnvelopeHeader`
    with ``HUBTrackingInfo=FailedDelivery`` and the reason in ``hubDeliveryErrorMessage``,
    not as a fault. The transaction is rolled back first, so nothing of it is kept.
    """
    try:
        accepted = await submit()
    except DeliveryRefused as refusal:
        await ctx.session.rollback()
        header = dataclasses.replace(
            submitted.header,
            hub_delivery_number=None,
            tracking_info=TrackingState.FAILED_DELIVERY,
            error_message=str(refusal),
        )
    else:
        header = accepted.header
        # The sender gets the hub's seal of what it accepted (the original and each copy).
        await _attach_seals(
            ctx,
            [header.hub_delivery_number, *(f.hub_delivery_number for f in header.forwardings)],
            known=accepted.seals,
        )
    response = _response(operation)
    write_header(response, hub(f"{operation}Result"), header)
    return response


# ------------------------------------------------------------------------------------ sending


async def _deliver_certificate(
    ctx: OperationContext,
    request: etree._Element,
    *,
    operation: str,
    wrapper: str,
    read: Callable[..., SubmittedEnvelope],
    validate_first: bool,
) -> etree._Element:
    """The three certificate submissions differ only in their wrapper, how the certificate is
    carried (Content string or embedded element) and whether SEVERE findings refuse it."""
    params = _params(request, wrapper)
    envelope = params.element(hub(wrapper), required=True)
    assert envelope is not None
    submitted = read(envelope, path=params.field(hub(wrapper)))
    return await _submission(
        ctx,
        operation,
        submitted,
        lambda: ctx.envelopes.deliver(
            ctx.session,
            caller=ctx.caller,
            header=submitted.header,
            content=submitted.content,
            validate_first=validate_first,
        ),
    )


async def deliver_envelope(ctx: OperationContext, request: etree._Element) -> etree._Element:
    return await _deliver_certificate(
        ctx,
        request,
        operation="DeliverEnvelope",
        wrapper="env",
        read=read_envelope,
        validate_first=False,
    )


async def validate_and_deliver_envelope(
    ctx: OperationContext, request: etree._Element
) -> etree._Element:
    return await _deliver_certificate(
        ctx,
        request,
        operation="ValidateAndDeliverEnvelope",
        wrapper="envelope",
        read=read_envelope,
        validate_first=True,
    )


async def deliver_phyto_envelope(ctx: OperationContext, request: etree._Element) -> etree._Element:
    return await _deliver_certificate(
        ctx,
        request,
        operation="DeliverPhytoEnvelope",
        wrapper="ePhytoEnvelope",
        read=read_phyto_envelope,
        validate_first=False,
    )


async def deliver_country_response_envelope(
    ctx: OperationContext, request: etree._Element
) -> etree._Element:
    params = _params(request, "CountryResponseEnvelope")
    envelope = params.element(hub("CountryResponseEnvelope"), required=True)
    assert envelope is not None
    submitted = read_country_response(envelope, path=params.field(hub("CountryResponseEnvelope")))
    return await _submission(
        ctx,
        "DeliverCountryResponseEnvelope",
        submitted,
        lambda: ctx.envelopes.deliver_country_response(
            ctx.session,
            caller=ctx.caller,
            header=submitted.header,
            acknowledgement=submitted.content,
        ),
    )


# ------------------------------------------------------------------------------------ receiving


async def get_import_envelope_headers(
    ctx: OperationContext, request: etree._Element
) -> etree._Element:
    country = _params(request, "countryCode").text(hub("countryCode"), required=False)
    headers = await ctx.envelopes.waiting_headers(
        ctx.session,
        caller=ctx.caller,
        country_code=country if country and country.strip() else None,
    )
    response = _response("GetImportEnvelopeHeaders")
    write_headers(response, hub("GetImportEnvelopeHeadersResult"), headers)
    return response


async def pull_single_import_envelope(
    ctx: OperationContext, request: etree._Element
) -> etree._Element:
    (number,) = _tracking_number(request)
    envelope = await ctx.envelopes.pull_one(ctx.session, caller=ctx.caller, delivery_number=number)
    await _attach_seals(ctx, [envelope.header.hub_delivery_number])
    response = _response("PULLSingleImportEnvelope")
    write_envelope(response, hub("PULLSingleImportEnvelopeResult"), envelope)
    return response


async def pull_import_envelope(ctx: OperationContext, request: etree._Element) -> etree._Element:
    _params(request)
    envelopes = await ctx.envelopes.pull_all(ctx.session, caller=ctx.caller)
    await _attach_seals(ctx, [e.header.hub_delivery_number for e in envelopes])
    response = _response("PULLImportEnvelope")
    # The live contract's result name has the plural: PULLImportEnvelopesResult.
    write_envelopes(response, hub("PULLImportEnvelopesResult"), envelopes)
    return response


async def acknowledge_envelope_receipt(
    ctx: OperationContext, request: etree._Element
) -> etree._Element:
    (number,) = _tracking_number(request)
    await ctx.envelopes.acknowledge(ctx.session, caller=ctx.caller, delivery_number=number)
    return _response("AcknowledgeEnvelopeReceipt")


async def advanced_acknowledge_envelope_receipt(
    ctx: OperationContext, request: etree._Element
) -> etree._Element:
    number, warning = _tracking_number(request, "warningMessage")
    header = await ctx.envelopes.acknowledge_with_warnings(
        ctx.session, caller=ctx.caller, delivery_number=number, warning=warning
    )
    return _state_returned("AdvancedAcknowledgeEnvelopeReceipt", header)


async def acknowledge_failed_envelope_receipt(
    ctx: OperationContext, request: etree._Element
) -> etree._Element:
    number, reason = _tracking_number(request, "message")
    header = await ctx.envelopes.acknowledge_failed(
        ctx.session, caller=ctx.caller, delivery_number=number, reason=reason
    )
    return _state_returned("AcknowledgeFailedEnvelopeReceipt", header)


def _state_returned(operation: str, header: EnvelopeHeader) -> etree._Element:
    # The contract's `return` is a bare string; we answer the envelope's new HUBTrackingInfo
    # (inferred: no public sample shows what the live hub puts there).
    response = _response(operation)
    state = header.tracking_info.value if header.tracking_info is not None else None
    add_text(response, hub("return"), state)
    return response


# ------------------------------------------------------------------------------------ tracking


async def get_envelope_tracking_info(
    ctx: OperationContext, request: etree._Element
) -> etree._Element:
    (number,) = _tracking_number(request)
    header = await ctx.envelopes.tracking_info(
        ctx.session, caller=ctx.caller, delivery_number=number
    )
    if ctx.signing is not None and header.tracking_info is not TrackingState.ENVELOPE_NOT_EXISTS:
        # Once the receiver has acknowledged, the sender's proof of delivery rides along.
        receipt = await ctx.signing.receipt_if_any(ctx.session, number.strip())
        block = receipts_header([receipt] if receipt is not None else [])
        if block is not None:
            ctx.soap_headers.append(block)
    response = _response("GetEnvelopeTrackingInfo")
    write_header(response, hub("GetEnvelopeTrackingInfoResult"), header)
    return response


async def get_under_delivery_envelope(
    ctx: OperationContext, request: etree._Element
) -> etree._Element:
    _params(request)
    headers = await ctx.envelopes.under_delivery(ctx.session, caller=ctx.caller)
    response = _response("GetUnderDeliveryEnvelope")
    write_headers(response, hub("GetUnderDeliveryEnvelopeResult"), headers)
    return response


async def set_tracking_info_update(
    ctx: OperationContext, request: etree._Element
) -> etree._Element:
    params = _params(request, "header")
    element = params.element(hub("header"), required=True)
    assert element is not None
    header = read_envelope_header(element, path=params.field(hub("header")))
    await ctx.envelopes.report_tracking_update(ctx.session, caller=ctx.caller, header=header)
    return _response("SetTrackingInfoUpdate")


# ------------------------------------------------------------------------------------ validation


async def validate_phyto_xml(ctx: OperationContext, request: etree._Element) -> etree._Element:
    xml = _params(request, "ePhytoXML").required_text(hub("ePhytoXML"))
    # Synchronous, like the validation inside deliver(): certificates validate in milliseconds,
    # and the shared compiled schema is not safe to use from several threads at once.
    results = ctx.envelopes.validate_xml(xml)
    response = _response("ValidatePhytoXML")
    write_validation_results(response, results)
    return response


# ------------------------------------------------------------------------------------ participants


async def get_profile(ctx: OperationContext, request: etree._Element) -> etree._Element:
    _params(request)
    profile = await ctx.nppos.profile(ctx.session, code=ctx.caller.code)
    response = _response("GetProfile")
    write_nppo(response, hub("GetProfileResult"), profile)
    return response


async def get_active_nppos(ctx: OperationContext, request: etree._Element) -> etree._Element:
    _params(request)
    profiles = await ctx.nppos.active_nppos(ctx.session)
    response = _response("GetActiveNppos")
    write_nppos(response, hub("GetActiveNpposResult"), profiles)
    return response


async def get_available_channels(ctx: OperationContext, request: etree._Element) -> etree._Element:
    _params(request)
    channels = await ctx.nppos.channels(ctx.session)
    response = _response("GetAvailableChannels")
    write_channels(response, hub("GetAvailableChannelsResult"), channels)
    return response


# ------------------------------------------------------------------------------------ code lists

#: How a CodeRow fills one field of a row type: its value as text, or None to omit the element.
Column = Callable[[CodeRow], str | None]


def _code(row: CodeRow) -> str:
    return row.code


def _lang(row: CodeRow) -> str:
    return row.lang


def _text(row: CodeRow) -> str:
    return row.text


def _active(row: CodeRow) -> str:
    return "true" if row.active else "false"


def _last_modified(row: CodeRow) -> str:
    return xs_datetime(row.last_modified)


def _last_modified_by(row: CodeRow) -> str:
    return row.last_modified_by


def _extra(column: str) -> Column:
    def value(row: CodeRow) -> str | None:
        text = row.extra.get(column)
        return text if text else None

    return value


@dataclass(frozen=True, kw_only=True, slots=True)
class CodeListLayout:
    """One Get* operation's row: element name, list, and the row type's fields in schema order."""

    list_name: str
    row_element: str
    columns: Sequence[tuple[str, Column]]
    #: Row types without a ``lang`` field get the English rows only; with every language a
    #: client could not tell a code's translations apart.
    english_only: bool = False


_BASE_NAMED: Final[Sequence[tuple[str, Column]]] = (
    ("active", _active),
    ("code", _code),
    ("lang", _lang),
    ("lastModified", _last_modified),
    ("lastModifiedBy", _last_modified_by),
    ("name", _text),
)

CODE_LISTS: Final[dict[str, CodeListLayout]] = {
    "GetStatements": CodeListLayout(
        list_name="statements",
        row_element="Statement",
        columns=(
            ("active", _active),
            ("code", _code),
            ("docTypeOnly", _extra("doc_type_only")),
            ("lang", _lang),
            ("lastModified", _last_modified),
            ("lastModifiedBy", _last_modified_by),
            ("text", _text),
        ),
    ),
    "GetAdditionalDeclarations": CodeListLayout(
        list_name="additional_declarations",
        row_element="AdditionalDeclaration",
        columns=(
            ("active", _active),
            ("additionalCode", _extra("additional_code")),
            ("code", _code),
            ("lang", _lang),
            ("lastModified", _last_modified),
            ("lastModifiedBy", _last_modified_by),
            ("optionalText", _extra("optional_text")),
            ("text", _text),
        ),
    ),
    "GetTreatmentTypes": CodeListLayout(
        list_name="treatment_types",
        row_element="TreatmentType",
        columns=(
            ("active", _active),
            ("code", _code),
            ("description", _text),
            ("lang", _lang),
            ("lastModified", _last_modified),
            ("lastModifiedBy", _last_modified_by),
            ("level", _extra("level")),
            ("parentCode", _extra("parent_code")),
        ),
    ),
    "GetIntendedUses": CodeListLayout(
        list_name="intended_uses", row_element="IntendedUse", columns=_BASE_NAMED
    ),
    "GetConditions": CodeListLayout(
        list_name="conditions", row_element="Condition", columns=_BASE_NAMED
    ),
    "GetProductDescriptions": CodeListLayout(
        list_name="product_descriptions", row_element="ProductDescription", columns=_BASE_NAMED
    ),
    "GetUnitMeasures": CodeListLayout(
        list_name="units",
        row_element="UnitMeasure",
        columns=(
            ("active", _active),
            ("code", _code),
            ("lastModified", _last_modified),
            ("lastModifiedBy", _last_modified_by),
            ("name", _text),
            ("symbol", _extra("symbol")),
            ("type", _extra("type")),
        ),
        english_only=True,
    ),
    "GetMeanOfTransports": CodeListLayout(
        list_name="transport_modes",
        row_element="MeanOfTransport",
        columns=(
            ("active", _active),
            ("lang", _lang),
            ("lastModified", _last_modified),
            ("lastModifiedBy", _last_modified_by),
            ("modeCode", _code),
            ("usedTransportMean", _extra("used_transport_mean")),
        ),
    ),
    "GetPackageTypes": CodeListLayout(
        list_name="package_types",
        row_element="PackageType",
        columns=(
            ("active", _active),
            ("code", _code),
            ("description", _text),
            ("lang", _lang),
            ("lastModified", _last_modified),
            ("lastModifiedBy", _last_modified_by),
        ),
    ),
    "GetPesticides": CodeListLayout(
        list_name="pesticides",
        row_element="Pesticide",
        columns=(
            ("active", _active),
            ("code", _code),
            ("description", _text),
            ("lastModified", _last_modified),
            ("lastModifiedBy", _last_modified_by),
        ),
        english_only=True,
    ),
}


def _code_list_handler(operation: str) -> Handler:
    layout = CODE_LISTS[operation]

    async def handle(ctx: OperationContext, request: etree._Element) -> etree._Element:
        _params(request)
        rows = ctx.codelists.rows(layout.list_name, lang="en" if layout.english_only else None)
        response = _response(operation)
        for row in rows:
            element = etree.SubElement(response, hub(layout.row_element))
            for name, column in layout.columns:
                add_text(element, name, column(row))  # unqualified: form="unqualified"
        return response

    handle.__name__ = f"get_{layout.list_name}"
    return handle


# ------------------------------------------------------------------------------------ the table

_HANDLERS: Final[dict[str, Handler]] = {
    "DeliverEnvelope": deliver_envelope,
    "ValidateAndDeliverEnvelope": validate_and_deliver_envelope,
    "DeliverPhytoEnvelope": deliver_phyto_envelope,
    "DeliverCountryResponseEnvelope": deliver_country_response_envelope,
    "GetImportEnvelopeHeaders": get_import_envelope_headers,
    "PULLSingleImportEnvelope": pull_single_import_envelope,
    "PULLImportEnvelope": pull_import_envelope,
    "AcknowledgeEnvelopeReceipt": acknowledge_envelope_receipt,
    "AdvancedAcknowledgeEnvelopeReceipt": advanced_acknowledge_envelope_receipt,
    "AcknowledgeFailedEnvelopeReceipt": acknowledge_failed_envelope_receipt,
    "GetEnvelopeTrackingInfo": get_envelope_tracking_info,
    "GetUnderDeliveryEnvelope": get_under_delivery_envelope,
    "SetTrackingInfoUpdate": set_tracking_info_update,
    "ValidatePhytoXML": validate_phyto_xml,
    "GetProfile": get_profile,
    "GetActiveNppos": get_active_nppos,
    "GetAvailableChannels": get_available_channels,
    **{name: _code_list_handler(name) for name in CODE_LISTS},
}

#: The live binding's one quirk: AdvancedAcknowledgeEnvelopeReceipt declares the soapAction of
#: a NegativeAcknowledgeEnvelopeReceipt operation that does not exist. Kept, so that clients
#: generated from our WSDL send what clients generated from the live one send.
_SOAP_ACTIONS: Final = {
    "AdvancedAcknowledgeEnvelopeReceipt": SOAP_ACTION_BASE + "NegativeAcknowledgeEnvelopeReceipt",
}

OPERATIONS: Final[dict[str, Operation]] = {
    name: Operation(
        name=name, handle=handler, soap_action=_SOAP_ACTIONS.get(name, SOAP_ACTION_BASE + name)
    )
    for name, handler in _HANDLERS.items()
}
