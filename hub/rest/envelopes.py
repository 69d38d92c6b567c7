"""Envelopes as the sender and the receiver see them: submit, pull, acknowledge, track.

Each endpoint parses, makes one `EnvelopeService` call (the same the SOAP face makes) and shapes
the answer; the rules live in the service.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response

from hub.deps import CurrentNppo, EnvelopeServiceDep, SessionDep, SigningServiceDep
from hub.envelopes import domain
from hub.envelopes.domain import TrackingState
from hub.errors import NotFound
from hub.rest import schemas
from hub.rest.body_limit import BodyLimitedRoute
from hub.rest.problems import problems

router = APIRouter(route_class=BodyLimitedRoute, tags=["envelopes"])

NumberPath = Annotated[schemas.DeliveryNumber, Path(description="The hub delivery number.")]

_XML_MEDIA_TYPES = ("application/xml", "text/xml")


@router.post(
    "/envelopes",
    status_code=201,
    summary="Submit a certificate envelope",
    description=(
        "Deliver a phytosanitary certificate (rsm:SPSCertificate) to the destination's box, and "
        "a copy to each `forwardings` code. The answer is the header with the hub delivery "
        "number and `tracking_info` (PendingDelivery), and `Location` points at its tracking. "
        "Submitting the same envelope again (same from, to, number, status and document) "
        "answers 200 with the original. A refused delivery is a 422 problem with "
        "code `delivery_refused` and nothing is stored."
    ),
    response_model=schemas.SubmittedEnvelopeHeader,
    responses={
        200: {
            "model": schemas.SubmittedEnvelopeHeader,
            "description": "Already submitted: the original.",
        },
        **problems(401, 403, 413, 422, 500),
    },
)
async def submit_envelope(
    submission: schemas.EnvelopeSubmission,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CurrentNppo,
    envelopes: EnvelopeServiceDep,
    signing: SigningServiceDep,
) -> schemas.SubmittedEnvelopeHeader:
    header = domain.EnvelopeHeader(
        from_code=submission.from_,
        to_code=submission.to,
        certificate_type=submission.certificate_type,
        certificate_status=submission.certificate_status,
        nppo_certificate_number=submission.nppo_certificate_number,
        forwardings=tuple(domain.Forwarding(code=code) for code in submission.forwardings),
    )
    accepted = await envelopes.deliver(
        session,
        caller=caller,
        header=header,
        content=submission.document,
        validate_first=submission.validate_first,
    )
    _created_or_original(request, response, accepted)
    number = accepted.header.hub_delivery_number
    seals = await signing.seals(session, [number] if number else [], known=accepted.seals)
    return schemas.SubmittedEnvelopeHeader.sealed(accepted.header, seals[0] if seals else None)


@router.post(
    "/envelopes/country-responses",
    status_code=201,
    summary="Send a country response (SPSAcknowledgement) to the exporter",
    description=(
        "The importer tells the exporter what became of a certificate it received. "
        "`from` is the importer (the caller), `to` the exporter, and the number and status "
        "those of the certificate answered. The acknowledgement waits in the exporter's box "
        "like any envelope. Same duplicate and refusal rules as submitting a certificate."
    ),
    response_model=schemas.EnvelopeHeader,
    responses={
        200: {"model": schemas.EnvelopeHeader, "description": "Already sent: the original."},
        **problems(401, 403, 413, 422, 500),
    },
)
async def send_country_response(
    submission: schemas.CountryResponseSubmission,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CurrentNppo,
    envelopes: EnvelopeServiceDep,
) -> schemas.EnvelopeHeader:
    header = domain.EnvelopeHeader(
        from_code=submission.from_,
        to_code=submission.to,
        certificate_type=submission.certificate_type,
        certificate_status=submission.certificate_status,
        nppo_certificate_number=submission.nppo_certificate_number,
    )
    accepted = await envelopes.deliver_country_response(
        session, caller=caller, header=header, acknowledgement=submission.acknowledgement
    )
    _created_or_original(request, response, accepted)
    return schemas.EnvelopeHeader.of(accepted.header)


@router.get(
    "/envelopes/{number}",
    name="pull_envelope",
    summary="Pull one envelope from the caller's box",
    description=(
        "Download an envelope waiting in the caller's box, as JSON with the document in "
        "`content`; with `Accept: application/xml` the answer is the document itself, with "
        "the header in `Hub-*` response headers and a `Link` to the hub's seal. Pulling does not "
        "remove the envelope: it stays listed until acknowledged."
    ),
    response_model=schemas.Envelope,
    responses={
        200: {
            "content": {"application/xml": {"schema": {"type": "string"}}},
            "description": "The envelope (JSON) or its document (XML).",
        },
        **problems(401, 404, 422, 500),
    },
)
async def pull_envelope(
    number: NumberPath,
    request: Request,
    session: SessionDep,
    caller: CurrentNppo,
    envelopes: EnvelopeServiceDep,
    signing: SigningServiceDep,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Any:
    envelope = await envelopes.pull_one(session, caller=caller, delivery_number=number)
    if wants_xml(accept):
        header = envelope.header
        return Response(
            content=envelope.content,
            media_type="application/xml",
            headers={
                "Hub-Delivery-Number": header.hub_delivery_number or "",
                "Hub-From": header.from_code,
                "Hub-To": header.to_code,
                "Hub-Certificate-Type": str(header.certificate_type),
                "Hub-Certificate-Status": str(header.certificate_status),
                "Hub-Tracking-Info": str(header.tracking_info or ""),
                "Hub-Envelope-Kind": envelope.kind.value,
                "Link": f'<{request.url_for("envelope_seal", number=number)}>; rel="seal"',
            },
        )
    seals = await signing.seals(session, [number])
    return schemas.Envelope.of(envelope, seal=seals[0] if seals else None)


@router.post(
    "/envelopes/{number}/acknowledgement",
    summary="Acknowledge a pulled envelope",
    description=(
        "Say what became of an envelope from the caller's box: `ok` (Delivered), "
        "`with_warnings` (DeliveredWithWarnings, `message` lists them) or `failed` "
        "(DeliveredNotReadable, `message` says why). A final state cannot change; repeating "
        "the same acknowledgement is harmless."
    ),
    response_model=schemas.EnvelopeHeader,
    responses=problems(401, 404, 409, 413, 422, 500),
)
async def acknowledge_envelope(
    number: NumberPath,
    acknowledgement: schemas.Acknowledgement,
    session: SessionDep,
    caller: CurrentNppo,
    envelopes: EnvelopeServiceDep,
) -> schemas.EnvelopeHeader:
    header = await envelopes.acknowledge_as(
        session,
        caller=caller,
        request=acknowledgement.of_envelope(number),
    )
    return schemas.EnvelopeHeader.of(header)


@router.get(
    "/envelopes/{number}/tracking",
    name="track_envelope",
    summary="Track an envelope the caller sent",
    description="The envelope's current header and state, as its sender sees it.",
    response_model=schemas.EnvelopeHeader,
    responses=problems(401, 404, 422, 500),
)
async def track_envelope(
    number: NumberPath, session: SessionDep, caller: CurrentNppo, envelopes: EnvelopeServiceDep
) -> schemas.EnvelopeHeader:
    header = await envelopes.tracking_info(session, caller=caller, delivery_number=number)
    if header.tracking_info is TrackingState.ENVELOPE_NOT_EXISTS:
        raise NotFound(f"no envelope {number} sent by {caller.code}", field="number")
    return schemas.EnvelopeHeader.of(header)


@router.get(
    "/envelopes/{number}/history",
    summary="An envelope's history",
    description="Every event of the envelope, oldest first; visible to its sender and receiver.",
    response_model=list[schemas.HistoryEntry],
    responses=problems(401, 404, 422, 500),
)
async def envelope_history(
    number: NumberPath, session: SessionDep, caller: CurrentNppo, envelopes: EnvelopeServiceDep
) -> list[schemas.HistoryEntry]:
    entries = await envelopes.history(session, caller=caller, delivery_number=number)
    return [schemas.HistoryEntry.model_validate(entry) for entry in entries]


@router.get(
    "/sent",
    summary="Envelopes the caller sent that are not finished",
    description=(
        "The caller's envelopes still waiting for the receiver (PendingDelivery), oldest first."
    ),
    response_model=list[schemas.EnvelopeHeader],
    responses=problems(401, 422, 500),
)
async def sent_envelopes(
    session: SessionDep,
    caller: CurrentNppo,
    envelopes: EnvelopeServiceDep,
    state: Annotated[
        Literal["pending"], Query(description="Only unfinished envelopes are listed for now.")
    ] = "pending",
) -> list[schemas.EnvelopeHeader]:
    headers = await envelopes.under_delivery(session, caller=caller)
    return [schemas.EnvelopeHeader.of(header) for header in headers]


def wants_xml(accept: str | None) -> bool:
    """True when the Accept header ranks an XML media type above JSON.

    A media type named exactly beats a wildcard of the same quality; JSON is the default.
    """
    if not accept:
        return False
    xml_q = json_q = wildcard_q = 0.0
    json_named = False
    for item in accept.split(","):
        media, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        if media in _XML_MEDIA_TYPES:
            xml_q = max(xml_q, quality)
        elif media == "application/json":
            json_q, json_named = max(json_q, quality), True
        elif media in ("*/*", "application/*"):
            wildcard_q = max(wildcard_q, quality)
    rival = json_q if json_named else wildcard_q
    return xml_q > rival or (xml_q > 0 and xml_q == rival and not json_named)


def _created_or_original(request: Request, response: Response, accepted: domain.Submission) -> None:
    """201 with Location for a new envelope; 200 when the service answered with an earlier one."""
    number = accepted.header.hub_delivery_number
    if accepted.created and number is not None:
        response.headers["Location"] = _tracking_url(request, number)
    else:
        response.status_code = 200


_TRACKING_PLACEHOLDER = "0" * 8 + "-0000-4000-8000-" + "0" * 12


def _tracking_url(request: Request, number: str) -> str:
    """``request.url_for("track_envelope", number=number)``, with the route looked up once per
    app: the lookup walks every route and cost 2 % of the hub's CPU in the exchange benchmark."""
    state = request.app.state
    template: str | None = getattr(state, "tracking_url_template", None)
    if template is None:
        template = str(request.app.url_path_for("track_envelope", number=_TRACKING_PLACEHOLDER))
        state.tracking_url_template = template
    path = template.replace(_TRACKING_PLACEHOLDER, number)
    return f"{str(request.base_url).rstrip('/')}{path}"
