"""The export pages: list, create, the certificate page, its forms, and the workflow buttons.

Each endpoint parses the form, makes one service call and redirects (post/redirect/get), or
shows the form again with the messages next to the fields and what was typed.
"""

from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from generic_national_system.accounts.service import Viewer, get_tenant
from generic_national_system.audit.service import certificate_history
from generic_national_system.certificates.models import ExportCertificate
from generic_national_system.certificates.sections import (
    LINE_FIELDS,
    MAX_LINES,
    MAX_TREATMENTS,
    TREATMENT_FIELDS,
    Missing,
    Section,
    check_line,
    check_section,
    check_treatment,
    sections_for,
)
from generic_national_system.certificates.service import IssueOutcome
from generic_national_system.certificates.states import Action, State
from generic_national_system.deps import (
    CertificatesDep,
    RuntimeDep,
    SessionDep,
    ViewerDep,
    form_values,
    render,
)
from generic_national_system.errors import HubUnavailable, NotFound, PayloadTooLarge
from generic_national_system.hub_client import HubCredentialsMissing, HubRefused, Participant
from generic_national_system.i18n import N_
from generic_national_system.runtime import GensRuntime
from generic_national_system.web.forms import FieldSpec, FormResult, Message, parse_form

router = APIRouter(prefix="/certificates")

CertificateId = Annotated[int, Path(ge=1, le=2**31 - 1)]
LineNumber = Annotated[int, Path(ge=1, le=MAX_LINES)]
TreatmentNumber = Annotated[int, Path(ge=1, le=MAX_TREATMENTS)]

