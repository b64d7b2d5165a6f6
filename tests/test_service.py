"""The HTTP API against a real ``extractor serve`` on 127.0.0.1 (a subprocess) and an HTTP client."""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest

from extractor.spec import APPLICANT_COLUMNS
from tests.helpers import CORPUS, SEEDS, relayout, to_html
from tests.llm_server import ScriptedServer, answer_rows, dump, rule_truth
from tests.service_reports import unread_report, write_many
from tests.service_server import running, start, stop, wait_job

EXTRACTOR = [sys.executable, "-m", "extractor"]


def cli_lines(folder: Path, *names: str) -> list[str]:
    """Records the CLI writes for files in ``folder`` (run from there: paths are bare names)."""
    out = folder / "cli.jsonl"
    subprocess.run([*EXTRACTOR, "extract", *names, "-o", str(out), "--overwrite", "-q"], cwd=folder,
                   check=True, capture_output=True)  # fmt: skip
    return out.read_text(encoding="utf-8").splitlines()


def test_extract_is_the_cli_record_byte_for_byte(tmp_path: Path) -> None:
    files = tmp_path / "in"
    files.mkdir()
    text = SEEDS[1].read_text(encoding="utf-8")
    samples = {"seed.txt": text, "pipe.txt": relayout(text, "pipe"), "page.html": to_html(text)}
    samples["bad.doc"] = "not a report"
    for name, body in samples.items():
        (files / name).write_text(body, encoding="utf-8")
    expected = dict(zip(sorted(samples), cli_lines(files, *sorted(samples)), strict=True))
    with running(tmp_path / "data") as base, httpx.Client(base_url=base) as client:
        for name in sorted(samples):
            resp = client.post("/v1/extract", files={"file": (name, (files / name).read_bytes())})
            assert resp.status_code == 200, resp.text
            assert resp.text == expected[name]
            rec_id = resp.headers["x-record-id"]
            assert client.get(f"/v1/records/{rec_id}").text == expected[name]
        assert client.get("/docs").status_code == 200
        assert "/v1/jobs" in client.get("/openapi.json").json()["paths"]


def test_job_progress_records_filter_and_zip(tmp_path: Path) -> None:
    reports = write_many(tmp_path / "in", 12)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in reports[8:]:
            zf.write(p, f"inner/{p.name}")
        zf.writestr("inner/broken.pdf", b"%PDF-1.4 not really")
    uploads = [("files", (p.name, p.read_bytes())) for p in reports[:8]]
    uploads += [("files", ("bundle.zip", buf.getvalue())), ("files", ("empty.txt", b""))]
    uploads += [("files", ("../../copy.txt", reports[0].read_bytes()))]  # a copy, and a hostile name
    with running(tmp_path / "data") as base, httpx.Client(base_url=base, timeout=30) as client:
        resp = client.post("/v1/jobs", files=uploads)
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["id"]
        prog = wait_job(client, job_id)
        assert prog["state"] == "done"
        assert prog["done"] == prog["total"] == 15
        assert prog["counts"] == {"verified": 13, "error": 2}
        lines = client.get(f"/v1/jobs/{job_id}/records").text.splitlines()
        paths = sorted(json.loads(x)["path"] for x in lines)
        inner = [f"bundle.zip!inner/{p.name}" for p in reports[8:]]
        others = ["bundle.zip!inner/broken.pdf", "empty.txt", "copy.txt"]  # the hostile name made harmless
        assert paths == sorted([p.name for p in reports[:8]] + inner + others)
        assert (tmp_path / "data" / "jobs" / job_id / "in" / "copy.txt").is_file()
        copy = next(json.loads(x) for x in lines if json.loads(x)["path"] == "copy.txt")
        first = next(json.loads(x) for x in lines if json.loads(x)["path"] == reports[0].name)
        assert copy["tables"] == first["tables"]  # extracted once: the later one is marked a duplicate
        assert [f["check"] for f in copy["findings"] + first["findings"]] == ["duplicate"]
        errors = [
            json.loads(x) for x in client.get(f"/v1/jobs/{job_id}/records?status=error").text.splitlines()
        ]
        assert sorted(e["path"] for e in errors) == ["bundle.zip!inner/broken.pdf", "empty.txt"]
        assert all(str(tmp_path) not in json.dumps(e, ensure_ascii=False) for e in errors)  # no server paths
        listed = client.get("/v1/records", params={"job_id": job_id, "status": "verified"}).json()
        assert len(listed) == 13
        # the same records as the CLI over the same files (bare names, members inside the zip)
        cli = {json.loads(x)["path"]: x for x in cli_lines(tmp_path / "in", *[p.name for p in reports[1:8]])}
        api = {json.loads(x)["path"]: x for x in lines}
        assert all(api[name] == line for name, line in cli.items())
        assert client.post(f"/v1/jobs/{job_id}/cancel").status_code == 409  # already done
        assert client.get("/v1/jobs/nope").status_code == 404


