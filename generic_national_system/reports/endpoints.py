"""The reports page (a GET form: the URL can be bookmarked) and its CSV."""

from datetime import date

from fastapi import APIRouter, Request
from starlette.responses import Response

from generic_national_system.accounts.roles import Permission, can
from generic_national_system.deps import RuntimeDep, SessionDep, ViewerDep, render
from generic_national_system.errors import Forbidden
from generic_national_system.i18n import N_
from generic_national_system.reports.service import (
    PAGE_ROWS,
    Direction,
    build_report,
    report_csv,
)
from generic_national_system.web.forms import FieldSpec, FormResult, Kind, parse_form

router = APIRouter()

REPORT_FIELDS = (
    FieldSpec(
        name="direction",
        label=N_("Certificates"),
        kind=Kind.SELECT,
        choices="directions",
        required=True,
        default="exports",
    ),
    FieldSpec(name="start", label=N_("From"), kind=Kind.DATE, required=True),
    FieldSpec(name="end", label=N_("To"), kind=Kind.DATE, required=True),
)


def _defaults() -> dict[str, str]:
    today = date.today()
    return {
        "direction": "exports",
        "start": today.replace(day=1).isoformat(),
        "end": today.isoformat(),
    }


def _parse(request: Request, runtime: RuntimeDep) -> FormResult:
    given = {k: v for k, v in request.query_params.items() if k in ("direction", "start", "end")}
    result = parse_form({**_defaults(), **given}, REPORT_FIELDS, choices=runtime.choices)
    if result.ok and date.fromisoformat(result.values["end"]) < date.fromisoformat(
        result.values["start"]
    ):
        result.add_error("end", N_("The end date cannot be before the start date."))
    return result


def _direction(value: str) -> Direction:
    return "imports" if value == "imports" else "exports"


@router.get("/reports")
async def report_page(
    request: Request, viewer: ViewerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    if not can(viewer.role, Permission.REPORT):
        raise Forbidden(f"{viewer.role} cannot read reports")
    result = _parse(request, runtime)
    context: dict[str, object] = {
        "fields": REPORT_FIELDS,
        "values": result.raw,
        "errors": result.errors,
        "report": None,
        "page_rows": PAGE_ROWS,
    }
    if not result.ok:
        return render(request, "reports.html", context, status_code=422)
    context["report"] = await build_report(
        session,
        tenant_id=viewer.tenant_id,
        direction=_direction(result.values["direction"]),
        start=date.fromisoformat(result.values["start"]),
        end=date.fromisoformat(result.values["end"]),
    )
    context["csv_query"] = request.url.query
    return render(request, "reports.html", context)


@router.get("/reports.csv")
async def report_csv_file(
    request: Request, viewer: ViewerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    if not can(viewer.role, Permission.REPORT):
        raise Forbidden(f"{viewer.role} cannot read reports")
    result = _parse(request, runtime)
    if not result.ok:
        return await report_page(request, viewer, session, runtime)
    values = result.values
    report = await build_report(
        session,
        tenant_id=viewer.tenant_id,
        direction=_direction(values["direction"]),
        start=date.fromisoformat(values["start"]),
        end=date.fromisoformat(values["end"]),
    )
    name = f"{viewer.tenant_code}-{values['direction']}-{values['start']}-{values['end']}.csv"
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
