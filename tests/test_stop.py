"""Stopping a run (issue 13), with real processes: SIGINT and SIGTERM during a hanging or a
trickling model request, during a slow file, in a ``--jobs 2`` run; SIGKILL of a ``--jobs 2``
parent leaves no worker behind; ``--resume`` then finishes the rest with one record per input.

Each test prints the time it measured from the signal to the child's exit (``pytest -s``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .helpers import CORPUS, seed
from .llm_server import ScriptedServer, answer_rows, dump, rule_truth
from .service_server import running as running_server
from .service_server import start as start_server
from .service_server import stop as stop_server
from .service_server import wait_job
from .test_bulk import RECORD_BYTES, _make_reports

PY = [sys.executable, "-m", "extractor"]
#: Generous bound on signal → exit (the issue asks for 5 s; the machine is shared).
STOP_BOUND_S = 10.0
NEEDS_MODEL = CORPUS / "015.txt"  # `--llm auto` sends its table 三 (unread cells) and nothing else
CLEAN = ("000", "001", "002", "003")  # seeds the rules read completely: no request under auto


@pytest.fixture
def own_server() -> Iterator[ScriptedServer]:
    """A server of this module's own: a request left hanging here never takes a later test's script."""
    server = ScriptedServer()
    try:
        yield server
    finally:
        server.close()


def _launch(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m extractor ARGS`` in its own process group, with the default SIGINT disposition
    (a shell without job control would hand it SIGINT ignored)."""
    return subprocess.Popen(
        [*PY, *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_until(
    proc: subprocess.Popen[str], ready: Callable[[], bool], what: str, timeout: float = 120
) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if ready():
            return
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.fail(f"the run ended (exit {proc.returncode}) before {what}: {proc.communicate()[1][-2000:]}")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    pytest.fail(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen[str], sig: int, label: str) -> tuple[float, str]:
    """Send ``sig``; return the seconds until the process exited, and its stderr."""
    t0 = time.monotonic()
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{label}: still running 60 s after {signal.Signals(sig).name}")
    elapsed = time.monotonic() - t0
    print(f"\n[stop] {label} {signal.Signals(sig).name}: exit {proc.returncode} after {elapsed:.2f} s")
    return elapsed, err


def _lines(out: Path) -> int:
    return out.read_bytes().count(b"\n") if out.exists() else 0


def _records(out: Path) -> list[dict[str, Any]]:
    """Every line of the output, each of which must be a whole record."""
    data = out.read_bytes()
    assert not data or data.endswith(b"\n"), "a torn last line"
    return [json.loads(line) for line in data.splitlines()]


def _group(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(d.name))
    return found


# ------------------------------------------------------------------------- during a model request
def _llm_inputs(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for i in range(3):  # named to sort first: they take the request slots before the clean seeds start
        (d / f"a{i}_needs_model.txt").write_text(
            NEEDS_MODEL.read_text(encoding="utf-8") + f"\n附注{i}\n", encoding="utf-8"
        )
    for name in CLEAN:
        shutil.copy(seed(name), d / f"b_{name}.txt")
    return d


def _llm_args(tmp_path: Path, server: ScriptedServer, src: Path) -> list[str]:
    cfg = tmp_path / "llm.toml"  # deadlines far beyond the test: only the signal can end the request
    cfg.write_text("timeout_s = 300\nmax_attempts = 1\nmax_total_s = 600\n", encoding="utf-8")
    return ["extract", str(src), "-o", str(tmp_path / "r.jsonl"), "-q", "--model", "m", "--llm", "auto",
            "--base-url", server.base_url, "--concurrency", "1", "--config", str(cfg),
            "--cache-dir", str(tmp_path / "cache")]  # fmt: skip


def _serve_truth(server: ScriptedServer) -> None:
    _, located, reads = rule_truth(NEEDS_MODEL)
    for t in reads:
        server.default[t] = dump(answer_rows(reads[t], located.template))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("action", [{"hang": 120.0}, {"trickle": 0.5}], ids=["hanging", "trickling"])
def test_a_signal_during_a_model_request_stops_the_run_at_once(
    tmp_path: Path, own_server: ScriptedServer, action: dict[str, float], sig: int
) -> None:
    _serve_truth(own_server)
    own_server.push("applications", action, action, action)
    src = _llm_inputs(tmp_path)
    out = tmp_path / "r.jsonl"
    proc = _launch(_llm_args(tmp_path, own_server, src))
    # The clean reports are written while the model requests hang: they wait for no request.
    _wait_until(proc, lambda: bool(own_server.calls()) and _lines(out) >= len(CLEAN),
                "a request in flight and the clean reports written")  # fmt: skip
    before = _records(out)
    elapsed, err = _stop(proc, sig, f"LLM {next(iter(action))} request")
    assert proc.returncode == 128 + sig, err
    assert elapsed < STOP_BOUND_S
    assert "interrupted" in err and "--resume" in err
    assert "Traceback" not in err and "Warning" not in err, err
    after = _records(out)
    assert after[: len(before)] == before
    assert {Path(str(r["path"])).name for r in before} >= {f"b_{n}.txt" for n in CLEAN}
    assert all(set(r["table_methods"].values()) == {"rules"} for r in before)
    assert _group(proc.pid) == []

    own_server.script.clear()  # the endpoint answers now: --resume finishes the three left undone
    res = subprocess.run([*PY, *_llm_args(tmp_path, own_server, src), "--resume"], capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    recs = _records(out)
    names = sorted(Path(str(r["path"])).name for r in recs)
    assert names == sorted(p.name for p in src.iterdir())
    assert all(r["status"] != "error" for r in recs)


# --------------------------------------------------------------------------- during a slow file
#: The slow reports hold ~6 MB of text: over the default text limit, which would refuse them at once.
SLOW_OK = {"EXTRACTOR_MAX_TEXT_CHARS": "10000000"}


def _slow_report(path: Path) -> None:
    """A real report followed by ~6 MB of table-like lines: a few seconds in the reader."""
    body = seed("001").read_text(encoding="utf-8")
    filler = "".join(f"| 第{i}项 | {i} | {i * 7} | {i % 13} | 其他 |\n" for i in range(4000))
    with path.open("w", encoding="utf-8") as fh:
        fh.write(body)
        while fh.tell() < 6 * 1024 * 1024:
            fh.write(filler)


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_slow_file_stops_the_run_at_once(tmp_path: Path, sig: int, jobs: str) -> None:
    d = tmp_path / "in"
    _make_reports(d, 6)  # r00000 … r00005, read in a few ms each
    for i in range(2):
        _slow_report(d / f"s{i}_slow.txt")  # sort after the quick ones
    out = tmp_path / "r.jsonl"
    cmd = ["extract", str(d), "-o", str(out), "-q", "-j", jobs, "--file-timeout", "600"]
    proc = _launch(cmd, SLOW_OK)
    _wait_until(proc, lambda: _lines(out) >= 6, "the quick reports written")
    time.sleep(0.3)  # inside the slow files now
    assert proc.poll() is None
    before = _records(out)
    elapsed, err = _stop(proc, sig, f"slow file, --jobs {jobs}")
    assert proc.returncode == 128 + sig, err
    assert elapsed < STOP_BOUND_S
    assert "interrupted" in err and "Traceback" not in err
    undone = re.search(r"(\d+) input\(s\) in progress left undone", err)
    assert undone and int(undone.group(1)) >= 1, err  # stopped inside a slow file, not between files
    assert _records(out) == before and len(before) == 6
    time.sleep(0.2)
    assert _group(proc.pid) == [], "a worker outlived the run"


# ---------------------------------------------------------------- SIGKILL of a --jobs 2 parent
def test_workers_die_with_a_killed_parent_and_resume_finishes(tmp_path: Path) -> None:
    paths = _make_reports(tmp_path / "in", 1500)
    out = tmp_path / "r.jsonl"
    cmd = ["extract", str(tmp_path / "in"), "-o", str(out), "-q", "-j", "2"]
    proc = _launch(cmd)
    _wait_until(proc, lambda: out.exists() and out.stat().st_size > 100 * RECORD_BYTES // 4, "records")
    workers = [p for p in _group(proc.pid) if p != proc.pid]
    assert len(workers) >= 2, "expected the two worker processes"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()  # not communicate(): orphaned workers would hold its pipes open
    t0 = time.monotonic()
    while _group(proc.pid) and time.monotonic() - t0 < 5:
        time.sleep(0.02)
    left = _group(proc.pid)
    print(f"\n[stop] SIGKILL of a --jobs 2 parent: workers gone after {time.monotonic() - t0:.2f} s")
    for pid in left:
        os.kill(pid, signal.SIGKILL)  # do not leak them into the rest of the suite
    proc.communicate()
    assert left == [], f"orphaned workers: {left}"

    partial = _lines(out)
    assert 0 < partial < len(paths)
    res = subprocess.run([*PY, *cmd, "--resume"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    got = [str(r["path"]) for r in _records(out)]
    assert len(got) == len(set(got)) == len(paths)
    assert set(got) == {str(p) for p in paths}


def test_a_worker_killed_midway_does_not_end_the_run(tmp_path: Path) -> None:
    """A worker that dies (here SIGKILL, as the OOM killer sends) breaks the process pool: the run
    goes on, the items the pool held are run again one by one, every input gets one record."""
    d = tmp_path / "in"
    quick = _make_reports(d, 6)
    slow = [d / f"s{i}_slow.txt" for i in range(2)]
    for p in slow:
        _slow_report(p)
    more = _make_reports(tmp_path / "in" / "z_after", 4)  # after the slow ones: a fresh pool reads them
    out = tmp_path / "r.jsonl"
    proc = _launch(["extract", str(d), "-o", str(out), "-q", "-j", "2", "--file-timeout", "600"], SLOW_OK)
    _wait_until(proc, lambda: _lines(out) >= 6, "the quick reports written")
    time.sleep(0.3)
    workers = [p for p in _group(proc.pid) if p != proc.pid]
    assert workers, "no worker process to kill"
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    recs = _records(out)
    assert sorted(str(r["path"]) for r in recs) == sorted(str(p) for p in [*quick, *slow, *more])
    assert all(r["status"] == "verified" for r in recs), [(r["path"], r["error"]) for r in recs]


# ------------------------------------------------------------ SIGKILL of a --engine ray parent
def _session(sid: int) -> list[tuple[int, str]]:
    """Live processes of a session (Ray's actors take process groups of their own, not sessions)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:80]
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            found.append((int(d.name), cmd))
    return found


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_local_ray_cluster_dies_with_a_killed_parent(tmp_path: Path) -> None:
    """Ray's own processes (GCS, raylet, agents, workers) outlive a SIGKILLed driver by a minute
    or more unless the run's reaper ends them."""
    d = tmp_path / "in"
    d.mkdir()
    for i in range(8):
        _slow_report(d / f"s{i}_slow.txt")
    proc = _launch(["extract", str(d), "-o", str(tmp_path / "r.jsonl"), "-q", "--engine", "ray"], SLOW_OK)
    _wait_until(proc, lambda: any("raylet" in c for _, c in _session(proc.pid)), "a raylet", timeout=120)
    time.sleep(2)  # the agents and the workers start after the raylet
    assert len(_session(proc.pid)) >= 5, _session(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    t0 = time.monotonic()
    while _session(proc.pid) and time.monotonic() - t0 < 10:
        time.sleep(0.05)
    left = _session(proc.pid)
    print(
        f"\n[stop] SIGKILL of an --engine ray parent: Ray's processes gone after {time.monotonic() - t0:.2f}s"
    )
    for pid, _ in left:
        os.kill(pid, signal.SIGKILL)  # do not leak them into the rest of the suite
    proc.communicate()
    assert left == [], f"Ray processes outlived the run: {left}"


# ------------------------------------------------------------------------------- the service
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_at_once_during_a_model_request_and_resumes_the_job(
    tmp_path: Path, own_server: ScriptedServer, sig: int
) -> None:
    """``serve`` as ``extract``: a signal while a job's model request hangs cancels the request
    (the server leaves cleanly, not by abandoning a blocked job), and the job resumes on restart."""
    _serve_truth(own_server)
    own_server.push("applications", {"hang": 120.0}, {"hang": 120.0}, {"hang": 120.0})
    src = _llm_inputs(tmp_path)
    cfg = tmp_path / "llm.toml"
    cfg.write_text("timeout_s = 300\nmax_attempts = 1\nmax_total_s = 600\n", encoding="utf-8")
    args = ["--model", "m", "--llm", "auto", "--base-url", own_server.base_url, "--config", str(cfg),
            "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    proc, base = start_server(tmp_path / "data", *args)
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            files = [("files", (p.name, p.read_bytes())) for p in sorted(src.iterdir())]
            job_id = client.post("/v1/jobs", files=files).json()["id"]
            end = time.monotonic() + 120
            while not (own_server.calls() and client.get(f"/v1/jobs/{job_id}").json()["done"] >= len(CLEAN)):
                assert time.monotonic() < end, "no request in flight with the clean reports stored"
                time.sleep(0.05)
        t0 = time.monotonic()
        proc.send_signal(sig)
        code = proc.wait(60)
        elapsed = time.monotonic() - t0
        out = proc.stdout.read().decode() if proc.stdout else ""
        print(
            f"\nserve, hanging model request, {signal.Signals(sig).name}: exit {code} after {elapsed:.2f} s"
        )
        assert code == 128 + sig and elapsed < STOP_BOUND_S, out
        assert "still blocked" not in out and "Traceback" not in out, out
    finally:
        stop_server(proc)
    own_server.script.clear()  # the endpoint answers now: the job resumes and finishes
    asked_before = len(own_server.calls("applications"))
    with running_server(tmp_path / "data", *args) as base, httpx.Client(base_url=base, timeout=30) as client:
        prog = wait_job(client, job_id)
        assert prog["state"] == "done", prog
        recs = [json.loads(x) for x in client.get(f"/v1/jobs/{job_id}/records").text.splitlines()]
    names = sorted(Path(str(r["path"])).name for r in recs)
    assert names == sorted(p.name for p in src.iterdir())  # one record per input, none twice
    assert all(r["status"] != "error" for r in recs)
    heard = [r for r in recs if "needs_model" in str(r["path"])]
    asked_again = len(own_server.calls("applications")) - asked_before
    assert len(heard) == 3 and asked_again >= 3, asked_again
    assert all(
        any(f["check"].startswith("llm.") for f in r["findings"]) for r in heard
    )  # the cancelled requests became no record: asked again after the restart


# ------------------------------------------------------- the per-file deadline with a model
def test_the_file_deadline_holds_with_a_model_and_records_still_do_not_wait(
    tmp_path: Path, own_server: ScriptedServer
) -> None:
    """With a model the rule path runs in the main thread under ``--file-timeout`` (only the
    model's requests run in threads), so a slow file becomes an error record there too."""
    _serve_truth(own_server)
    d = tmp_path / "in"
    d.mkdir()
    _slow_report(d / "s_slow.txt")
    for name in CLEAN:
        shutil.copy(seed(name), d / f"b_{name}.txt")
    shutil.copy(NEEDS_MODEL, d / "a_needs_model.txt")
    out = tmp_path / "r.jsonl"
    args = _llm_args(tmp_path, own_server, d)
    args[args.index("-o") + 1] = str(out)
    t0 = time.monotonic()
    res = subprocess.run([*PY, *args, "--file-timeout", "1"], capture_output=True, text=True, timeout=300,
                         env={**os.environ, **SLOW_OK})  # fmt: skip
    elapsed = time.monotonic() - t0
    assert res.returncode == 0, res.stderr
    recs = {Path(str(r["path"])).name: r for r in _records(out)}
    assert sorted(recs) == sorted(p.name for p in d.iterdir())
    slow = recs["s_slow.txt"]
    assert slow["status"] == "error" and "took more than 1 s" in str(slow["error"]), slow["error"]
    assert all(recs[f"b_{n}.txt"]["status"] != "error" for n in CLEAN)
    assert own_server.calls("applications")  # the model was still asked about the report that needs it
    print(f"\n[stop] --file-timeout 1 with a model: the slow file stopped; run {elapsed:.1f} s")
