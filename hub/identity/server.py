"""Run an app under uvicorn in a background thread: for tests and the demo, not for production.

The server binds the configured port (``0`` = a free one the OS picks, so there is no race between
choosing a port and binding it), and the context manager yields the base URL only once uvicorn is
listening. Leaving the block asks uvicorn to shut down gracefully and waits for the thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

__all__ = ["run_in_thread"]


@contextmanager
def run_in_thread(config: uvicorn.Config, *, startup_timeout: float = 10.0) -> Iterator[str]:
    """Serve ``config`` in a daemon thread; yield ``"http(s)://host:port"`` once it listens.

    A failure to start (bad certificate, lifespan error, port in use) is raised here, in the
    caller's thread, instead of dying silently in the server's.
    """
    # uvicorn installs signal handlers only on the main thread, so Ctrl+C still reaches the caller.
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run()
        except BaseException as exc:  # SystemExit too: uvicorn exits on start-up failure
            failure.append(exc)

    thread = threading.Thread(
        target=serve, name=f"uvicorn-{config.host}:{config.port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if failure or not thread.is_alive():
            thread.join()
            raise RuntimeError("uvicorn did not start") from (failure[0] if failure else None)
        if time.monotonic() > deadline:
            server.should_exit = True
            thread.join(startup_timeout)
            raise TimeoutError(f"uvicorn did not start within {startup_timeout} s")
        time.sleep(0.01)
    try:
        yield _base_url(server)
    finally:
        server.should_exit = True
        thread.join(config.timeout_graceful_shutdown or startup_timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(startup_timeout)
    if failure:
        raise RuntimeError("uvicorn failed while serving") from failure[0]


def _base_url(server: uvicorn.Server) -> str:
    sockets = server.servers[0].sockets
    host, port = sockets[0].getsockname()[:2]
    scheme = "https" if server.config.ssl else "http"
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
