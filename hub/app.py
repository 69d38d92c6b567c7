"""The hub's ASGI application: one factory, both faces over the same services."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hub.observability.endpoints import router as observability_router
from hub.observability.metrics import install_envelope_hooks
from hub.operators.install import install_console
from hub.operators.routing_control import RoutingControl
from hub.operators.settings import OperatorSettings
from hub.rest.errors import install_problem_handlers
from hub.rest.router import router as rest_router
from hub.routing.workers import RoutingWorkers
from hub.runtime import HubRuntime, build_runtime
from hub.settings import HubSettings
from hub.soap.endpoints import router as soap_router


def create_app(
    settings: HubSettings | None = None,
    *,
    runtime: HubRuntime | None = None,
    operator_settings: OperatorSettings | None = None,
) -> FastAPI:
    """Build the hub. Tests pass settings (or a ready runtime), never the environment."""
    runtime = runtime or build_runtime(settings or HubSettings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Embedded (no RabbitMQ): the routing workers live here, beside the in-process broker.
        workers = RoutingWorkers(runtime) if runtime.settings.run_workers_in_process else None
        if workers is not None:
            await workers.start()
        try:
            yield
        finally:
            if workers is not None:
                await workers.stop()
            await runtime.close()

    app = FastAPI(
        title="ePhyto hub",
        summary="IPPC ePhyto hub: SOAP IDeliveryService and a REST/JSON face, same services",
        version="1.0",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.include_router(soap_router)
    app.include_router(rest_router, prefix="/api/v1")
    # Operations: /metrics, /health/live, /health/ready, and the operator console at /operator.
    install_envelope_hooks()
    app.include_router(observability_router)
    install_console(app, settings=operator_settings or OperatorSettings(), control=RoutingControl())
    return app
