"""The operator console's pages and form actions, mounted at /operator."""

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from cryptography import x509
from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import unit_of_work, utcnow
from hub.envelopes.domain import TrackingState
from hub.errors import InvalidRequest, NotFound
from hub.nppos import repository as nppo_repository
from hub.nppos.domain import Direction, RuleType
from hub.observability import state
from hub.operators import accounts, audit, overview, repository
from hub.operators.accounts import SignedIn
from hub.operators.web import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    NotSignedIn,
    act,
    actions_of,
    actor,
    control_of,
    form_of,
    new_login_nonce,
    redirect,
    registry_of,
    render,
    runtime_of,
    settings_of,
    signed_in_operator,
    text_field,
)
from hub.signing import repository as signing_repository
from hub.signing.expiry import certificate_expiries

router = APIRouter(include_in_schema=False)

STATES = [s.value for s in TrackingState if s is not TrackingState.ENVELOPE_NOT_EXISTS]
MAX_CERTIFICATE_BYTES = 64 * 1024


# ------------------------------------------------------------------------------- sign in / out


@router.get("/login")
async def login_page(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    nonce = new_login_nonce()
    response = render(
        request,
        "login.html",
        {"nonce": nonce, "next": _safe_next(next), "error": None, "username": ""},
        operator=None,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=settings_of(request).secure_cookies,
        max_age=3600,
    )
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    form = await form_of(request)
    username = text_field(form, "username", max_length=64)
    password = form.get("password")
    password = password[:1024] if isinstance(password, str) else ""
    target = _safe_next(text_field(form, "next"))
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    submitted = text_field(form, "nonce")
    await form.close()
    if not nonce or not hmac.compare_digest(nonce, submitted):
        return redirect(request, f"{PREFIX}/login", flash=("error", "the sign-in form expired"))
    runtime, settings = runtime_of(request), settings_of(request)
    async with unit_of_work(runtime.sessionmaker) as session:
        operator = await accounts.authenticate(session, username=username, password=password)
        opened = (
            await accounts.open_session(
                session, operator=operator, lifetime=settings.session_lifetime
            )
            if operator is not None
            else None
        )
    if opened is None:
        return render(
            request,
            "login.html",
            {
                "nonce": nonce,
                "next": target,
                "error": "Unknown username or wrong password.",
                "username": username,
            },
            operator=None,
            status_code=401,
        )
    response = redirect(request, target)
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        max_age=int(settings.session_lifetime.total_seconds()),
    )
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    async def work(session: AsyncSession, _op: SignedIn, _form: Mapping[str, Any]) -> str:
        await accounts.close_session(session, token=request.cookies.get(SESSION_COOKIE, ""))
        return "signed out"

    response = await act(request, work, back=f"{PREFIX}/login")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


def _safe_next(target: str | None) -> str:
    """Only a console path: never an open redirect."""
    if target and target.startswith(PREFIX + "/") and "//" not in target and "\\" not in target:
        return target
    return PREFIX + "/"


# ------------------------------------------------------------------------------- pages


@router.get("/")
async def dashboard(request: Request) -> Response:
    runtime = runtime_of(request)
    async with unit_of_work(runtime.sessionmaker) as session:
        operator = await signed_in_operator(request, session)
        now = utcnow()
        rows = await overview.destinations(session, control=control_of(request), now=now)
        pending = await actions_of(request).list_pending(session)
        expiring = [
            e
            for e in await certificate_expiries(
                session, now=now, hub_certificates=_hub_certificates(request)
            )
            if e.status.needs_attention
        ]
        failures = await repository.recent_failures(session, limit=10)
    return render(
        request,
        "dashboard.html",
        {
            "rows": rows,
            "pending": pending,
            "expiring": expiring,
            "failures": failures,
            "now": now,
        },
        operator=operator,
    )


@router.get("/destinations/{code}")
async def destination(request: Request, code: str) -> Response:
    runtime = runtime_of(request)
    code = code.upper()
    async with unit_of_work(runtime.sessionmaker) as session:
        operator = await signed_in_operator(request, session)
        now = utcnow()
        rows = [
            r
            for r in await overview.destinations(session, control=control_of(request), now=now)
            if r.code == code
        ]
        if not rows:
            raise NotFound(f"no destination {code}", field="code")
        waiting = await repository.waiting_in_box(session, box_code=code)
        retrying = await repository.retrying_pushes(session, box_code=code, now=now)
        failures = await overview.failures(session, box_code=code)
        log = await audit.entries(session, target=code, limit=20)
    return render(
        request,
        "destination.html",
        {
            "row": rows[0],
            "waiting": waiting,
            "retrying": retrying,
            "failures": failures,
            "audit": log,
            "now": now,
        },
        operator=operator,
    )


