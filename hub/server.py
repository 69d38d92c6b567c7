"""Run the hub under uvicorn with mutual TLS (or plain HTTP behind a trusted TLS proxy)."""

from typing import Any

import uvicorn

from hub.app import create_app
from hub.identity.tls import make_uvicorn_config
from hub.settings import HubSettings


def hub_uvicorn_config(
    settings: HubSettings, *, host: str, port: int, **options: Any
) -> uvicorn.Config:
    """The uvicorn config for these settings: HTTPS asking for client certificates when TLS
    files are set, plain HTTP otherwise (only sensible behind a proxy in EPHYTO_TRUSTED_PROXIES)."""
    app = create_app(settings)
    if settings.tls_cert is None:
        return make_uvicorn_config(app, host=host, port=port, **options)
    return make_uvicorn_config(
        app,
        host=host,
        port=port,
        cert=settings.tls_cert,
        key=settings.tls_key,
        ca_bundle=settings.tls_client_ca,
        **options,
    )


def serve_forever(settings: HubSettings, *, host: str, port: int, **options: Any) -> None:
    if settings.tls_cert is None and not settings.trusted_proxies:
        raise SystemExit(
            "refusing to serve: set EPHYTO_TLS_CERT/EPHYTO_TLS_KEY/EPHYTO_TLS_CLIENT_CA for mutual "
            "TLS, or EPHYTO_TRUSTED_PROXIES when a TLS-terminating proxy passes client certificates"
        )
    uvicorn.Server(hub_uvicorn_config(settings, host=host, port=port, **options)).run()
