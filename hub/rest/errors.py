"""Every failure as RFC 9457 problem details (`application/problem+json`).

One shape for all of them: `{type, title, status, detail, code, field, instance}`, plus `errors`
when a request had several invalid fields. The rules:

- `HubError` -> its own `status` and `code`; other `EphytoError`s (unsafe or malformed XML, bad
  content encoding) -> 400 with their `code`. Field names of the SOAP contract (`From`,
  `NPPOCertificateNumber`, ...) are given back as the REST names (`from`, ...); document paths
  (`/rsm:SPSCertificate/...`) are kept.
- Request validation -> 422 `invalid_request`, naming the field from its location and the
  reason in plain words.
- Unknown route -> 404, wrong method -> 405 (with `Allow`), other HTTP errors -> their status.
- The database unreachable just now (restarting, a lost connection, a pool busy for too long) ->
  503 `database_unavailable` with `Retry-After`: nothing was committed.
- Anything else -> 500 `internal_error`, logged with its traceback, none of which is sent.
"""

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ephyto_core._errors import EphytoError
from hub.database import database_unavailable
from hub.errors import HubError
from hub.rest.schemas import Problem, ProblemError

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

#: The SOAP contract's names for header fields, and what the REST face calls them.
_REST_FIELD_NAMES = {
    "From": "from",
    "To": "to",
    "CertificateType": "certificate_type",
    "CertificateStatus": "certificate_status",
    "NPPOCertificateNumber": "nppo_certificate_number",
    "Forwardings": "forwardings",
    "Content": "content",
    "SPSAcknowledgement": "acknowledgement",
    "hubTrackingNumber": "number",
    "hubDeliveryNumber": "number",
    "warningMessage": "message",
}

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        # ASCII escapes: a detail quoting odd input can never fail to encode.
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    detail: str,
    field: str | None = None,
    errors: Sequence[ProblemError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProblemResponse:
    problem = _problem(
        status=status,
        code=code,
        detail=detail,
        field=field,
        instance=request.url.path,
        errors=list(errors) if errors is not None else None,
    )
    return ProblemResponse(
        problem.model_dump(exclude_none=True), status_code=status, headers=headers
    )


def problem_of(error: HubError, *, instance: str) -> Problem:
    """A refusal as problem details, for answers that carry several (batches)."""
    return _problem(
        status=error.status,
        code=error.code,
        detail=error.message,
        field=rest_field_name(error.field),
        instance=instance,
    )


def _problem(
    *,
    status: int,
    code: str,
    detail: str,
    field: str | None,
    instance: str,
    errors: list[ProblemError] | None = None,
) -> Problem:
    return Problem(
        type=f"urn:ephyto:problem:{code}",
        title=code.replace("_", " ").capitalize(),
        status=status,
        detail=detail,
        code=code,
        field=field,
        instance=instance,
        errors=errors,
    )


def rest_field_name(field: str | None) -> str | None:
    if field is None:
        return None
    return _REST_FIELD_NAMES.get(field, field)


async def _ephyto_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, EphytoError)
    status = exc.status if isinstance(exc, HubError) else 400
    return problem_response(
        request, status=status, code=exc.code, detail=exc.message, field=rest_field_name(exc.field)
    )


async def _request_validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_plain_words(error) for error in exc.errors()]
    first = problems[0] if problems else ProblemError(field=None, reason="the request is invalid")
    detail = f"{first.field}: {first.reason}" if first.field else first.reason
    if len(problems) > 1:
        detail += f" (and {len(problems) - 1} more problem(s), see errors)"
    return problem_response(
        request,
        status=422,
        code="invalid_request",
        detail=detail,
        field=first.field,
        errors=problems if len(problems) > 1 else None,
    )


async def _http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    phrase = _phrase(status)
    code = _HTTP_CODES.get(status, phrase.lower().replace(" ", "_").replace("-", "_"))
    if status == 404 and exc.detail == phrase:
        detail = f"there is no endpoint {request.url.path}"
    elif status == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{request.method} is not allowed on {request.url.path}" + (
            f"; allowed: {allowed}" if allowed else ""
        )
    else:
        detail = str(exc.detail)
    return problem_response(request, status=status, code=code, detail=detail, headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> ProblemResponse:
    if database_unavailable(exc):
        # Not a bug: PostgreSQL is restarting, a connection was lost or the pool stayed busy.
        # Nothing was committed; say so and when to try again.
        log.warning("database unavailable in %s %s: %r", request.method, request.url.path, exc)
        return problem_response(
            request,
            status=503,
            code="database_unavailable",
            detail="the hub could not reach its database; nothing was stored, send the same "
            "request again shortly",
            headers={"Retry-After": "1"},
        )
    # Starlette re-raises after this response is sent, so the server logs the traceback too;
    # this line ties the traceback to the request that caused it.
    log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        status=500,
        code="internal_error",
        detail="the hub failed to handle this request; the error has been logged",
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _location(loc: Sequence[int | str]) -> str | None:
    """`("body", "forwardings", 0)` -> `forwardings[0]`; `("query", "lang")` -> `lang`."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or None


def _plain_words(error: Mapping[str, Any]) -> ProblemError:
    kind = error.get("type", "")
    loc = tuple(error.get("loc", ()))
    ctx = error.get("ctx") or {}
    if kind == "json_invalid":
        position = f" at character {loc[1]}" if len(loc) > 1 else ""
        reason = ctx.get("error", "syntax error")
        return ProblemError(field=None, reason=f"the body is not valid JSON: {reason}{position}")
    field = _location(loc)
    if kind == "missing":
        return ProblemError(field=field, reason="is required" if field else "a body is required")
    if field is None and kind in ("model_attributes_type", "dict_type"):
        return ProblemError(
            field=None, reason="the body must be a JSON object (Content-Type: application/json)"
        )
    if kind == "extra_forbidden":
        return ProblemError(field=field, reason="is not a field of this request")
    if kind == "value_error" and "error" in ctx:
        return ProblemError(field=field, reason=str(ctx["error"]))
    return ProblemError(field=field, reason=str(error.get("msg", "is invalid")))


Handler = Callable[[Request, Exception], Any]

_HANDLERS: dict[type[Exception], Handler] = {
    EphytoError: _ephyto_error,
    RequestValidationError: _request_validation_error,
    StarletteHTTPException: _http_error,
    Exception: _unexpected_error,
}


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error as problem+json, and say so in the OpenAPI document."""
    for exc_class, handler in _HANDLERS.items():
        app.add_exception_handler(exc_class, handler)
    _document_problem_media_type(app)


def _document_problem_media_type(app: FastAPI) -> None:
    """FastAPI lists every response model under application/json; problems are not."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    json_body = content.get("application/json", {})
                    if json_body.get("schema", {}).get("$ref", "").endswith("/Problem"):
                        content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
