"""The error responses each endpoint documents, all as problem+json (see `hub.rest.errors`)."""

from typing import Any

from hub.rest.schemas import Problem

_MEANING = {
    400: "The XML is unsafe or not well-formed (DTDs, entities, size or depth limits).",
    401: "No usable client certificate: missing, unregistered, expired or revoked.",
    403: "The caller may not act for the NPPO named in the request.",
    404: "Unknown, or not visible to the caller (the two look the same).",
    409: "The envelope is already in a final state that this request would change.",
    413: "The request body is larger than the hub accepts.",
    415: "The body's Content-Type is not one this endpoint reads.",
    422: "A field is missing or wrong, or the hub refused the delivery; `field` says which.",
    500: "The hub failed; nothing about the request is at fault. The error is logged.",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these statuses, each a `Problem`."""
    return {status: {"model": Problem, "description": _MEANING[status]} for status in statuses}
