"""The HTTP API (FastAPI): one-file extraction, background jobs, records, reviews, the review page.

Every error the API raises on purpose is a JSON body ``{"detail": "..."}`` with a 4xx status
that names the problem (413 too large / too many files, 411 no Content-Length, 429 too many
jobs, 404 unknown id, 422 a review that fails a check, with the findings).
"""

from __future__ import annotations

import hmac
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    StreamingResponse,
)
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from extractor._version import __version__
from extractor.errors import ExtractorError
from extractor.models import Finding
from extractor.out.review import render_page
from extractor.pipeline import TableHook, extract_bytes
from extractor.service.jobs import JobManager, Limits, safe_name
from extractor.service.review import ReviewError, ReviewRequest, Source, apply_review
from extractor.service.sources import read_source
from extractor.service.store import Store

_UPLOADS = ("/v1/extract", "/v1/jobs")


@dataclass
class Settings:
    data_dir: Path
    token: str | None = None
    limits: Limits = field(default_factory=Limits)
    jobs: int = 1
    hook: TableHook | None = None


def _authorised(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    if given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode()):
        return True
    cookie = request.cookies.get("extractor_token", "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), token.encode())


def create_app(settings: Settings) -> FastAPI:
    store = Store(settings.data_dir / "extractor.sqlite")
    manager = JobManager(store, settings.data_dir, jobs=settings.jobs, hook=settings.hook)
    limits = settings.limits

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        manager.resume_all()
        yield
        manager.shutdown()
        store.close()

    about = "Verified tables from 政府信息公开工作年度报告: extraction, jobs, review."
    app = FastAPI(title="extractor", version=__version__, lifespan=lifespan, description=about)
    app.state.store, app.state.manager = store, manager

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if settings.token and path != "/healthz" and not _authorised(request, settings.token):
            if path == "/review" and hmac.compare_digest(
                request.query_params.get("token", ""), settings.token
            ):
                resp = RedirectResponse("/review", status_code=303)
                resp.set_cookie("extractor_token", settings.token, httponly=True, samesite="strict")
                return resp
            return JSONResponse({"detail": "missing or wrong bearer token (Authorization: Bearer …)"}, 401)
        if request.method == "POST" and path in _UPLOADS:
            size = request.headers.get("content-length")
            if size is None or not size.isdigit():
                return JSONResponse({"detail": "uploads need a Content-Length header"}, 411)
            if int(size) > limits.max_upload_bytes:
                return JSONResponse(
                    {
                        "detail": f"upload of {int(size)} bytes exceeds the limit of "
                        f"{limits.max_upload_bytes} bytes"
                    },
                    413,
                )
        return await call_next(request)

    @app.exception_handler(ExtractorError)
    async def on_error(_request: Request, exc: ExtractorError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 400)

    async def uploads(request: Request) -> list[UploadFile]:
        try:
            form = await request.form(max_files=limits.max_files_per_job, max_fields=100)
        except (MultiPartException, StarletteHTTPException) as exc:  # Starlette wraps the former
            why = exc.message if isinstance(exc, MultiPartException) else str(exc.detail)
            code = 413 if "Too many files" in why else 400
            raise HTTPException(code, f"bad upload: {why}") from exc
        files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        if not files:
            raise HTTPException(400, "no file in the upload (send multipart/form-data with file fields)")
        return files

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.post(
        "/v1/extract", summary="Extract one uploaded file; the body is its record, as the CLI writes it"
    )
    async def extract_one(request: Request) -> Response:
        files = await uploads(request)
        if len(files) != 1:
            raise HTTPException(
                400, f"send exactly one file to /v1/extract ({len(files)} sent); use /v1/jobs"
            )
        up = files[0]
        name = up.filename or "upload"
        if name.lower().endswith(".zip"):
            raise HTTPException(400, f"{name}: a zip holds many reports; send it to /v1/jobs")
        data = await up.read()
        rec = extract_bytes(data, name, suffix=Path(name).suffix.lower(), hook=settings.hook)
        kept = settings.data_dir / "uploads" / f"{rec.sha256 or 'none'}_{safe_name(name)}"
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_bytes(data)
        line = rec.to_json()
        rec_id = store.add_record(None, rec.model_dump(), line, str(kept))
        return Response(line, media_type="application/json", headers={"X-Record-Id": rec_id or ""})

    @app.post("/v1/jobs", status_code=202, summary="Start a job over many uploaded files or a zip")
    async def new_job(request: Request) -> dict[str, Any]:
        if manager.active() >= limits.max_active_jobs:
            raise HTTPException(
                429, f"{limits.max_active_jobs} jobs are already running; retry when one ends"
            )
        files = await uploads(request)
        spool = settings.data_dir / "tmp"
        spool.mkdir(parents=True, exist_ok=True)
        staged: list[tuple[str, Path]] = []
        for up in files:
            with tempfile.NamedTemporaryFile(dir=spool, delete=False) as fh:
                while chunk := await up.read(1 << 20):
                    fh.write(chunk)
            staged.append((up.filename or "upload", Path(fh.name)))
        job_id = manager.create(staged)
        return {"id": job_id, **(manager.progress(job_id) or {})}

    def progress_of(job_id: str) -> dict[str, Any]:
        prog = manager.progress(job_id)
        if prog is None:
            raise HTTPException(404, f"no job {job_id}")
        return prog

    @app.get("/v1/jobs/{job_id}", summary="Progress: done/total, counts by status, LLM usage")
    def job(job_id: str) -> dict[str, Any]:
        return progress_of(job_id)

    @app.get("/v1/jobs/{job_id}/records", summary="The job's records as JSONL, streamed")
    def job_records(job_id: str, status: str | None = None) -> StreamingResponse:
        progress_of(job_id)
        return StreamingResponse(store.job_lines(job_id, status), media_type="application/x-ndjson")

    @app.post("/v1/jobs/{job_id}/cancel", summary="Cancel a job (records written so far are kept)")
    def cancel(job_id: str) -> dict[str, Any]:
        prog = progress_of(job_id)
        if not manager.cancel(job_id):
            raise HTTPException(409, f"job {job_id} is {prog['state']}, not running")
        return progress_of(job_id)

    @app.get(
        "/v1/records", summary="Records (no tables), filterable by job, status, agency, year, failing check"
    )
    def records(
        job_id: str | None = None, status: str | None = None, agency: str | None = None,
        year: int | None = None, check: str | None = None,
        limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    ) -> list[dict[str, Any]]:  # fmt: skip
        filters = {"job_id": job_id, "status": status, "agency": agency, "year": year, "check": check}
        return [s.as_dict() for s in store.summaries(filters, limit)]

    def get(rec_id: str) -> tuple[dict[str, Any], str | None]:
        found = store.record(rec_id)
        if found is None:
            raise HTTPException(404, f"no record {rec_id}")
        return found

    @app.get("/v1/records/{rec_id}", summary="One record")
    def record(rec_id: str) -> Response:
        get(rec_id)
        return Response(store.record_line(rec_id), media_type="application/json")

    @app.get("/v1/records/{rec_id}/source", summary="The source text that evidence offsets point into")
    def source(rec_id: str) -> PlainTextResponse:
        rec, on_disk = get(rec_id)
        text = read_source(on_disk, rec["path"], rec.get("sha256"))
        if text is None:
            raise HTTPException(404, f"the source of record {rec_id} is no longer available")
        return PlainTextResponse(text)

    @app.get("/v1/records/{rec_id}/reviews", summary="Reviews of a record, oldest first")
    def reviews(rec_id: str) -> list[dict[str, Any]]:
        get(rec_id)
        return store.reviews(rec_id)

    @app.post("/v1/records/{rec_id}/review", summary="Confirm or correct cells; re-checked by the verifier")
    def review(rec_id: str, body: ReviewRequest) -> Response:
        rec, on_disk = get(rec_id)
        try:
            new = apply_review(rec, body, Source(read_source(on_disk, rec["path"], rec.get("sha256"))))
        except ReviewError as exc:
            return JSONResponse({"detail": str(exc), "findings": [_plain(f) for f in exc.findings]},
                                409 if exc.conflict else 422)  # fmt: skip
        store.save_review(rec_id, new, new["meta"]["reviews"][-1], str(rec["status"]))
        return Response(store.record_line(rec_id), media_type="application/json")

    @app.get("/review", response_class=HTMLResponse, summary="The review page")
    def page() -> HTMLResponse:
        return HTMLResponse(render_page([], served=True))

    return app


def _plain(f: Finding) -> dict[str, Any]:
    return f.model_dump()