@router.post("/destinations/{code}/pause")
async def pause(request: Request, code: str) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        result = await actions_of(request).pause(
            session, actor=actor(op), destination=code, reason=text_field(form, "reason")
        )
        return result.message

    return await act(request, work, back=f"{PREFIX}/destinations/{code.upper()}")


@router.post("/destinations/{code}/resume")
async def resume(request: Request, code: str) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        result = await actions_of(request).resume(
            session, actor=actor(op), destination=code, reason=text_field(form, "reason")
        )
        return result.message

    return await act(request, work, back=f"{PREFIX}/destinations/{code.upper()}")


@router.get("/envelopes")
async def search(
    request: Request,
    number: str | None = None,
    certificate: str | None = None,
    from_code: Annotated[str | None, Query(alias="from")] = None,
    to_code: Annotated[str | None, Query(alias="to")] = None,
    box: str | None = None,
    state_filter: Annotated[str | None, Query(alias="state")] = None,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    runtime = runtime_of(request)
    error = None
    criteria = None
    try:
        criteria = repository.SearchCriteria(
            number=number or None,
            certificate_number=certificate or None,
            from_code=from_code or None,
            to_code=to_code or None,
            box_code=box or None,
            state=state_filter if state_filter in STATES else None,
            since=_moment(since, "since"),
            until=_moment(until, "until"),
        )
    except InvalidRequest as exc:
        error = exc.message
    async with unit_of_work(runtime.sessionmaker) as session:
        operator = await signed_in_operator(request, session)
        searched = criteria is not None and any(
            (number, certificate, from_code, to_code, box, state_filter, since, until)
        )
        results = await repository.search(session, criteria) if criteria and searched else []
    return render(
        request,
        "envelopes.html",
        {
            "results": results,
            "searched": searched,
            "states": STATES,
            "error": error,
            "query": {
                "number": number or "",
                "certificate": certificate or "",
                "from": from_code or "",
                "to": to_code or "",
                "box": box or "",
                "state": state_filter or "",
                "since": since or "",
                "until": until or "",
            },
        },
        operator=operator,
    )


def _moment(value: str | None, name: str) -> datetime | None:
    """`2026-11-25` or `2026-11-25T10:00` (UTC)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidRequest(
            f"{name}: {value!r} is not a date like 2026-11-25T10:00", field=name
        ) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@router.get("/envelopes/{number}")
async def envelope(request: Request, number: str) -> Response:
    runtime = runtime_of(request)
    async with unit_of_work(runtime.sessionmaker) as session:
        operator = await signed_in_operator(request, session)
        record = await repository.by_number(session, number)
        if record is None:
            raise NotFound(f"no envelope {number}", field="number")
        events = await repository.history(session, record.id)
        sha, size = await repository.content_summary(session, record.content_id)
        push = await repository.push_status(session, record.hub_delivery_number, now=utcnow())
        links = await repository.evidence_links(session, [e.id for e in events])
        seal = await signing_repository.seal_of(session, record.id)
        receipt = await signing_repository.receipt_of(session, record.id)
        related = await repository.related(session, record)
        pending = await actions_of(request).pending_for(session, record.hub_delivery_number)
        log = await audit.entries(session, target=record.hub_delivery_number, limit=50)
        delegates = [
            n.code
            for n in await state.receiving_nppos(session)
            if n.is_channel and n.active and n.code != record.box_code
        ]
    return render(
        request,
        "envelope.html",
        {
            "e": record,
            "events": events,
            "push": push,
            "links": links,
            "seal_bytes": len(seal) if seal else None,
            "receipt_bytes": len(receipt) if receipt else None,
            "sha256": sha,
            "size": size,
            "related": related,
            "pending": pending,
            "audit": log,
            "delegates": delegates,
            "waiting": record.tracking_state == TrackingState.PENDING_DELIVERY.value,
        },
        operator=operator,
    )


@router.post("/envelopes/{number}/retry")
async def retry(request: Request, number: str) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        result = await actions_of(request).retry_now(
            session, actor=actor(op), number=number, reason=text_field(form, "reason")
        )
        return result.message

    return await act(request, work, back=f"{PREFIX}/envelopes/{number}")


@router.post("/envelopes/{number}/mark-failed")
async def mark_failed(request: Request, number: str) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        pending = await actions_of(request).request_mark_failed(
            session, actor=actor(op), number=number, reason=text_field(form, "reason")
        )
        return f"action {pending.id} (mark failed) waits for a second operator's confirmation"

    return await act(request, work, back=f"{PREFIX}/envelopes/{number}")


@router.post("/envelopes/{number}/reroute")
async def reroute(request: Request, number: str) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        pending = await actions_of(request).request_reroute(
            session,
            actor=actor(op),
            number=number,
            delegate=text_field(form, "delegate", max_length=16),
            reason=text_field(form, "reason"),
        )
        return (
            f"action {pending.id} (re-route to {pending.argument}) waits for a second "
            "operator's confirmation"
        )

    return await act(request, work, back=f"{PREFIX}/envelopes/{number}")


@router.get("/pending")
async def pending_page(request: Request) -> Response:
    runtime = runtime_of(request)
    async with unit_of_work(runtime.sessionmaker) as session:
        operator = await signed_in_operator(request, session)
        pending = await actions_of(request).list_pending(session)
    return render(request, "pending.html", {"pending": pending}, operator=operator)


@router.post("/pending/{action_id}/confirm")
async def confirm(request: Request, action_id: int) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        result = await actions_of(request).confirm(
            session, actor=actor(op), action_id=action_id, reason=text_field(form, "reason")
        )
        return result.message

    return await act(request, work, back=f"{PREFIX}/pending")


@router.post("/pending/{action_id}/cancel")
async def cancel(request: Request, action_id: int) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        result = await actions_of(request).cancel(
            session, actor=actor(op), action_id=action_id, reason=text_field(form, "reason")
        )
        return result.message

    return await act(request, work, back=f"{PREFIX}/pending")


@router.get("/audit")
async def audit_page(request: Request, target: str | None = None) -> Response:
    runtime = runtime_of(request)
    async with unit_of_work(runtime.sessionmaker) as session:
        operator = await signed_in_operator(request, session)
        entries = await audit.entries(session, target=target or None, limit=500)
    return render(
        request, "audit.html", {"entries": entries, "target": target or ""}, operator=operator
    )


@router.get("/certificates")
async def certificates(request: Request) -> Response:
    runtime = runtime_of(request)
    async with unit_of_work(runtime.sessionmaker) as session:
        operator = await signed_in_operator(request, session)
        rows = await certificate_expiries(
            session, now=utcnow(), hub_certificates=_hub_certificates(request)
        )
    return render(request, "certificates.html", {"rows": rows}, operator=operator)


def _hub_certificates(request: Request) -> dict[str, x509.Certificate]:
    return {"hub-seal": runtime_of(request).signing.seal_certificate}


# ------------------------------------------------------------------------------- registry


@router.get("/nppos")
async def nppos(request: Request) -> Response:
    runtime = runtime_of(request)
    async with unit_of_work(runtime.sessionmaker) as session:
        operator = await signed_in_operator(request, session)
        everyone = await nppo_repository.list_full(session, active_only=False)
    return render(request, "nppos.html", {"nppos": everyone}, operator=operator)


@router.post("/nppos")
async def register_nppo(request: Request) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        code = await registry_of(request).register(
            session,
            actor=actor(op),
            reason=text_field(form, "reason"),
            code=text_field(form, "code", max_length=16),
            name=text_field(form, "name", max_length=200),
            is_channel=form.get("is_channel") == "on",
            can_send=form.get("can_send") == "on",
            can_receive=form.get("can_receive") == "on",
            push_url=text_field(form, "push_url", max_length=500) or None,
            allowed_documents=_pairs(text_field(form, "allowed")),
        )
        return f"registered {code}"

    return await act(request, work, back=f"{PREFIX}/nppos")


def _pairs(text: str) -> list[tuple[int, int]]:
    pairs = []
    for part in text.replace(",", " ").split():
        type_code, _, status = part.partition(":")
        if not (type_code.isdigit() and status.isdigit()):
            raise InvalidRequest(f"{part!r} is not TYPE:STATUS, e.g. 851:70", field="allowed")
        pairs.append((int(type_code), int(status)))
    if not pairs:
        raise InvalidRequest("name at least one TYPE:STATUS pair, e.g. 851:70", field="allowed")
    return pairs


@router.get("/nppos/{code}")
async def nppo_page(request: Request, code: str) -> Response:
    runtime = runtime_of(request)
    async with unit_of_work(runtime.sessionmaker) as session:
        operator = await signed_in_operator(request, session)
        nppo = await nppo_repository.get_full(session, code.upper())
        if nppo is None:
            raise NotFound(f"no NPPO {code}", field="code")
        clients = await nppo_repository.list_client_certificates(session, nppo_code=nppo.code)
        log = await audit.entries(session, target=nppo.code, limit=50)
    return render(
        request,
        "nppo.html",
        {
            "n": nppo,
            "clients": [c for c, _code in clients],
            "rule_types": [t.value for t in RuleType],
            "directions": [d.value for d in Direction],
            "audit": log,
            "now": utcnow(),
        },
        operator=operator,
    )


async def _certificate_upload(form: Mapping[str, Any]) -> bytes:
    upload = form.get("certificate")
    if not isinstance(upload, UploadFile) and not hasattr(upload, "read"):
        raise InvalidRequest("choose a certificate file (PEM or DER)", field="certificate")
    data: bytes = await upload.read(MAX_CERTIFICATE_BYTES + 1)  # type: ignore[union-attr]
    if not data:
        raise InvalidRequest("the certificate file is empty", field="certificate")
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise InvalidRequest("a certificate file is at most 64 KiB", field="certificate")
    return data


@router.post("/nppos/{code}/client-certificates")
async def add_client_certificate(request: Request, code: str) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        fingerprint = await registry_of(request).add_client_certificate(
            session,
            actor=actor(op),
            reason=text_field(form, "reason"),
            code=code,
            certificate=await _certificate_upload(form),
        )
        return f"client certificate {fingerprint[:16]}… registered for {code.upper()}"

    return await act(request, work, back=f"{PREFIX}/nppos/{code.upper()}")


@router.post("/nppos/{code}/client-certificates/revoke")
async def revoke_client_certificate(request: Request, code: str) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        fingerprint = await registry_of(request).revoke_client_certificate(
            session,
            actor=actor(op),
            reason=text_field(form, "reason"),
            fingerprint=text_field(form, "fingerprint", max_length=64),
        )
        return f"client certificate {fingerprint[:16]}… revoked"

    return await act(request, work, back=f"{PREFIX}/nppos/{code.upper()}")


@router.post("/nppos/{code}/signing-certificates")
async def add_signing_certificate(request: Request, code: str) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        fingerprint = await registry_of(request).add_signing_certificate(
            session,
            actor=actor(op),
            reason=text_field(form, "reason"),
            code=code,
            certificate=await _certificate_upload(form),
        )
        return f"signing certificate {fingerprint[:16]}… registered for {code.upper()}"

    return await act(request, work, back=f"{PREFIX}/nppos/{code.upper()}")


@router.post("/nppos/{code}/rules")
async def add_rule(request: Request, code: str) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        try:
            rule_type = RuleType(text_field(form, "rule_type"))
            direction = Direction(text_field(form, "direction"))
            certificate_type = int(text_field(form, "certificate_type") or "851")
            certificate_status = int(text_field(form, "certificate_status") or "70")
        except ValueError as exc:
            raise InvalidRequest(f"the rule is not complete: {exc}") from exc
        rule_id = await registry_of(request).add_channel_rule(
            session,
            actor=actor(op),
            reason=text_field(form, "reason"),
            channel_code=code,
            rule_type=rule_type,
            country_code=text_field(form, "country", max_length=16),
            direction=direction,
            certificate_type=certificate_type,
            certificate_status=certificate_status,
        )
        return f"rule {rule_id} added to {code.upper()}"

    return await act(request, work, back=f"{PREFIX}/nppos/{code.upper()}")


@router.post("/nppos/{code}/allowed-documents")
async def allowed_document(request: Request, code: str) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        ((certificate_type, certificate_status),) = _pairs(text_field(form, "pair"))[:1]
        active = text_field(form, "active") != "no"
        await registry_of(request).set_allowed_document(
            session,
            actor=actor(op),
            reason=text_field(form, "reason"),
            code=code,
            certificate_type=certificate_type,
            certificate_status=certificate_status,
            active=active,
        )
        verb = "allowed" if active else "no longer allowed"
        return f"{certificate_type}:{certificate_status} {verb} for {code.upper()}"

    return await act(request, work, back=f"{PREFIX}/nppos/{code.upper()}")


@router.post("/nppos/{code}/delivery")
async def delivery(request: Request, code: str) -> Response:
    async def work(session: AsyncSession, op: SignedIn, form: Mapping[str, Any]) -> str:
        push_url = text_field(form, "push_url", max_length=500) or None
        await registry_of(request).set_delivery(
            session,
            actor=actor(op),
            reason=text_field(form, "reason"),
            code=code,
            push_url=push_url,
        )
        return f"{code.upper()} now " + (f"receives by push to {push_url}" if push_url else "pulls")

    return await act(request, work, back=f"{PREFIX}/nppos/{code.upper()}")


__all__ = ["CSRF_FIELD", "NotSignedIn", "router"]
