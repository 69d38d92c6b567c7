"""Printing (PDF of sent and received certificates) and the public authenticity check."""

import hashlib
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from generic_national_system.certificates.models import ExportCertificate
from generic_national_system.certificates.states import STATE_LABELS, State
from generic_national_system.deps import (
    CertificatesDep,
    RuntimeDep,
    SessionDep,
    ViewerDep,
    page_language,
    render,
)
from generic_national_system.documents import authenticity
from generic_national_system.documents.layout import lay_out
from generic_national_system.documents.pdf import Authenticity, render_pdf
from generic_national_system.i18n import N_, translations
from generic_national_system.runtime import GensRuntime
from generic_national_system.web.forms import FieldSpec, FormResult, Message, parse_form

router = APIRouter()

RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]

CHECK_FIELDS = (
    FieldSpec(name="n", label=N_("Hub delivery number"), required=True, max_length=40),
    FieldSpec(
        name="d",
        label=N_("SHA-256 of the certificate"),
        required=True,
        max_length=64,
        hint=N_("The 64 characters printed under the QR code."),
    ),
)


def _base_url(request: Request, runtime: GensRuntime) -> str:
    return runtime.settings.public_url or str(request.base_url)


def _pdf_response(data: bytes, name: str) -> Response:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "certificate"
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{safe}.pdf"'},
    )


@router.get("/certificates/{certificate_id}/certificate.pdf")
async def export_pdf(
    request: Request,
    certificate_id: RowId,
    viewer: ViewerDep,
    session: SessionDep,
    certificates: CertificatesDep,
    runtime: RuntimeDep,
) -> Response:
    """The export certificate as printed: DRAFT across it until it is issued."""
    cert = await certificates.get(session, viewer=viewer, certificate_id=certificate_id)
    language = page_language(request)
    gettext = translations(language).gettext
    document = await certificates.printable(session, viewer=viewer, cert=cert)
    note = None
    if State(cert.state) in (State.WITHDRAWN, State.REPLACED):
        note = gettext(STATE_LABELS[State(cert.state)])
    data = render_pdf(
        lay_out(document, runtime.code_lists, language),
        gettext=gettext,
        draft=cert.content is None,
        authenticity=_export_authenticity(request, runtime, cert),
        note=note,
        font=runtime.settings.pdf_font,
    )
    return _pdf_response(data, cert.number)


def _export_authenticity(
    request: Request, runtime: GensRuntime, cert: ExportCertificate
) -> Authenticity | None:
    if cert.content is None or not cert.hub_delivery_number or not cert.hub_seal_verified:
        return None
    digest = hashlib.sha256(cert.content).hexdigest()
    return Authenticity(
        check_url=authenticity.check_url(
            _base_url(request, runtime),
            delivery_number=cert.hub_delivery_number,
            content_sha256=digest,
        ),
        hub_delivery_number=cert.hub_delivery_number,
        content_sha256=digest,
    )


@router.get("/imports/{received_id}/certificate.pdf")
async def import_pdf(
    request: Request,
    received_id: RowId,
    viewer: ViewerDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """A received certificate as printed, with the QR code of its hub seal."""
    row = await runtime.imports.get(session, viewer=viewer, received_id=received_id)
    cert = runtime.imports.certificate(row)
    if cert is None:
        return render(
            request,
            "error.html",
            {"error": _Unprintable()},
            status_code=409,
        )
    language = page_language(request)
    check = None
    if row.seal_verified:
        check = Authenticity(
            check_url=authenticity.check_url(
                _base_url(request, runtime),
                delivery_number=row.hub_delivery_number,
                content_sha256=row.content_sha256,
            ),
            hub_delivery_number=row.hub_delivery_number,
            content_sha256=row.content_sha256,
        )
    data = render_pdf(
        lay_out(cert, runtime.code_lists, language),
        gettext=translations(language).gettext,
        draft=False,
        authenticity=check,
        font=runtime.settings.pdf_font,
    )
    return _pdf_response(data, row.nppo_certificate_number)


class _Unprintable:
    user_message = N_("This certificate could not be read, so it cannot be printed.")


@router.get("/check")
async def check_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    n: Annotated[str | None, Query(max_length=200)] = None,
    d: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Public: is the certificate with this delivery number and digest authentic?"""
    if n is None and d is None:
        return render(request, "check.html", _check_context({}, {}, None))
    result = parse_form(
        {"n": n or "", "d": (d or "").lower()}, CHECK_FIELDS, choices=runtime.choices
    )
    check_digest(result)
    if not result.ok:
        return render(
            request,
            "check.html",
            _check_context({"n": n or "", "d": d or ""}, result.errors, None),
            status_code=422,
        )
    verdict = await authenticity.check(
        session, delivery_number=result.values["n"], digest=result.values["d"]
    )
    return render(
        request,
        "check.html",
        _check_context(result.raw, {}, verdict),
        status_code=200 if verdict.authentic else 404,
    )


def check_digest(result: FormResult) -> None:
    if result.values["n"] and not authenticity.DELIVERY_NUMBER.fullmatch(result.values["n"]):
        result.add_error("n", N_("Enter the hub delivery number as printed."))
    if result.values["d"] and not authenticity.DIGEST.fullmatch(result.values["d"]):
        result.add_error("d", N_("Enter the 64 letters and digits printed after SHA-256."))


def _check_context(
    values: dict[str, str], errors: dict[str, Message], verdict: authenticity.Verdict | None
) -> dict[str, object]:
    return {"fields": CHECK_FIELDS, "values": values, "errors": errors, "verdict": verdict}
