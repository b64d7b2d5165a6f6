"""The API's endpoints. Each reads the service's state (store, jobs, settings) from ``Ctx``."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from extractor._version import __version__
from extractor.models import Record
from extractor.out.review import render_page
from extractor.pipeline import TableHook
from extractor.read.load import sha256_bytes
from extractor.run.runner import Item, process
from extractor.service.jobs import JobManager, Limits, safe_name
from extractor.service.review import ReviewError, ReviewRequest, Source, apply_review
from extractor.service.sources import read_source
from extractor.service.store import Store


@dataclass
class Ctx:
    store: Store
    manager: JobManager
    data_dir: Path
    limits: Limits
    hook: TableHook | None


def ctx(request: Request) -> Ctx:
    state: Ctx = request.app.state.ctx
    return state


C = Annotated[Ctx, Depends(ctx)]
router = APIRouter()


async def uploads(request: Request, limits: Limits) -> list[UploadFile]:
    try:
        form = await request.form(max_files=limits.max_files_per_job, max_fields=100)
    except (MultiPartException, StarletteHTTPException) as exc:  # Starlette wraps the former
        why = exc.message if isinstance(exc, MultiPartException) else str(exc.detail)
        raise HTTPException(413 if "Too many files" in why else 400, f"bad upload: {why}") from exc
    files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
    if not files:
        raise HTTPException(400, "no file in the upload (send multipart/form-data with file fields)")
    return files


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.post("/v1/extract", summary="Extract one uploaded file; the body is its record, as the CLI writes it")
async def extract_one(request: Request, c: C) -> Response:
    files = await uploads(request, c.limits)
    if len(files) != 1:
        raise HTTPException(400, f"send exactly one file to /v1/extract ({len(files)} sent); use /v1/jobs")
    name = files[0].filename or "upload"
    if name.lower().endswith(".zip"):
        raise HTTPException(400, f"{name}: a zip holds many reports; send it to /v1/jobs")
    data = await files[0].read()
    suffix = Path(name).suffix.lower()
    item = Item(name, data=data, suffix=suffix, sha256=sha256_bytes(data))
    # the CLI's guarded item path: a hostile file (too deep, too big) is an error record, never a 500
    rec = Record.from_json(await run_in_threadpool(process, item, c.hook))
    kept = c.data_dir / "uploads" / f"{rec.sha256 or 'none'}_{safe_name(name)}"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(data)
    line = rec.to_json()
    rec_id = c.store.add_record(None, rec.to_dict(), line, str(kept))
    return Response(line, media_type="application/json", headers={"X-Record-Id": rec_id or ""})


@router.post("/v1/jobs", status_code=202, summary="Start a job over many uploaded files or a zip")
async def new_job(request: Request, c: C) -> dict[str, Any]:
    if c.manager.active() >= c.limits.max_active_jobs:
        raise HTTPException(429, f"{c.limits.max_active_jobs} jobs are already running; retry when one ends")
    files = await uploads(request, c.limits)
    spool = c.data_dir / "tmp"
    spool.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    for up in files:
        with tempfile.NamedTemporaryFile(dir=spool, delete=False) as fh:
            while chunk := await up.read(1 << 20):
                fh.write(chunk)
        staged.append((up.filename or "upload", Path(fh.name)))
    job_id = c.manager.create(staged)
    return {"id": job_id, **(c.manager.progress(job_id) or {})}


def progress_of(c: Ctx, job_id: str) -> dict[str, Any]:
    prog = c.manager.progress(job_id)
    if prog is None:
        raise HTTPException(404, f"no job {job_id}")
    return prog


@router.get("/v1/jobs/{job_id}", summary="Progress: done/total, counts by status, LLM usage")
def job(job_id: str, c: C) -> dict[str, Any]:
    return progress_of(c, job_id)


@router.get("/v1/jobs/{job_id}/records", summary="The job's records as JSONL, streamed")
def job_records(job_id: str, c: C, status: str | None = None) -> StreamingResponse:
    progress_of(c, job_id)
    return StreamingResponse(c.store.job_lines(job_id, status), media_type="application/x-ndjson")


@router.post("/v1/jobs/{job_id}/cancel", summary="Cancel a job (records written so far are kept)")
def cancel(job_id: str, c: C) -> dict[str, Any]:
    prog = progress_of(c, job_id)
    if not c.manager.cancel(job_id):
        raise HTTPException(409, f"job {job_id} is {prog['state']}, not running")
    return progress_of(c, job_id)


@router.get(
    "/v1/records", summary="Records (no tables), filterable by job, status, agency, year, failing check"
)
def records(
    c: C, job_id: str | None = None, status: str | None = None, agency: str | None = None,
    year: int | None = None, check: str | None = None, limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> list[dict[str, Any]]:  # fmt: skip
    filters = {"job_id": job_id, "status": status, "agency": agency, "year": year, "check": check}
    return [s.as_dict() for s in c.store.summaries(filters, limit)]


def stored(c: Ctx, rec_id: str) -> tuple[dict[str, Any], str | None]:
    found = c.store.record(rec_id)
    if found is None:
        raise HTTPException(404, f"no record {rec_id}")
    return found


@router.get("/v1/records/{rec_id}", summary="One record")
def record(rec_id: str, c: C) -> Response:
    stored(c, rec_id)
    return Response(c.store.record_line(rec_id), media_type="application/json")


@router.get("/v1/records/{rec_id}/source", summary="The source text that evidence offsets point into")
def source(rec_id: str, c: C) -> PlainTextResponse:
    rec, on_disk = stored(c, rec_id)
    text = read_source(on_disk, rec["path"], rec.get("sha256"))
    if text is None:
        raise HTTPException(404, f"the source of record {rec_id} is no longer available")
    return PlainTextResponse(text)


@router.get("/v1/records/{rec_id}/reviews", summary="Reviews of a record, oldest first")
def reviews(rec_id: str, c: C) -> list[dict[str, Any]]:
    stored(c, rec_id)
    return c.store.reviews(rec_id)


@router.post("/v1/records/{rec_id}/review", summary="Confirm or correct cells; re-checked by the verifier")
def review(rec_id: str, body: ReviewRequest, c: C) -> Response:
    rec, on_disk = stored(c, rec_id)
    try:
        new = apply_review(rec, body, Source(read_source(on_disk, rec["path"], rec.get("sha256"))))
    except ReviewError as exc:
        found = [f.to_dict() for f in exc.findings]
        return JSONResponse({"detail": str(exc), "findings": found}, 409 if exc.conflict else 422)
    c.store.save_review(rec_id, new, new["meta"]["reviews"][-1], str(rec["status"]))
    return Response(c.store.record_line(rec_id), media_type="application/json")


@router.get("/review", response_class=HTMLResponse, summary="The review page")
def page() -> HTMLResponse:
    return HTMLResponse(render_page([], served=True))
