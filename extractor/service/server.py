"""Run the API under uvicorn; SIGINT/SIGTERM stop it within seconds with exit status 130/143.

Binding to anything but a loopback address needs a bearer token (the caller reads it from an
environment variable): the service then refuses every request without it.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import sys
import threading
from collections.abc import Generator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from extractor.errors import ConfigError
from extractor.service.app import Settings, create_app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(uvicorn.Server):
    """uvicorn's server, remembering the stopping signal instead of re-raising it at the end."""

    stopped_by: int | None = None

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, sig: int, _frame: FrameType | None) -> None:
        if self.should_exit:  # a second signal: leave at once (every record is already committed)
            os._exit(128 + sig)
        self.stopped_by = sig
        self.should_exit = True


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Serve until stopped; returns the exit status (0, or 128 + the stopping signal)."""
    if not is_loopback(host) and not settings.token:
        raise ConfigError(f"binding to {host} (not loopback) needs a bearer token: set the token variable")
    app = create_app(settings)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3,
        lifespan="on",
    )  # fmt: skip
    server = _Server(config)
    app.state.manager.start_engine()
    server.run()
    code = 128 + server.stopped_by if server.stopped_by else 0
    if app.state.manager.busy():
        # A job still blocked (a model that never answers, a stuck read): its records so far are
        # committed and it resumes on the next start, so leave now rather than wait for it at exit.
        app.state.manager.release_engine()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