#: What an attachment may be: documents and scans that every importer can open.
ATTACHMENT_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
_MAGIC = {"application/pdf": b"%PDF-", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG"}

ATTACHMENT_FIELDS = (
    FieldSpec(name="description", label=N_("What the document is"), required=True, max_length=500),
)


def _see(cert: ExportCertificate, suffix: str = "") -> Response:
    return RedirectResponse(f"/certificates/{cert.id}{suffix}", status_code=303)


# ----------------------------------------------------------------------------- list and create


@router.get("")
async def list_page(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
    state: Annotated[State | None, Query()] = None,
) -> Response:
    rows = await certificates.list_for(session, viewer=viewer, state=state)
    counts = await certificates.counts(session, viewer=viewer)
    return render(
        request,
        "certificates/list.html",
        {"certificates": rows, "counts": counts, "states": list(State), "state": state},
    )


@router.post("")
async def create(
    request: Request, viewer: ViewerDep, session: SessionDep, certificates: CertificatesDep
) -> Response:
    form = await form_values(request)
    type_code = 657 if form.get("type_code") == "657" else 851
    cert = await certificates.create(session, viewer=viewer, type_code=type_code)
    return _see(cert)


# ----------------------------------------------------------------------------- certificate page


async def _destinations(
    session: SessionDep, viewer: Viewer, certificates: CertificatesDep
) -> list[Participant] | None:
    """The hub's participants to choose from; None when the hub cannot tell us now (the page
    then takes a typed code)."""
    try:
        return await certificates.destinations(session, viewer=viewer)
    except (HubUnavailable, HubRefused, HubCredentialsMissing):
        return None


def runtime_of(request: Request) -> GensRuntime:
    runtime: GensRuntime = request.app.state.runtime
    return runtime


_DESTINATION = FieldSpec(
    name="destination", label=N_("Send to (hub participant)"), required=True, max_length=16
)


async def _send(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    certificates: CertificatesDep,
    runtime: RuntimeDep,
    cert: ExportCertificate,
) -> Response:
    form = parse_form(await form_values(request), (_DESTINATION,), choices=runtime.choices)
    code = form.values["destination"].upper()
    if form.ok:
        known = await _destinations(session, viewer, certificates)
        if known is not None and code not in {p.code for p in known}:
            form.add_error("destination", N_("Choose a participant of the hub from the list."))
    if not form.ok:
        return await _refused(
            request, viewer, session, certificates, cert, form=form, failed_action=Action.SEND
        )
    await certificates.send(session, viewer=viewer, cert=cert, destination=code)
    return _see(cert)


async def _view(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    certificates: CertificatesDep,
    cert: ExportCertificate,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    draft = certificates.draft_of(cert)
    actions = certificates.allowed_actions(viewer, cert)
    destinations = None
    if Action.SEND in actions:
        destinations = await _destinations(session, viewer, certificates)
    context = {
        "cert": cert,
        "draft": draft,
        "sections": sections_for(cert.type_code, replacing=cert.replaces_id is not None),
        "attachments": await certificates.attachments(session, cert),
        "missing": certificates.missing(cert),
        "actions": actions,
        "destinations": destinations,
        "destination": cert.destination_code or cert.import_country or "",
        "responses": await runtime_of(request).imports.responses_to(session, cert),
        "can_edit": certificates.can_edit(viewer, cert),
        "history": await certificate_history(
            session, tenant_id=viewer.tenant_id, certificate_id=cert.id
        ),
        "findings": cert.findings or [],
        "replaced_number": await certificates.replaced_number(session, cert),
        "replacements": await certificates.replacements(session, cert),
        "line_fields": LINE_FIELDS,
        "treatment_fields": TREATMENT_FIELDS,
        "errors": {},
        "values": {},
        "missing_on_submit": False,
        "issue_refused": False,
        "hub_refusal": None,
        "failed_action": None,
        **extra,
    }
    return render(request, "certificates/view.html", context, status_code=status_code)


@router.get("/{certificate_id}")
async def view(
    request: Request,
    certificate_id: CertificateId,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
) -> Response:
    cert = await certificates.get(session, viewer=viewer, certificate_id=certificate_id)
    return await _view(request, viewer, session, certificates, cert)


@router.get("/{certificate_id}/content.xml")
async def content(
    certificate_id: CertificateId,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
) -> Response:
    cert = await certificates.get(session, viewer=viewer, certificate_id=certificate_id)
    if cert.content is None:
        raise NotFound(f"{cert.number} is not issued")
    return Response(
        cert.content,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{cert.number}.xml"'},
    )


# ----------------------------------------------------------------------------- sections


def _section(cert: ExportCertificate, name: str) -> Section:
    for section in sections_for(cert.type_code, replacing=cert.replaces_id is not None):
        if section.name == name:
            return section
    raise NotFound(f"no section {name!r} on a {cert.type_code} certificate")


def _defaults(fields: tuple[FieldSpec, ...]) -> dict[str, str]:
    return {spec.name: spec.default for spec in fields if spec.default}


def _form_page(
    request: Request,
    cert: ExportCertificate,
    *,
    title: str,
    fields: tuple[FieldSpec, ...],
    values: dict[str, str],
    errors: dict[str, Message],
    action: str,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    return render(
        request,
        "certificates/form.html",
        {
            "cert": cert,
            "title": title,
            "fields": fields,
            "values": values,
            "errors": errors,
            "action": action,
            "datalists": sorted(
                {spec.choices for spec in fields if spec.kind == "datalist" and spec.choices}
            ),
            "treatments": None,
            "line_number": None,
            "multipart": False,
            **extra,
        },
        status_code=status_code,
    )


async def _editable(
    certificates: CertificatesDep, session: SessionDep, viewer: Viewer, certificate_id: int
) -> ExportCertificate:
    cert = await certificates.get(session, viewer=viewer, certificate_id=certificate_id)
    # Checked before showing a form, so nobody fills in a form they cannot save.
    certificates.require_editable(viewer, cert)
    return cert


@router.get("/{certificate_id}/sections/{section}")
async def section_page(
    request: Request,
    certificate_id: CertificateId,
    section: str,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
) -> Response:
    cert = await _editable(certificates, session, viewer, certificate_id)
    spec = _section(cert, section)
    saved = certificates.draft_of(cert).section(spec.name)
    return _form_page(
        request,
        cert,
        title=spec.title,
        fields=spec.fields,
        values={**_defaults(spec.fields), **saved},
        errors={},
        action=f"/certificates/{cert.id}/sections/{spec.name}",
    )


@router.post("/{certificate_id}/sections/{section}")
async def save_section(
    request: Request,
    certificate_id: CertificateId,
    section: str,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
    runtime: RuntimeDep,
) -> Response:
    cert = await _editable(certificates, session, viewer, certificate_id)
    spec = _section(cert, section)
    result = parse_form(await form_values(request), spec.fields, choices=runtime.choices)
    check_section(spec.name, result, export_country=await _export_country(session, viewer))
    if not result.ok:
        return _form_page(
            request,
            cert,
            title=spec.title,
            fields=spec.fields,
            values=result.raw,
            errors=result.errors,
            action=f"/certificates/{cert.id}/sections/{spec.name}",
            status_code=422,
        )
    await certificates.save_section(
        session, viewer=viewer, cert=cert, section=spec.name, values=result.values
    )
    return _see(cert)


async def _export_country(session: SessionDep, viewer: Viewer) -> str:
    return (await get_tenant(session, viewer.tenant_id)).country_code


# ----------------------------------------------------------------------------- trade lines


@router.get("/{certificate_id}/lines/new")
async def new_line_page(
    request: Request,
    certificate_id: CertificateId,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
) -> Response:
    cert = await _editable(certificates, session, viewer, certificate_id)
    return _form_page(
        request,
        cert,
        title=N_("New commodity"),
        fields=LINE_FIELDS,
        values=_defaults(LINE_FIELDS),
        errors={},
        action=f"/certificates/{cert.id}/lines/new",
    )


@router.get("/{certificate_id}/lines/{line}")
async def line_page(
    request: Request,
    certificate_id: CertificateId,
    line: LineNumber,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
) -> Response:
    cert = await _editable(certificates, session, viewer, certificate_id)
    draft = certificates.draft_of(cert)
    if line > len(draft.lines):
        raise NotFound(f"no commodity {line}")
    stored = draft.lines[line - 1]
    return _form_page(
        request,
        cert,
        title=N_("Commodity"),
        fields=LINE_FIELDS,
        values=stored.values,
        errors={},
        action=f"/certificates/{cert.id}/lines/{line}",
        treatments=stored.treatments,
        line_number=line,
    )


async def _save_line(
    request: Request,
    cert: ExportCertificate,
    line: int | None,
    viewer: Viewer,
    session: SessionDep,
    certificates: CertificatesDep,
    runtime: RuntimeDep,
) -> Response:
    result = parse_form(await form_values(request), LINE_FIELDS, choices=runtime.choices)
    check_line(result)
    if not result.ok:
        draft = certificates.draft_of(cert)
        return _form_page(
            request,
            cert,
            title=N_("Commodity") if line else N_("New commodity"),
            fields=LINE_FIELDS,
            values=result.raw,
            errors=result.errors,
            action=f"/certificates/{cert.id}/lines/{line or 'new'}",
            treatments=draft.lines[line - 1].treatments if line else None,
            line_number=line,
            status_code=422,
        )
    index = await certificates.save_line(
        session,
        viewer=viewer,
        cert=cert,
        index=line - 1 if line else None,
        values=result.values,
    )
    return _see(cert, f"/lines/{index + 1}" if line is None else "")


@router.post("/{certificate_id}/lines/new")
async def create_line(
    request: Request,
    certificate_id: CertificateId,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
    runtime: RuntimeDep,
) -> Response:
    cert = await _editable(certificates, session, viewer, certificate_id)
    return await _save_line(request, cert, None, viewer, session, certificates, runtime)


@router.post("/{certificate_id}/lines/{line}")
async def update_line(
    request: Request,
    certificate_id: CertificateId,
    line: LineNumber,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
    runtime: RuntimeDep,
) -> Response:
    cert = await _editable(certificates, session, viewer, certificate_id)
    if line > len(certificates.draft_of(cert).lines):
        raise NotFound(f"no commodity {line}")
    return await _save_line(request, cert, line, viewer, session, certificates, runtime)


@router.post("/{certificate_id}/lines/{line}/delete")
async def delete_line(
    certificate_id: CertificateId,
    line: LineNumber,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
) -> Response:
    cert = await certificates.get(session, viewer=viewer, certificate_id=certificate_id)
    await certificates.delete_line(session, viewer=viewer, cert=cert, index=line - 1)
    return _see(cert)


@router.get("/{certificate_id}/lines/{line}/treatments/new")
async def new_treatment_page(
    request: Request,
    certificate_id: CertificateId,
    line: LineNumber,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
) -> Response:
    cert = await _editable(certificates, session, viewer, certificate_id)
    if line > len(certificates.draft_of(cert).lines):
        raise NotFound(f"no commodity {line}")
    return _form_page(
        request,
        cert,
        title=N_("New treatment"),
        fields=TREATMENT_FIELDS,
        values=_defaults(TREATMENT_FIELDS),
        errors={},
        action=f"/certificates/{cert.id}/lines/{line}/treatments/new",
        line_number=line,
    )


@router.post("/{certificate_id}/lines/{line}/treatments/new")
async def create_treatment(
    request: Request,
    certificate_id: CertificateId,
    line: LineNumber,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
    runtime: RuntimeDep,
) -> Response:
    cert = await _editable(certificates, session, viewer, certificate_id)
    result = parse_form(await form_values(request), TREATMENT_FIELDS, choices=runtime.choices)
    check_treatment(result)
    if not result.ok:
        return _form_page(
            request,
            cert,
            title=N_("New treatment"),
            fields=TREATMENT_FIELDS,
            values=result.raw,
            errors=result.errors,
            action=f"/certificates/{cert.id}/lines/{line}/treatments/new",
            line_number=line,
            status_code=422,
        )
    await certificates.add_treatment(
        session, viewer=viewer, cert=cert, line_index=line - 1, values=result.values
    )
    return _see(cert, f"/lines/{line}")


@router.post("/{certificate_id}/lines/{line}/treatments/{treatment}/delete")
async def delete_treatment(
    certificate_id: CertificateId,
    line: LineNumber,
    treatment: TreatmentNumber,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
) -> Response:
    cert = await certificates.get(session, viewer=viewer, certificate_id=certificate_id)
    await certificates.delete_treatment(
        session, viewer=viewer, cert=cert, line_index=line - 1, index=treatment - 1
    )
    return _see(cert, f"/lines/{line}")


# ----------------------------------------------------------------------------- attachments


@router.get("/{certificate_id}/attachments/new")
async def new_attachment_page(
    request: Request,
    certificate_id: CertificateId,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
) -> Response:
    cert = await _editable(certificates, session, viewer, certificate_id)
    return _attachment_form(request, cert, {}, {})


def _attachment_form(
    request: Request,
    cert: ExportCertificate,
    values: dict[str, str],
    errors: dict[str, Message],
    status_code: int = 200,
) -> Response:
    return _form_page(
        request,
        cert,
        title=N_("Attach a document"),
        fields=ATTACHMENT_FIELDS,
        values=values,
        errors=errors,
        action=f"/certificates/{cert.id}/attachments/new",
        multipart=True,
        status_code=status_code,
    )


@router.post("/{certificate_id}/attachments/new")
async def create_attachment(
    request: Request,
    certificate_id: CertificateId,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
    runtime: RuntimeDep,
) -> Response:
    cert = await _editable(certificates, session, viewer, certificate_id)
    form = await request.form()
    try:
        result = parse_form(
            {k: v for k, v in form.items() if isinstance(v, str)},
            ATTACHMENT_FIELDS,
            choices=runtime.choices,
        )
        upload = form.get("file")
        data, media_type, filename = b"", "", ""
        if not isinstance(upload, UploadFile) or not upload.filename:
            result.add_error("file", N_("Choose a file."))
        else:
            limit = runtime.settings.max_attachment_bytes
            data = await upload.read(limit + 1)
            if len(data) > limit:
                raise PayloadTooLarge(f"attachment over {limit} bytes")
            media_type, filename = _media_type(data), upload.filename
            if not media_type:
                result.add_error("file", N_("Attach a PDF, JPEG or PNG file."))
    finally:
        # Uploads are spooled to temporary files: release them whatever happens.
        await form.close()
    if not result.ok:
        return _attachment_form(request, cert, result.raw, result.errors, status_code=422)
    await certificates.add_attachment(
        session,
        viewer=viewer,
        cert=cert,
        filename=_safe_filename(filename, media_type),
        media_type=media_type,
        description=result.values["description"],
        content=data,
    )
    return _see(cert)


def _media_type(data: bytes) -> str:
    """The type the bytes really are (the browser's claim is not trusted)."""
    for media_type, magic in _MAGIC.items():
        if data.startswith(magic):
            return media_type
    return ""


def _safe_filename(name: str, media_type: str) -> str:
    base = PurePath(name.replace("\\", "/")).name
    cleaned = "".join(c if c.isalnum() or c in "._- " else "_" for c in base).strip() or "file"
    stem = cleaned.rsplit(".", 1)[0][:100]
    return stem + ATTACHMENT_TYPES[media_type]


@router.get("/{certificate_id}/attachments/{attachment_id}")
async def download_attachment(
    certificate_id: CertificateId,
    attachment_id: CertificateId,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
) -> Response:
    cert = await certificates.get(session, viewer=viewer, certificate_id=certificate_id)
    found = await certificates.attachment(session, cert, attachment_id)
    return Response(
        found.content,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


@router.post("/{certificate_id}/attachments/{attachment_id}/delete")
async def delete_attachment(
    certificate_id: CertificateId,
    attachment_id: CertificateId,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
) -> Response:
    cert = await certificates.get(session, viewer=viewer, certificate_id=certificate_id)
    await certificates.delete_attachment(
        session, viewer=viewer, cert=cert, attachment_id=attachment_id
    )
    return _see(cert)


# ----------------------------------------------------------------------------- workflow


_COMMENT = FieldSpec(name="comment", label=N_("Reason"), required=True, max_length=2000)


@router.post("/{certificate_id}/actions/{action}")
async def act(
    request: Request,
    certificate_id: CertificateId,
    action: Action,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
    runtime: RuntimeDep,
) -> Response:
    cert = await certificates.get(session, viewer=viewer, certificate_id=certificate_id)
    if action is Action.SUBMIT:
        missing = await certificates.submit(session, viewer=viewer, cert=cert)
        if missing:
            return await _refused(request, viewer, session, certificates, cert, missing=missing)
    elif action in (Action.RETURN, Action.WITHDRAW):
        form = parse_form(await form_values(request), (_COMMENT,), choices=runtime.choices)
        if not form.ok:
            return await _refused(
                request, viewer, session, certificates, cert, form=form, failed_action=action
            )
        comment = form.values["comment"]
        if action is Action.RETURN:
            await certificates.return_for_correction(
                session, viewer=viewer, cert=cert, comment=comment
            )
        else:
            await certificates.withdraw(session, viewer=viewer, cert=cert, reason=comment)
    elif action is Action.APPROVE:
        await certificates.approve(session, viewer=viewer, cert=cert)
    elif action is Action.ISSUE:
        outcome = await certificates.issue(session, viewer=viewer, cert=cert)
        if not outcome.issued:
            return await _refused(request, viewer, session, certificates, cert, outcome=outcome)
    elif action is Action.SEND:
        return await _send(request, viewer, session, certificates, runtime, cert)
    elif action is Action.REFRESH:
        try:
            await certificates.refresh(session, viewer=viewer, cert=cert)
        except HubRefused as refusal:
            return await _refused(request, viewer, session, certificates, cert, hub=refusal)
    elif action is Action.REPLACE:
        new = await certificates.replace(session, viewer=viewer, cert=cert)
        return _see(new)
    return _see(cert)


async def _refused(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    certificates: CertificatesDep,
    cert: ExportCertificate,
    *,
    missing: list[Missing] | None = None,
    outcome: IssueOutcome | None = None,
    form: FormResult | None = None,
    hub: HubRefused | None = None,
    failed_action: Action | None = None,
) -> Response:
    """The certificate page again, saying why the action was not taken."""
    return await _view(
        request,
        viewer,
        session,
        certificates,
        cert,
        status_code=422,
        missing_on_submit=bool(missing) or bool(outcome and outcome.missing),
        issue_refused=outcome is not None and not outcome.missing,
        errors=form.errors if form else {},
        values=form.raw if form else {},
        hub_refusal=hub,
        failed_action=failed_action,
    )
