"""Named dependency types, and the page renderer every endpoint uses."""

from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse

from generic_national_system.accounts.service import Viewer, viewer_for
from generic_national_system.certificates.service import CertificateService
from generic_national_system.database import unit_of_work
from generic_national_system.errors import CsrfFailed
from generic_national_system.i18n import negotiate, supported
from generic_national_system.runtime import GensRuntime
from generic_national_system.web import csrf

LANGUAGE_COOKIE = "gens_lang"


def get_runtime(request: Request) -> GensRuntime:
    runtime: GensRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[GensRuntime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    # scope="function": committed before the response goes out, so a page never reports a
    # change that then fails to commit.
    async with unit_of_work(runtime.sessionmaker) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_viewer(request: Request, session: SessionDep) -> Viewer:
    viewer = await viewer_for(session, token=request.cookies.get(csrf.SESSION_COOKIE))
    request.state.viewer = viewer  # error pages render in the viewer's language too
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def get_certificates(runtime: RuntimeDep) -> CertificateService:
    return runtime.certificates


CertificatesDep = Annotated[CertificateService, Depends(get_certificates)]


async def require_csrf(request: Request, runtime: RuntimeDep) -> None:
    """Router-wide: every state-changing request must carry this site's form token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    form = await request.form()
    submitted = form.get(csrf.FIELD)
    secret = runtime.settings.secret_key.get_secret_value()
    if not isinstance(submitted, str) or not csrf.is_valid(request, secret, submitted):
        raise CsrfFailed(f"{request.method} {request.url.path} without a valid CSRF token")


def page_language(request: Request) -> str:
    """The viewer's language; before sign-in the chosen one, else the browser's."""
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    if viewer is not None:
        return supported(viewer.language)
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen:
        return supported(chosen)
    return negotiate(request.headers.get("accept-language"))


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    language: str | None = None,
) -> HTMLResponse:
    runtime = get_runtime(request)
    return runtime.templates.render(
        request,
        name,
        context,
        language=language or page_language(request),
        status_code=status_code,
    )


async def form_values(request: Request) -> dict[str, str]:
    """The posted form's text fields (files are read by the endpoints that take them)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}
