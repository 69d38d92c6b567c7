"""The GeNS ASGI application: one factory, server-rendered pages, a hub client."""

from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from generic_national_system.accounts import admin_endpoints
from generic_national_system.accounts import endpoints as account_endpoints
from generic_national_system.certificates import endpoints as certificate_endpoints
from generic_national_system.deps import render, require_csrf
from generic_national_system.documents import endpoints as document_endpoints
from generic_national_system.errors import GensError, LoginRequired, NotFound
from generic_national_system.imports import endpoints as import_endpoints
from generic_national_system.reports import endpoints as report_endpoints
from generic_national_system.runtime import GensRuntime, build_runtime
from generic_national_system.settings import GensSettings
from generic_national_system.web.middleware import BodyLimit, SecurityHeaders
from generic_national_system.web.templating import STATIC_DIR

#: Form fields beside the largest attachment (multipart overhead, the other fields).
_FORM_OVERHEAD_BYTES = 256 * 1024


def create_app(
    settings: GensSettings | None = None,
    *,
    runtime: GensRuntime | None = None,
    hub_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build GeNS. Tests pass settings (and the hub app as `hub_transport`), never the env."""
    runtime = runtime or build_runtime(settings or GensSettings(), hub_transport=hub_transport)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await runtime.close()

    app = FastAPI(
        title="GeNS",
        summary="Generic ePhyto National System",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(require_csrf)],
    )
    app.state.runtime = runtime
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        BodyLimit, max_bytes=runtime.settings.max_attachment_bytes + _FORM_OVERHEAD_BYTES
    )
    app.mount("/static", _CachedStatic(directory=STATIC_DIR), name="static")
    for module in (
        account_endpoints,
        document_endpoints,  # before certificates: /certificates/{id}/certificate.pdf
        certificate_endpoints,
        import_endpoints,
        report_endpoints,
        admin_endpoints,
    ):
        app.include_router(module.router)
    _install_error_pages(app)
    return app


class _CachedStatic(StaticFiles):
    """The stylesheet URL carries its content hash, so browsers may keep it for a year."""

    async def get_response(self, path: str, scope: MutableMapping[str, Any]) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(GensError)
    async def gens_error(request: Request, exc: GensError) -> Response:
        if isinstance(exc, LoginRequired):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return render(request, "error.html", {"error": exc}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        error = NotFound(str(exc.detail)) if exc.status_code == 404 else GensError(str(exc.detail))
        return render(request, "error.html", {"error": error}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        # Only a hand-made URL gets here (e.g. /certificates/abc): the forms parse themselves.
        return render(request, "error.html", {"error": NotFound(str(exc))}, status_code=404)
