"""Sign in, sign out, and the user's own preferences."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from generic_national_system.accounts import service
from generic_national_system.accounts.passwords import MIN_PASSWORD_LENGTH
from generic_national_system.deps import (
    LANGUAGE_COOKIE,
    RuntimeDep,
    SessionDep,
    ViewerDep,
    form_values,
    render,
)
from generic_national_system.i18n import LANGUAGES, N_
from generic_national_system.web import csrf
from generic_national_system.web.forms import FieldSpec, Kind, Message, parse_form

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/certificates"


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/certificates", status_code=303)


@router.get("/login")
async def login_page(
    request: Request,
    next: Annotated[str | None, Query()] = None,
    lang: Annotated[str | None, Query(max_length=2)] = None,
) -> Response:
    language = lang if lang in LANGUAGES else None
    response = render(
        request,
        "login.html",
        {"next": _safe_next(next), "username": "", "error": None},
        language=language,
    )
    if language is not None:
        response.set_cookie(LANGUAGE_COOKIE, language, samesite="lax", httponly=True)
    return response


@router.post("/login")
async def login(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    form = await form_values(request)
    username, password = form.get("username", ""), form.get("password", "")
    target = _safe_next(form.get("next"))
    outcome = await service.authenticate(
        session, username=username[:64], password=password[:1024], policy=runtime.lockout
    )
    if isinstance(outcome, service.LoginRefusal):
        return render(
            request,
            "login.html",
            {"next": target, "username": username, "error": Message(outcome.value)},
            status_code=401,
        )
    token = await service.open_session(
        session, user=outcome, lifetime=runtime.settings.session_lifetime
    )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        csrf.SESSION_COOKIE,
        token,
        max_age=int(runtime.settings.session_lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=runtime.settings.secure_cookies,
    )
    response.delete_cookie(csrf.ANON_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    token = request.cookies.get(csrf.SESSION_COOKIE)
    if token:
        await service.close_session(session, token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(csrf.SESSION_COOKIE)
    return response


ACCOUNT_FIELDS = (
    FieldSpec(
        name="language", label=N_("Language"), kind=Kind.SELECT, choices="languages", required=True
    ),
    FieldSpec(
        name="current_password",
        label=N_("Current password"),
        kind=Kind.PASSWORD,
        max_length=1024,
        autocomplete="current-password",
    ),
    FieldSpec(
        name="new_password",
        label=N_("New password"),
        kind=Kind.PASSWORD,
        max_length=1024,
        autocomplete="new-password",
        hint=N_("Leave empty to keep your password."),
    ),
)


@router.get("/account")
async def account_page(request: Request, viewer: ViewerDep) -> Response:
    return render(
        request,
        "account.html",
        {"fields": ACCOUNT_FIELDS, "values": {"language": viewer.language}, "errors": {}},
    )


@router.post("/account")
async def save_account(
    request: Request, viewer: ViewerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    result = parse_form(await form_values(request), ACCOUNT_FIELDS, choices=runtime.choices)
    new = result.values["new_password"]
    if new and len(new) < MIN_PASSWORD_LENGTH:
        result.add_error(
            "new_password", N_("Use at least %(min)s characters."), min=MIN_PASSWORD_LENGTH
        )
    if new and not result.values["current_password"]:
        result.add_error("current_password", N_("Enter your current password to change it."))
    if result.ok:
        try:
            await service.set_own_preferences(
                session,
                user_id=viewer.user_id,
                language=result.values["language"],
                current_password=result.values["current_password"],
                new_password=new or None,
            )
        except service.InvalidAccountData:
            result.add_error("current_password", N_("The current password is wrong."))
    if not result.ok:
        values = {**result.raw, "current_password": "", "new_password": ""}
        return render(
            request,
            "account.html",
            {"fields": ACCOUNT_FIELDS, "values": values, "errors": result.errors},
            status_code=422,
        )
    return RedirectResponse("/account?saved=1", status_code=303)