def test_review_correction_refused_then_accepted(tmp_path: Path) -> None:
    text, row = unread_report()
    with running(tmp_path / "data") as base, httpx.Client(base_url=base) as client:
        resp = client.post("/v1/extract", files={"file": ("unread.txt", text.encode())})
        rec = resp.json()
        assert rec["status"] == "needs_review"
        assert rec["tables"]["applications"]["partially_granted"]["natural_person"] is None
        rec_id = resp.headers["x-record-id"]
        cols = APPLICANT_COLUMNS
        wrong = [row[0] + 1, *row[1:]]  # breaks H3 (the row's 总计) and H1/H2
        body = {"reviewer": "alice", "reason": "read the cell from the PDF",
                "cells": [{"table": "applications", "row": "partially_granted", "column": c, "value": v}
                          for c, v in zip(cols, wrong, strict=True)]}  # fmt: skip
        refused = client.post(f"/v1/records/{rec_id}/review", json=body)
        assert refused.status_code == 422
        assert {"H3"} <= {f["check"] for f in refused.json()["findings"]}
        assert client.get(f"/v1/records/{rec_id}").json()["status"] == "needs_review"
        body["cells"][0]["value"] = row[0]
        accepted = client.post(f"/v1/records/{rec_id}/review", json=body)
        assert accepted.status_code == 200, accepted.text
        new = accepted.json()
        assert new["status"] == "reviewed"
        assert new["tables"]["applications"]["partially_granted"]["natural_person"] == row[0]
        review = new["meta"]["reviews"][-1]
        assert review["reviewer"] == "alice" and review["reason"] and review["at"]
        first = next(c for c in review["cells"] if c["column"] == "natural_person")
        assert first["machine"] is None and first["action"] == "correct"
        assert new["meta"]["history"][0]["status"] == "needs_review"
        assert new["meta"]["history"][0]["tables"] == rec["tables"]
        assert client.get(f"/v1/records/{rec_id}").json() == new
        assert client.get(f"/v1/records/{rec_id}/reviews").json()[0]["reviewer"] == "alice"
        assert_cli_reads_reviewed(tmp_path, text, accepted.text)
        bad_cell = {
            **body,
            "cells": [{"table": "applications", "row": "nope", "column": "total", "value": 1}],
        }
        nope = client.post(f"/v1/records/{rec_id}/review", json=bad_cell)
        assert nope.status_code == 422 and "no cell applications/nope/total" in nope.json()["detail"]
        assert client.post(f"/v1/records/{rec_id}/review", json={**body, "reviewer": ""}).status_code == 422
        err = client.post("/v1/extract", files={"file": ("bad.doc", b"not a report")})
        conflict = client.post(f"/v1/records/{err.headers['x-record-id']}/review", json=body)
        assert conflict.status_code == 409 and "error record" in conflict.json()["detail"]
        assert client.post("/v1/records/nope/review", json=body).status_code == 404


