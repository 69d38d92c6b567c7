"""Tenant administration: users and roles, the tenant's settings and credentials, the audit log."""

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from generic_national_system.accounts import service
from generic_national_system.accounts.models import Tenant
from generic_national_system.accounts.passwords import MIN_PASSWORD_LENGTH
from generic_national_system.accounts.roles import Permission, Role, can
from generic_national_system.accounts.secrets import seal
from generic_national_system.audit.service import record, tenant_log
from generic_national_system.deps import RuntimeDep, SessionDep, ViewerDep, form_values, render
from generic_national_system.errors import Forbidden, NotFound
from generic_national_system.i18n import LANGUAGES, N_
from generic_national_system.web.forms import FieldSpec, FormResult, Kind, Message, parse_form

router = APIRouter(prefix="/admin")

_USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


def _require_admin(viewer: service.Viewer) -> None:
    if not can(viewer.role, Permission.ADMINISTER):
        raise Forbidden(f"{viewer.username} is not a tenant administrator")


def user_fields(*, new: bool) -> tuple[FieldSpec, ...]:
    fields = [
        FieldSpec(name="full_name", label=N_("Full name"), required=True),
        FieldSpec(name="role", label=N_("Role"), kind=Kind.SELECT, choices="roles", required=True),
        FieldSpec(
            name="language",
            label=N_("Language"),
            kind=Kind.SELECT,
            choices="languages",
            required=True,
        ),
        FieldSpec(
            name="password",
            label=N_("Password") if new else N_("New password"),
            kind=Kind.PASSWORD,
            required=new,
            max_length=1024,
            autocomplete="new-password",
            hint=None if new else N_("Leave empty to keep the password."),
        ),
    ]
    if new:
        fields.insert(
            0,
            FieldSpec(
                name="username",
                label=N_("Username"),
                required=True,
                max_length=64,
                hint=N_("Lower-case letters, digits, dots, dashes."),
            ),
        )
    else:
        fields.append(FieldSpec(name="active", label=N_("Active"), kind=Kind.CHECKBOX))
    return tuple(fields)


def _check_password(result: FormResult) -> None:
    password = result.values.get("password", "")
    if password and len(password) < MIN_PASSWORD_LENGTH:
        result.add_error(
            "password", N_("Use at least %(min)s characters."), min=MIN_PASSWORD_LENGTH
        )


