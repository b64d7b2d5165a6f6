"""The HTTP API (FastAPI): one-file extraction, background jobs, records, reviews, the review page.

Every error the API raises on purpose is a JSON body ``{"detail": "..."}`` with a 4xx status
that names the problem (413 too large / too many files, 411 no Content-Length, 429 too many
jobs, 404 unknown id, 401 no or wrong token, 422 a review that fails a check, with the findings).
The endpoints are in :mod:`extractor.service.routes`.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from extractor._version import __version__
from extractor.errors import ExtractorError
from extractor.service.jobs import JobManager, Limits, RunOptions
from extractor.service.routes import Ctx, router
from extractor.service.store import Store

_UPLOADS: Final = ("/v1/extract", "/v1/jobs")


@dataclass
class Settings:
    data_dir: Path
    token: str | None = None
    limits: Limits = field(default_factory=Limits)
    run: RunOptions = field(default_factory=RunOptions)


def _authorised(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    if given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode()):
        return True
    cookie = request.cookies.get("extractor_token", "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), token.encode())


def _refusal(request: Request, settings: Settings) -> Response | None:
    """The response refusing a request before it reaches an endpoint, or None to let it through."""
    path = request.url.path
    token = settings.token
    if token and path != "/healthz" and not _authorised(request, token):
        if path == "/review" and hmac.compare_digest(
            request.query_params.get("token", "").encode(), token.encode()
        ):
            resp = RedirectResponse("/review", status_code=303)  # a browser: the token becomes a cookie
            resp.set_cookie("extractor_token", token, httponly=True, samesite="strict")
            return resp
        return JSONResponse({"detail": "missing or wrong bearer token (Authorization: Bearer …)"}, 401)
    if request.method == "POST" and path in _UPLOADS:
        size = request.headers.get("content-length")
        if size is None or not size.isdigit():
            return JSONResponse({"detail": "uploads need a Content-Length header"}, 411)
        limit = settings.limits.max_upload_bytes
        if int(size) > limit:
            return JSONResponse(
                {"detail": f"upload of {int(size)} bytes exceeds the limit of {limit} bytes"}, 413
            )
    return None


def create_app(settings: Settings) -> FastAPI:
    store = Store(settings.data_dir / "extractor.sqlite")
    manager = JobManager(store, settings.data_dir, run_options=settings.run)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        manager.resume_all()
        yield
        manager.shutdown()
        store.close()

    about = "Verified tables from 政府信息公开工作年度报告: extraction, jobs, review."
    app = FastAPI(title="extractor", version=__version__, lifespan=lifespan, description=about)
    app.state.ctx = Ctx(store, manager, settings.data_dir, settings.limits, settings.run.hook)
    app.state.manager = manager

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        return _refusal(request, settings) or await call_next(request)

    @app.exception_handler(ExtractorError)
    async def on_error(_request: Request, exc: ExtractorError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 400)

    app.include_router(router)
    return app