def test_bad_uploads_and_limits(tmp_path: Path) -> None:
    with (
        running(tmp_path / "data", "--max-upload-mb", "1", "--max-files", "3") as base,
        httpx.Client(base_url=base) as client,
    ):
        big = client.post("/v1/extract", files={"file": ("big.txt", b"x" * (1 << 20 + 1))})
        assert big.status_code == 413 and "exceeds the limit" in big.json()["detail"]
        many = client.post("/v1/jobs", files=[("files", (f"{i}.txt", b"a")) for i in range(4)])
        assert many.status_code == 413 and "Too many files" in many.json()["detail"]
        assert client.post("/v1/jobs", data={"x": "1"}).status_code == 400
        zipped = client.post("/v1/extract", files={"file": ("a.zip", b"PK")})
        assert zipped.status_code == 400 and "/v1/jobs" in zipped.json()["detail"]
        chunked = client.post("/v1/extract", content=iter([b"abc"]), headers={"content-type": "text/plain"})
        assert chunked.status_code == 411


def test_concurrent_jobs_are_bounded(tmp_path: Path) -> None:
    reports = write_many(tmp_path / "in", 150)
    files = [("files", (p.name, p.read_bytes())) for p in reports]
    with running(tmp_path / "data", "--max-jobs", "1") as base, httpx.Client(base_url=base, timeout=30) as c:
        first = c.post("/v1/jobs", files=files)
        assert first.status_code == 202
        second = c.post("/v1/jobs", files=files[:1])
        assert second.status_code == 429 and "already running" in second.json()["detail"]
        cancelled = c.post(f"/v1/jobs/{first.json()['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        time.sleep(1)
        assert c.post("/v1/jobs", files=files[:1]).status_code == 202


def test_bearer_token_required_off_loopback_and_when_set(tmp_path: Path) -> None:
    cmd = [*EXTRACTOR, "serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path / "d")]
    no_token = {**os.environ, "EXTRACTOR_SERVICE_TOKEN": ""}
    refused = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=no_token)
    assert refused.returncode == 2 and "EXTRACTOR_SERVICE_TOKEN" in refused.stderr
    env = {"EXTRACTOR_SERVICE_TOKEN": "s3cret-token"}
    with running(tmp_path / "data", env=env) as base:
        assert httpx.get(f"{base}/v1/records").status_code == 401
        assert httpx.get(f"{base}/v1/records", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = httpx.get(f"{base}/v1/records", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200
        assert httpx.get(f"{base}/review").status_code == 401
        assert httpx.get(f"{base}/review?token=wrong").status_code == 401
        login = httpx.get(f"{base}/review?token=s3cret-token")  # a browser: the token becomes a cookie
        assert login.status_code == 303 and "httponly" in login.headers["set-cookie"].lower()
        with httpx.Client(base_url=base, cookies=login.cookies) as browser:
            assert browser.get("/review").status_code == 200
            assert browser.get("/v1/records").status_code == 200


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    reports = write_many(tmp_path / "in", 300)
    proc, base = start(tmp_path / "data")
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            job_id = client.post(
                "/v1/jobs", files=[("files", (p.name, p.read_bytes())) for p in reports]
            ).json()["id"]
            while client.get(f"/v1/jobs/{job_id}").json()["done"] < 10:
                time.sleep(0.05)
        t0 = time.monotonic()
        proc.send_signal(sig)
        assert proc.wait(10) == 128 + sig
        assert time.monotonic() - t0 < 5
    finally:
        stop(proc)


def test_restart_after_sigkill_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    reports = write_many(tmp_path / "in", 400)
    proc, base = start(tmp_path / "data")
    with httpx.Client(base_url=base, timeout=30) as client:
        job_id = client.post("/v1/jobs", files=[("files", (p.name, p.read_bytes())) for p in reports]).json()[
            "id"
        ]
        while (done := client.get(f"/v1/jobs/{job_id}").json()["done"]) < 40:
            time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    stop(proc)
    assert done < 400, "the job finished before the kill: make it longer"
    half_made = [
        tmp_path / "data" / "tmp" / "spooled-upload",
        tmp_path / "data" / "jobs" / "nojob" / "in" / "a.txt",
    ]
    for p in half_made:  # what a kill in the middle of an upload leaves
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x", encoding="utf-8")
    with running(tmp_path / "data") as base, httpx.Client(base_url=base, timeout=30) as client:
        prog = wait_job(client, job_id)
        assert prog["state"] == "done" and prog["done"] == prog["total"] == 400
        lines = client.get(f"/v1/jobs/{job_id}/records").text.splitlines()
    paths = [json.loads(x)["path"] for x in lines]
    assert len(paths) == len(set(paths)) == 400
    assert not any(p.exists() for p in half_made)
    assert sorted(paths) == sorted(p.name for p in reports)


def test_sigterm_during_a_hanging_model_request(tmp_path: Path, llm_server: ScriptedServer) -> None:
    for table in ("active_disclosure", "applications", "review_litigation"):
        llm_server.push(table, {"hang": 120})
    reports = write_many(tmp_path / "in", 3)
    llm = ["--model", "scripted", "--base-url", llm_server.base_url, "--llm", "always"]
    proc, base = start(tmp_path / "data", *llm, "--cache-dir", str(tmp_path / "cache"))
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            client.post(
                "/v1/jobs", files=[("files", (p.name, p.read_bytes())) for p in reports]
            ).raise_for_status()
            deadline = time.monotonic() + 30
            while not llm_server.calls() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert llm_server.calls(), "the job never asked the model"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 143
        assert time.monotonic() - t0 < 5
    finally:
        stop(proc)


def test_job_on_worker_processes_matches_the_cli_and_leaves_no_worker(tmp_path: Path) -> None:
    reports = write_many(tmp_path / "in", 400)
    proc, base = start(tmp_path / "data", "--jobs", "2")
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            small = client.post("/v1/jobs", files=[("files", (p.name, p.read_bytes())) for p in reports[:20]])
            wait_job(client, small.json()["id"])
            api = {
                json.loads(x)["path"]: x
                for x in client.get(f"/v1/jobs/{small.json()['id']}/records").text.splitlines()
            }
            assert api == {
                json.loads(x)["path"]: x for x in cli_lines(tmp_path / "in", *[p.name for p in reports[:20]])
            }
            big = client.post(
                "/v1/jobs", files=[("files", (p.name, p.read_bytes())) for p in reports]
            ).json()["id"]
            while client.get(f"/v1/jobs/{big}").json()["done"] < 20:
                time.sleep(0.02)
        workers = children(proc.pid)
        assert len(workers) >= 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 143
        time.sleep(5)
        assert [w for w in workers if Path(f"/proc/{w}").exists() and not zombie(w)] == []
    finally:
        stop(proc)


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def test_job_on_the_llm_path_reports_usage_and_equals_the_cli(
    tmp_path: Path, llm_server: ScriptedServer
) -> None:
    report = CORPUS / "002.txt"  # a table the rules cannot verify goes to the model
    _, located, reads = rule_truth(report)
    for t in reads:
        llm_server.default[t] = dump(answer_rows(reads[t], located.template))
    (tmp_path / "in").mkdir()
    shutil.copy(report, tmp_path / "in" / "002.txt")
    llm = ["--model", "scripted", "--base-url", llm_server.base_url]
    with (
        running(tmp_path / "data", *llm, "--cache-dir", str(tmp_path / "c1")) as base,
        httpx.Client(base_url=base, timeout=60) as client,
    ):
        job_id = client.post("/v1/jobs", files=[("files", ("002.txt", report.read_bytes()))]).json()["id"]
        prog = wait_job(client, job_id)
        line = client.get(f"/v1/jobs/{job_id}/records").text.strip()
    assert prog["llm_usage"]["calls"] == len(llm_server.calls()) >= 1
    out = tmp_path / "cli.jsonl"
    cmd = [*EXTRACTOR, "extract", "002.txt", "-o", str(out), "-q", *llm, "--cache-dir", str(tmp_path / "c2")]
    subprocess.run(cmd, cwd=tmp_path / "in", check=True, capture_output=True)
    assert line == out.read_text(encoding="utf-8").strip()
    assert json.loads(line)["meta"]["llm_usage"]["calls"] >= 1


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_job_on_the_ray_engine_equals_the_cli_and_ray_ends_with_the_server(tmp_path: Path) -> None:
    reports = write_many(tmp_path / "in", 6)
    expected = {json.loads(x)["path"]: x for x in cli_lines(tmp_path / "in", *[p.name for p in reports])}
    mark = f"EXTRACTOR_TEST_MARK={uuid.uuid4().hex}"  # inherited by every process Ray starts for it
    proc, base = start(tmp_path / "data", "--engine", "ray", env=dict([mark.split("=")]))
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            job_id = client.post(
                "/v1/jobs", files=[("files", (p.name, p.read_bytes())) for p in reports]
            ).json()["id"]
            prog = wait_job(client, job_id, timeout=300)
            lines = client.get(f"/v1/jobs/{job_id}/records").text.splitlines()
        assert len(marked(mark)) > 3, "no Ray process started by the server"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 143
    finally:
        stop(proc)
    assert prog["state"] == "done", prog
    assert {json.loads(x)["path"]: x for x in lines} == expected
    deadline = time.monotonic() + 15
    while (left := marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == [], "Ray processes outlived the server"


def marked(mark: str) -> list[int]:
    """Live processes whose environment holds ``mark``."""
    out = []
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark.encode() in env.read_bytes().split(b"\0") and not zombie(int(env.parent.name)):
                out.append(int(env.parent.name))
        except OSError:
            continue
    return out


def test_a_second_signal_exits_at_once(tmp_path: Path, llm_server: ScriptedServer) -> None:
    for table in ("active_disclosure", "applications", "review_litigation"):
        llm_server.push(table, {"hang": 120})
    llm = ["--model", "scripted", "--base-url", llm_server.base_url, "--llm", "always"]
    proc, base = start(tmp_path / "data", *llm, "--cache-dir", str(tmp_path / "cache"))
    try:
        reports = write_many(tmp_path / "in", 2)
        httpx.post(
            f"{base}/v1/jobs", files=[("files", (p.name, p.read_bytes())) for p in reports]
        ).raise_for_status()
        while not llm_server.calls():
            time.sleep(0.05)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 130
        assert time.monotonic() - t0 < 0.9  # the first alone waits 1 s for the blocked job
    finally:
        stop(proc)


def assert_cli_reads_reviewed(folder: Path, source: str, line: str) -> None:
    """verify, show and export take a reviewed record as it is."""
    (folder / "unread.txt").write_text(source, encoding="utf-8")
    (folder / "results.jsonl").write_text(line + "\n", encoding="utf-8")
    run = functools.partial(subprocess.run, cwd=folder, capture_output=True, text=True)
    verified = run([*EXTRACTOR, "verify", "results.jsonl"])
    assert verified.returncode == 0, verified.stdout + verified.stderr
    shown = run([*EXTRACTOR, "show", "results.jsonl", "--record", "unread"])
    assert shown.returncode == 0 and "reviewed" in shown.stdout
    assert run([*EXTRACTOR, "export", "results.jsonl", "--to", "csv", "-o", "out"]).returncode == 0
    with (folder / "out" / "long.csv").open(encoding="utf-8") as fh:
        human = {(r["row"], r["reviewer"]) for r in csv.DictReader(fh) if r["method"] == "human"}
    assert human == {("partially_granted", "alice")}