@router.get("/users")
async def users(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    _require_admin(viewer)
    rows = await service.tenant_users(session, tenant_id=viewer.tenant_id)
    return render(request, "admin/users.html", {"users": rows})


@router.get("/users/new")
async def new_user_page(request: Request, viewer: ViewerDep) -> Response:
    _require_admin(viewer)
    values = {"language": viewer.language, "role": Role.APPLICANT.value}
    return render(
        request,
        "admin/user.html",
        {"fields": user_fields(new=True), "values": values, "errors": {}, "user": None},
    )


@router.post("/users/new")
async def create_user(
    request: Request, viewer: ViewerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    _require_admin(viewer)
    fields = user_fields(new=True)
    result = parse_form(await form_values(request), fields, choices=runtime.choices)
    username = result.values["username"].lower()
    if username and not set(username) <= _USERNAME_CHARS:
        result.add_error("username", N_("Use only lower-case letters, digits, dots and dashes."))
    _check_password(result)
    if result.ok:
        try:
            await service.create_user(
                session,
                tenant_id=viewer.tenant_id,
                username=username,
                full_name=result.values["full_name"],
                role=Role(result.values["role"]),
                password=result.values["password"],
                language=result.values["language"],
                actor=viewer.username,
            )
        except service.InvalidAccountData:
            result.add_error("username", N_("This username is taken."))
    if not result.ok:
        return render(
            request,
            "admin/user.html",
            {
                "fields": fields,
                "values": {**result.raw, "password": ""},
                "errors": result.errors,
                "user": None,
            },
            status_code=422,
        )
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/users/{user_id}")
async def user_page(
    request: Request, user_id: int, viewer: ViewerDep, session: SessionDep
) -> Response:
    _require_admin(viewer)
    user = await service.tenant_user(session, tenant_id=viewer.tenant_id, user_id=user_id)
    values = {
        "full_name": user.full_name,
        "role": user.role,
        "language": user.language,
        "active": "true" if user.active else "",
    }
    return render(
        request,
        "admin/user.html",
        {"fields": user_fields(new=False), "values": values, "errors": {}, "user": user},
    )


@router.post("/users/{user_id}")
async def update_user(
    request: Request, user_id: int, viewer: ViewerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    _require_admin(viewer)
    user = await service.tenant_user(session, tenant_id=viewer.tenant_id, user_id=user_id)
    fields = user_fields(new=False)
    result = parse_form(await form_values(request), fields, choices=runtime.choices)
    _check_password(result)
    if user.id == viewer.user_id and (
        result.values["role"] != Role.ADMIN.value or result.values["active"] != "true"
    ):
        # Otherwise a tenant could lock itself out of its own administration.
        result.add_error("role", N_("You cannot remove your own administrator access."))
    if not result.ok:
        return render(
            request,
            "admin/user.html",
            {
                "fields": fields,
                "values": {**result.raw, "password": ""},
                "errors": result.errors,
                "user": user,
            },
            status_code=422,
        )
    await service.update_user(
        session,
        user=user,
        full_name=result.values["full_name"],
        role=Role(result.values["role"]),
        language=result.values["language"],
        active=result.values["active"] == "true",
        new_password=result.values["password"] or None,
        actor=viewer.username,
    )
    return RedirectResponse("/admin/users", status_code=303)


TENANT_FIELDS = (
    FieldSpec(name="name", label=N_("Name of the NPPO"), required=True),
    FieldSpec(name="place_of_issue", label=N_("Usual place of issue")),
    FieldSpec(
        name="default_language",
        label=N_("Default language"),
        kind=Kind.SELECT,
        choices="languages",
        required=True,
    ),
    *(
        FieldSpec(name=f"language_{code}", label=name, kind=Kind.CHECKBOX)
        for code, name in (("en", "English"), ("es", "Español"), ("fr", "Français"))
    ),
    FieldSpec(
        name="hub_client_cert_path",
        label=N_("Hub client certificate: file on the server"),
        max_length=500,
    ),
    FieldSpec(
        name="hub_client_key_path",
        label=N_("Hub client key: file on the server"),
        max_length=500,
    ),
    FieldSpec(
        name="hub_client_cert_pem",
        label=N_("Or: hub client certificate (PEM)"),
        kind=Kind.TEXTAREA,
        max_length=20000,
    ),
    FieldSpec(
        name="hub_client_key_pem",
        label=N_("Or: hub client key (PEM)"),
        kind=Kind.TEXTAREA,
        max_length=20000,
        hint=N_("Stored encrypted. Leave empty to keep the stored key."),
    ),
    FieldSpec(
        name="signing_cert_pem",
        label=N_("Signing certificate (PEM)"),
        kind=Kind.TEXTAREA,
        max_length=20000,
    ),
    FieldSpec(
        name="signing_key_pem",
        label=N_("Signing key (PEM)"),
        kind=Kind.TEXTAREA,
        max_length=20000,
        hint=N_("Stored encrypted. Leave empty to keep the stored key."),
    ),
)


def _tenant_values(tenant: Tenant) -> dict[str, str]:
    values = {
        "name": tenant.name,
        "place_of_issue": tenant.place_of_issue or "",
        "default_language": tenant.default_language,
        "hub_client_cert_path": tenant.hub_client_cert_path or "",
        "hub_client_key_path": tenant.hub_client_key_path or "",
        "hub_client_cert_pem": tenant.hub_client_cert_pem or "",
        "hub_client_key_pem": "",
        "signing_cert_pem": tenant.signing_cert_pem or "",
        "signing_key_pem": "",
    }
    for code in LANGUAGES:
        values[f"language_{code}"] = "true" if code in tenant.language_list else ""
    return values


@router.get("/tenant")
async def tenant_page(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    _require_admin(viewer)
    tenant = await service.get_tenant(session, viewer.tenant_id)
    return render(
        request,
        "admin/tenant.html",
        {"fields": TENANT_FIELDS, "values": _tenant_values(tenant), "errors": {}, "tenant": tenant},
    )


@router.post("/tenant")
async def save_tenant(
    request: Request, viewer: ViewerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    _require_admin(viewer)
    tenant = await service.get_tenant(session, viewer.tenant_id)
    result = parse_form(await form_values(request), TENANT_FIELDS, choices=runtime.choices)
    languages = [code for code in LANGUAGES if result.values[f"language_{code}"] == "true"]
    if not languages:
        result.add_error("language_en", N_("Offer at least one language."))
    for name in ("hub_client_cert_pem", "signing_cert_pem"):
        if result.values[name] and "BEGIN CERTIFICATE" not in result.values[name]:
            result.add_error(name, N_("Paste a PEM certificate (-----BEGIN CERTIFICATE-----)."))
    for name in ("hub_client_key_pem", "signing_key_pem"):
        if result.values[name] and "PRIVATE KEY" not in result.values[name]:
            result.add_error(name, N_("Paste a PEM private key (-----BEGIN PRIVATE KEY-----)."))
    if not result.ok:
        values = {**result.raw, "hub_client_key_pem": "", "signing_key_pem": ""}
        return render(
            request,
            "admin/tenant.html",
            {"fields": TENANT_FIELDS, "values": values, "errors": result.errors, "tenant": tenant},
            status_code=422,
        )
    v = result.values
    secret = runtime.settings.secret_key.get_secret_value()
    tenant.name = v["name"]
    tenant.place_of_issue = v["place_of_issue"] or None
    tenant.default_language = v["default_language"]
    tenant.languages = ",".join(languages)
    tenant.hub_client_cert_path = v["hub_client_cert_path"] or None
    tenant.hub_client_key_path = v["hub_client_key_path"] or None
    tenant.hub_client_cert_pem = v["hub_client_cert_pem"] or None
    tenant.signing_cert_pem = v["signing_cert_pem"] or None
    if v["hub_client_key_pem"]:
        tenant.hub_client_key_sealed = seal(v["hub_client_key_pem"].encode(), secret_key=secret)
    if v["signing_key_pem"]:
        tenant.signing_key_sealed = seal(v["signing_key_pem"].encode(), secret_key=secret)
    await session.flush()
    await record(session, tenant_id=tenant.id, actor=viewer.username, action="tenant_updated")
    return RedirectResponse("/admin/tenant?saved=1", status_code=303)


#: A logo prints on certificates and shows in settings: small is enough, and keeps pages light.
MAX_LOGO_BYTES = 100 * 1024
_LOGO_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


@router.post("/tenant/logo")
async def upload_logo(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    _require_admin(viewer)
    tenant = await service.get_tenant(session, viewer.tenant_id)
    form = await request.form()
    try:
        upload = form.get("logo")
        data = await upload.read(MAX_LOGO_BYTES + 1) if isinstance(upload, UploadFile) else b""
    finally:
        await form.close()
    media_type = next((m for m, magic in _LOGO_MAGIC.items() if data.startswith(magic)), None)
    error = None
    if len(data) > MAX_LOGO_BYTES:
        error = Message(N_("The logo must be at most %(max)s KB."), {"max": MAX_LOGO_BYTES // 1024})
    elif media_type is None:
        error = Message(N_("The logo must be a PNG or JPEG image."))
    if error is not None:
        return render(
            request,
            "admin/tenant.html",
            {
                "fields": TENANT_FIELDS,
                "values": _tenant_values(tenant),
                "errors": {"logo": error},
                "tenant": tenant,
            },
            status_code=422,
        )
    tenant.logo, tenant.logo_media_type = data, media_type
    await session.flush()
    await record(session, tenant_id=tenant.id, actor=viewer.username, action="logo_updated")
    return RedirectResponse("/admin/tenant?saved=1", status_code=303)


@router.get("/tenant/logo")
async def logo(viewer: ViewerDep, session: SessionDep) -> Response:
    """The viewer's own tenant's logo (any role: pages and printouts show it)."""
    tenant = await service.get_tenant(session, viewer.tenant_id)
    if tenant.logo is None or tenant.logo_media_type is None:
        raise NotFound(f"tenant {tenant.code} has no logo")
    return Response(tenant.logo, media_type=tenant.logo_media_type)


@router.get("/audit")
async def audit_page(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    _require_admin(viewer)
    entries = await tenant_log(session, tenant_id=viewer.tenant_id)
    return render(request, "admin/audit.html", {"entries": entries})
