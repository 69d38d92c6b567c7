"""Validate a certificate without sending it (the contract's ValidatePhytoXML)."""

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from hub.deps import EnvelopeServiceDep, get_current_nppo
from hub.rest import schemas
from hub.rest.body_limit import BodyLimitedRoute
from hub.rest.problems import problems

router = APIRouter(route_class=BodyLimitedRoute, tags=["validation"])

_XML_TYPES = ("application/xml", "text/xml")

_BODY_DOCUMENTATION: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": 'The certificate: the XML document itself, or JSON `{"xml": "..."}`.',
        "content": {
            "application/xml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/ValidationRequest"}},
        },
    }
}


@router.post(
    "/validation",
    summary="Validate a certificate",
    description=(
        "Check an rsm:SPSCertificate the way the hub checks a submission: the profile schema "
        "(`Schema`), what ISPM 12 requires (`MandatoryElements`) and code-list membership "
        "(`Mapping`). Every finding has a `level`; the hub refuses documents with a SEVERE one. "
        "A document that cannot be parsed safely is a single SEVERE `Schema` finding, not an "
        "error. An empty list means the certificate is valid."
    ),
    response_model=list[schemas.ValidationFinding],
    responses=problems(401, 413, 415, 422, 500),
    openapi_extra=_BODY_DOCUMENTATION,
    dependencies=[Depends(get_current_nppo)],
)
async def validate_certificate(
    request: Request, envelopes: EnvelopeServiceDep
) -> list[schemas.ValidationFinding]:
    xml = await _document_from(request)
    # Off the event loop (the validator is thread-safe): a 1,000-line certificate (3.3 MB)
    # takes ~150 ms to validate, and the limit allows five times that size; every other
    # request would wait meanwhile.
    results = await to_thread.run_sync(envelopes.validate_xml, xml)
    return [schemas.ValidationFinding.model_validate(result) for result in results]


async def _document_from(request: Request) -> str | bytes:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    body = await request.body()
    if media_type in _XML_TYPES:
        return body
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            return schemas.ValidationRequest.model_validate_json(body).xml
        except ValidationError as exc:
            errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
            raise RequestValidationError(errors) from None
    raise HTTPException(
        status_code=415,
        detail=f'send the certificate as application/xml or as JSON {{"xml": ...}}, '
        f"not {media_type or 'a body without Content-Type'}",
    )
