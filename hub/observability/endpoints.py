"""GET /metrics, /health/live and /health/ready. No client certificate needed: they carry no
NPPO data. Keep /metrics off the public listener (see README, Operations)."""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from hub.database import unit_of_work, utcnow
from hub.observability import health, metrics
from hub.operators.control import DeliveryControl
from hub.runtime import HubRuntime

router = APIRouter(tags=["operations"], include_in_schema=True)


def _runtime(request: Request) -> HubRuntime:
    runtime: HubRuntime = request.app.state.runtime
    return runtime


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def prometheus_metrics(request: Request) -> Response:
    runtime = _runtime(request)
    control: DeliveryControl = request.app.state.delivery_control
    async with unit_of_work(runtime.sessionmaker) as session:
        controls = await control.states(session)
        snapshot = await metrics.read_snapshot(
            session,
            now=utcnow(),
            controls=controls,
            hub_certificates={"hub-seal": runtime.signing.seal_certificate},
        )
    return Response(metrics.render(snapshot), media_type=CONTENT_TYPE_LATEST)


@router.get("/health/live", summary="Liveness")
async def live() -> JSONResponse:
    return JSONResponse({"status": "live"})


@router.get("/health/ready", summary="Readiness: database and broker")
async def ready(request: Request) -> JSONResponse:
    runtime = _runtime(request)
    results = await asyncio.gather(
        health.run_check("database", lambda: health.check_database(runtime.engine)),
        health.run_check("broker", lambda: health.check_broker(runtime.settings.broker_url)),
    )
    ok = all(r.ok for r in results)
    body = {
        "status": "ready" if ok else "not_ready",
        "checks": {
            r.name: {"ok": r.ok, "detail": r.detail, "seconds": round(r.seconds, 4)}
            for r in results
        },
    }
    return JSONResponse(body, status_code=200 if ok else 503)
