"""The hub's signed statements over REST: seals, delivery receipts, the seal certificate.

Seals and receipts answer as JSON (the document in a string) or, with ``Accept:
application/xml``, as the signed document itself: save it and run
``xmlsec1 --verify --trusted-pem <CA> seal.xml``.
"""

from typing import Annotated, Any

from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import APIRouter, Depends, Header, Path, Response

from ephyto_core._pki import fingerprint_sha256
from hub.deps import CurrentNppo, SessionDep, SigningServiceDep, get_current_nppo
from hub.rest import schemas
from hub.rest.body_limit import BodyLimitedRoute
from hub.rest.envelopes import wants_xml
from hub.rest.problems import problems

router = APIRouter(
    route_class=BodyLimitedRoute, tags=["signatures"], dependencies=[Depends(get_current_nppo)]
)

NumberPath = Annotated[schemas.DeliveryNumber, Path(description="The hub delivery number.")]
_BOTH: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/xml": {"schema": {"type": "string"}}},
        "description": "The signed document, in JSON or (Accept: application/xml) as it is.",
    }
}


@router.get(
    "/envelopes/{number}/seal",
    name="envelope_seal",
    summary="The hub's seal of an envelope",
    description=(
        "The signed statement of what the hub accepted: delivery number, header, acceptance "
        "time and the SHA-256 of the document. For the envelope's sender and its receiver."
    ),
    response_model=schemas.SignedDocument,
    responses={**_BOTH, **problems(401, 404, 422, 500)},
)
async def envelope_seal(
    number: NumberPath,
    session: SessionDep,
    caller: CurrentNppo,
    signing: SigningServiceDep,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Any:
    document = await signing.seal_for(session, caller=caller, number=number)
    return _signed(number, document, accept)


@router.get(
    "/envelopes/{number}/receipt",
    name="delivery_receipt",
    summary="The signed delivery receipt of an envelope",
    description=(
        "Proof of delivery: issued by the hub when the receiver acknowledged the envelope "
        "(plainly, with warnings, or as not readable), signed like the seal. 404 until then."
    ),
    response_model=schemas.SignedDocument,
    responses={**_BOTH, **problems(401, 404, 422, 500)},
)
async def delivery_receipt(
    number: NumberPath,
    session: SessionDep,
    caller: CurrentNppo,
    signing: SigningServiceDep,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Any:
    document = await signing.receipt_for(session, caller=caller, number=number)
    return _signed(number, document, accept)


@router.get(
    "/seal-certificate",
    summary="The hub's seal certificate",
    description="The certificate that verifies the hub's seals, receipts and evidence checkpoints.",
    response_model=schemas.SealCertificate,
    responses=problems(401, 500),
)
async def seal_certificate(signing: SigningServiceDep) -> schemas.SealCertificate:
    certificate = signing.seal_certificate
    return schemas.SealCertificate(
        subject=certificate.subject.rfc4514_string(),
        fingerprint_sha256=fingerprint_sha256(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        pem=certificate.public_bytes(Encoding.PEM).decode("ascii"),
    )


def _signed(number: str, document: bytes, accept: str | None) -> Any:
    if wants_xml(accept):
        return Response(content=document, media_type="application/xml")
    return schemas.SignedDocument(hub_delivery_number=number, document=document.decode("utf-8"))
