"""Console plumbing: templates, the signed-in operator, CSRF, flash messages, security headers.

Pages are server-rendered HTML without scripts, so they work in any browser and on a slow link.
Forms carry the session's synchronizer token (`csrf_token`); the login form, before there is a
session, a double-submit cookie. Cookies are HttpOnly, SameSite=Strict and scoped to /operator.
"""

import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from ephyto_core._errors import EphytoError
from hub.database import unit_of_work
from hub.errors import HubError
from hub.operators import accounts
from hub.operators.accounts import SignedIn
from hub.operators.actions import OperatorActions
from hub.operators.audit import Actor
from hub.operators.control import DeliveryControl
from hub.operators.overview import age
from hub.operators.registry import RegistryAdmin
from hub.operators.settings import OperatorSettings
from hub.runtime import HubRuntime

PREFIX = "/operator"
SESSION_COOKIE = "ephyto_operator"
LOGIN_COOKIE = "ephyto_operator_login"
FLASH_COOKIE = "ephyto_operator_flash"
CSRF_FIELD = "csrf_token"
#: Forms are a few fields; certificate uploads are a few KiB. Anything larger is not a console
#: request.
MAX_FORM_BYTES = 256 * 1024

_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters["age"] = age


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_templates.filters["when"] = _when


class NotSignedIn(Exception):
    """Raised by `signed_in_operator`; the app turns it into a redirect to the login page."""

    def __init__(self, target: str) -> None:
        self.target = target


class CsrfRejected(Exception):
    pass


def runtime_of(request: Request) -> HubRuntime:
    runtime: HubRuntime = request.app.state.runtime
    return runtime


def settings_of(request: Request) -> OperatorSettings:
    settings: OperatorSettings = request.app.state.operator_settings
    return settings


def control_of(request: Request) -> DeliveryControl:
    control: DeliveryControl = request.app.state.delivery_control
    return control


def actions_of(request: Request) -> OperatorActions:
    return OperatorActions(control=control_of(request))


def registry_of(request: Request) -> RegistryAdmin:
    return RegistryAdmin(nppos=runtime_of(request).nppos)


async def signed_in_operator(request: Request, session: AsyncSession) -> SignedIn:
    operator = await accounts.signed_in(session, token=request.cookies.get(SESSION_COOKIE))
    if operator is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise NotSignedIn(target)
    return operator


async def form_of(request: Request) -> FormData:
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        raise HubError(f"a console form is at most {MAX_FORM_BYTES // 1024} KiB", field="body")
    return await request.form()


def check_csrf(operator: SignedIn, form: Mapping[str, Any]) -> None:
    submitted = form.get(CSRF_FIELD)
    if not isinstance(submitted, str) or not hmac.compare_digest(submitted, operator.csrf_token):
        raise CsrfRejected()


def text_field(form: Mapping[str, Any], name: str, *, max_length: int = 2000) -> str:
    value = form.get(name)
    return value.strip()[:max_length] if isinstance(value, str) else ""


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    operator: SignedIn | None,
    status_code: int = 200,
) -> HTMLResponse:
    flash = _read_flash(request)
    html = _templates.get_template(template).render(
        {
            **context,
            "operator": operator,
            "csrf_token": operator.csrf_token if operator else None,
            "flash": flash,
            "prefix": PREFIX,
            "path": request.url.path,
        }
    )
    response = HTMLResponse(html, status_code=status_code)
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path=PREFIX)
    return secure(response)


R = TypeVar("R", bound=Response)


def secure(response: R) -> R:
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect(request: Request, target: str, *, flash: tuple[str, str] | None = None) -> Response:
    """303 to `target` (a console path), carrying a one-time message ("ok"|"error", text)."""
    response = RedirectResponse(target, status_code=303)
    if flash is not None:
        kind, message = flash
        response.set_cookie(
            FLASH_COOKIE,
            quote(f"{kind}:{message[:600]}"),
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=settings_of(request).secure_cookies,
            max_age=60,
        )
    return secure(response)


def _read_flash(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    kind, _, message = unquote(raw).partition(":")
    return (kind if kind in ("ok", "error") else "error", message)


Work = Callable[[AsyncSession, SignedIn, Mapping[str, Any]], Awaitable[str]]


async def act(request: Request, work: Work, *, back: str) -> Response:
    """Run one operator action from a POSTed form in its own transaction, then go `back` with
    the outcome. A refusal (no reason, second operator needed, a push under way, ...) rolls back
    and is shown; it is never a 500."""
    runtime = runtime_of(request)
    form: FormData | None = None
    try:
        form = await form_of(request)
        async with unit_of_work(runtime.sessionmaker) as session:
            operator = await signed_in_operator(request, session)
            check_csrf(operator, form)
            message = await work(session, operator, form)
    except NotSignedIn:
        return redirect(request, f"{PREFIX}/login")
    except CsrfRejected:
        return redirect(
            request, back, flash=("error", "the form had expired; nothing was done, try again")
        )
    except EphytoError as exc:
        return redirect(request, back, flash=("error", exc.message))
    finally:
        if form is not None:
            await form.close()  # uploaded files are spooled to temporary files
    return redirect(request, back, flash=("ok", message))


def actor(operator: SignedIn) -> Actor:
    return Actor(username=operator.username, channel="console")


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)
