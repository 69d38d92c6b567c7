"""The import pages: what was received, fetching from the hub, one received certificate laid out
like the paper form with its checks, the inspector's acknowledgement and country response."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from generic_national_system.accounts.roles import Permission
from generic_national_system.accounts.service import Viewer, get_tenant
from generic_national_system.audit.service import received_history
from generic_national_system.deps import RuntimeDep, SessionDep, ViewerDep, form_values, render
from generic_national_system.documents.layout import lay_out
from generic_national_system.hub_client import AckKind
from generic_national_system.i18n import N_
from generic_national_system.imports.models import ReceivedEnvelope
from generic_national_system.imports.service import RECEIVED, Decision, ImportService
from generic_national_system.web.forms import FieldSpec, FormResult, Kind, parse_form

router = APIRouter(prefix="/imports")

ReceivedId = Annotated[int, Path(ge=1, le=2**31 - 1)]
STATES = ("received", "acknowledged", "acknowledged_with_warnings", "not_readable")

ACK_FIELDS = (
    FieldSpec(
        name="kind", label=N_("Outcome"), kind=Kind.SELECT, choices="ack_kinds", required=True
    ),
    FieldSpec(
        name="message",
        label=N_("Warnings, or why it cannot be read"),
        kind=Kind.TEXTAREA,
        max_length=2000,
        hint=N_("Required unless the certificate was received and readable."),
    ),
)
DECISION_FIELDS = (
    FieldSpec(
        name="decision",
        label=N_("Decision"),
        kind=Kind.SELECT,
        choices="decisions",
        required=True,
    ),
    FieldSpec(
        name="reason",
        label=N_("Reason"),
        kind=Kind.TEXTAREA,
        max_length=2000,
        hint=N_("Required for a rejection; the exporting country reads it."),
    ),
)


#: The form's codes (already checked against the list) as the service's literal types.
_ACK_KINDS: dict[str, AckKind] = {"ok": "ok", "with_warnings": "with_warnings", "failed": "failed"}
_DECISIONS: dict[str, Decision] = {"accepted": "accepted", "rejected": "rejected"}


def _imports(runtime: RuntimeDep) -> ImportService:
    return runtime.imports


@router.get("")
async def list_page(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    state: Annotated[str | None, Query(max_length=32)] = None,
    new: Annotated[int | None, Query(ge=0)] = None,
    known: Annotated[int | None, Query(ge=0)] = None,
    unverified: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    imports = _imports(runtime)
    chosen = state if state in STATES else None
    rows = await imports.list_for(session, viewer=viewer, state=chosen)
    return render(
        request,
        "imports/list.html",
        {
            "rows": rows,
            "counts": await imports.counts(session, viewer=viewer),
            "states": STATES,
            "state": chosen,
            "fetched": None if new is None else {"new": new, "known": known or 0},
            "unverified": unverified or 0,
        },
    )


@router.post("/fetch")
async def fetch(viewer: ViewerDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    imports = _imports(runtime)
    imports.require(viewer, Permission.RECEIVE)
    tenant = await get_tenant(session, viewer.tenant_id)
    outcome = await imports.fetch(session, tenant=tenant, actor=viewer.username)
    return RedirectResponse(
        f"/imports?new={outcome.new}&known={outcome.known}&unverified={len(outcome.unverified)}",
        status_code=303,
    )


async def _view(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    runtime: RuntimeDep,
    row: ReceivedEnvelope,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    imports = _imports(runtime)
    cert = imports.certificate(row)
    language = viewer.language
    context = {
        "row": row,
        "paper": lay_out(cert, runtime.code_lists, language) if cert is not None else None,
        "history": await received_history(session, tenant_id=viewer.tenant_id, received_id=row.id),
        "can_acknowledge": row.state == RECEIVED,
        "can_decide": row.state in ("acknowledged", "acknowledged_with_warnings")
        and row.decision is None,
        "ack_fields": ACK_FIELDS,
        "decision_fields": DECISION_FIELDS,
        "ack_values": {"kind": "ok"},
        "decision_values": {},
        "ack_errors": {},
        "decision_errors": {},
        **extra,
    }
    return render(request, "imports/view.html", context, status_code=status_code)


@router.get("/{received_id}")
async def view(
    request: Request,
    received_id: ReceivedId,
    viewer: ViewerDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    row = await _imports(runtime).get(session, viewer=viewer, received_id=received_id)
    return await _view(request, viewer, session, runtime, row)


@router.get("/{received_id}/content.xml")
async def content(
    received_id: ReceivedId, viewer: ViewerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    row = await _imports(runtime).get(session, viewer=viewer, received_id=received_id)
    return Response(
        row.content,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{_filename(row)}.xml"'},
    )


def _filename(row: ReceivedEnvelope) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in row.nppo_certificate_number)
    return cleaned or row.hub_delivery_number


def check_acknowledgement(result: FormResult) -> None:
    if result.values["kind"] in ("with_warnings", "failed") and not result.values["message"]:
        result.add_error("message", N_("Say what the warnings are, or why it cannot be read."))


def check_decision(result: FormResult) -> None:
    if result.values["decision"] == "rejected" and not result.values["reason"]:
        result.add_error("reason", N_("Give the reason for the rejection."))


@router.post("/{received_id}/acknowledge")
async def acknowledge(
    request: Request,
    received_id: ReceivedId,
    viewer: ViewerDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    imports = _imports(runtime)
    imports.require(viewer, Permission.ACKNOWLEDGE)
    row = await imports.get(session, viewer=viewer, received_id=received_id)
    result = parse_form(await form_values(request), ACK_FIELDS, choices=runtime.choices)
    check_acknowledgement(result)
    if not result.ok:
        return await _view(
            request,
            viewer,
            session,
            runtime,
            row,
            status_code=422,
            ack_values=result.raw,
            ack_errors=result.errors,
        )
    kind = _ACK_KINDS[result.values["kind"]]
    await imports.acknowledge(
        session, viewer=viewer, row=row, kind=kind, message=result.values["message"] or None
    )
    return RedirectResponse(f"/imports/{row.id}", status_code=303)


@router.post("/{received_id}/decision")
async def decide(
    request: Request,
    received_id: ReceivedId,
    viewer: ViewerDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    imports = _imports(runtime)
    imports.require(viewer, Permission.ACKNOWLEDGE)
    row = await imports.get(session, viewer=viewer, received_id=received_id)
    result = parse_form(await form_values(request), DECISION_FIELDS, choices=runtime.choices)
    check_decision(result)
    if not result.ok:
        return await _view(
            request,
            viewer,
            session,
            runtime,
            row,
            status_code=422,
            decision_values=result.raw,
            decision_errors=result.errors,
        )
    decision = _DECISIONS[result.values["decision"]]
    await imports.decide(
        session, viewer=viewer, row=row, decision=decision, reason=result.values["reason"] or None
    )
    return RedirectResponse(f"/imports/{row.id}", status_code=303)
