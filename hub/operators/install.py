"""Mount the console on the hub app: pages at /operator, its stylesheet, its error pages."""

import inspect
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from ephyto_core._errors import EphytoError
from hub.errors import HubError
from hub.operators.console import router
from hub.operators.control import DeliveryControl
from hub.operators.settings import OperatorSettings
from hub.operators.web import PREFIX, NotSignedIn, redirect, render


def install_console(app: FastAPI, *, settings: OperatorSettings, control: DeliveryControl) -> None:
    app.state.operator_settings = settings
    app.state.delivery_control = control
    app.include_router(router, prefix=PREFIX)
    app.mount(
        f"{PREFIX}/static",
        StaticFiles(directory=Path(__file__).parent / "static"),
        name="operator-static",
    )

    async def not_signed_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NotSignedIn)
        return redirect(request, f"{PREFIX}/login?next={exc.target}")

    app.add_exception_handler(NotSignedIn, not_signed_in)

    # Console pages answer errors as HTML; every other path keeps its problem+json.
    api_handler = app.exception_handlers[EphytoError]

    async def ephyto_error(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith(PREFIX + "/"):
            answered = api_handler(request, exc)
            return await answered if inspect.isawaitable(answered) else answered
        assert isinstance(exc, EphytoError)
        status = exc.status if isinstance(exc, HubError) else 400
        return render(
            request,
            "error.html",
            {"message": exc.message, "status": status},
            operator=None,
            status_code=status,
        )

    app.add_exception_handler(EphytoError, ephyto_error)
