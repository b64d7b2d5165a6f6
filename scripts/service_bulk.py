"""A 1,000-report job through the API, compared with the CLI; then a SIGKILL midway and a restart.

    python scripts/service_bulk.py [--reports 1000] [--kill-at 300]

Reports: the 20 bundled samples plus reports built from a seed with distinct figures in four
layouts (text, pipe, one cell per line, HTML). Prints the figures (not a test): wall and CPU
time of the CLI and of the server, records equal to the CLI's, and after the SIGKILL how many
records were stored, lost or duplicated once the restarted server finished the job.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.service_reports import write_many  # noqa: E402
from tests.service_server import start, stop, wait_job  # noqa: E402


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def build(folder: Path, count: int) -> list[Path]:
    samples = sorted((ROOT / "samples").glob("0*.txt")) + sorted((ROOT / "samples" / "corpus").glob("*.txt"))
    files = write_many(folder, count - len(samples))
    for p in samples:
        target = folder / f"sample_{p.parent.name}_{p.name}"
        shutil.copy(p, target)
        files.append(target)
    return files


def cli_records(folder: Path, files: list[Path]) -> tuple[dict[str, str], float]:
    out = folder.parent / "cli.jsonl"
    cpu0 = child_cpu()
    subprocess.run([sys.executable, "-m", "extractor", "extract", *[p.name for p in files], "-o", str(out),
                    "--overwrite", "-q"], cwd=folder, check=True, capture_output=True)  # fmt: skip
    lines = out.read_text(encoding="utf-8").splitlines()
    return {json.loads(x)["path"]: x for x in lines}, child_cpu() - cpu0


def upload(client: httpx.Client, files: list[Path]) -> str:
    resp = client.post("/v1/jobs", files=[("files", (p.name, p.read_bytes())) for p in files])
    resp.raise_for_status()
    return str(resp.json()["id"])


def records(client: httpx.Client, job_id: str) -> list[str]:
    return client.get(f"/v1/jobs/{job_id}/records").text.splitlines()


def compare(api: list[str], cli: dict[str, str]) -> str:
    paths = [json.loads(x)["path"] for x in api]
    by_path = {json.loads(x)["path"]: x for x in api}
    same = sum(1 for p, line in cli.items() if by_path.get(p) == line)
    lost = len(set(cli) - set(paths))
    dup = len(paths) - len(set(paths))
    return f"{len(api)} records, {same} identical to the CLI's, {lost} lost, {dup} duplicated"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--kill-at", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="service-bulk-") as tmp:
        folder = Path(tmp) / "in"
        files = build(folder, args.reports)
        t0 = time.monotonic()
        cli, cli_cpu = cli_records(folder, files)
        print(f"CLI: {len(cli)} records in {time.monotonic() - t0:.1f} s wall, {cli_cpu:.1f} s CPU")

        cpu0 = child_cpu()
        proc, base = start(Path(tmp) / "data1")
        with httpx.Client(base_url=base, timeout=300) as client:
            t0 = time.monotonic()
            job_id = upload(client, files)
            prog = wait_job(client, job_id, timeout=1800)
            wall = time.monotonic() - t0
            api = records(client, job_id)
        stop(proc)
        server_cpu = child_cpu() - cpu0
        state = f"{prog['state']}, {prog['done']}/{prog['total']}"
        print(f"API job: {state} in {wall:.1f} s wall (upload included), server {server_cpu:.1f} s CPU")
        print(f"counts {prog['counts']}")
        print(f"API vs CLI: {compare(api, cli)}")

        proc, base = start(Path(tmp) / "data2")
        with httpx.Client(base_url=base, timeout=300) as client:
            job_id = upload(client, files)
            while (done := client.get(f"/v1/jobs/{job_id}").json()["done"]) < args.kill_at:
                time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop(proc)
        proc, base = start(Path(tmp) / "data2")
        with httpx.Client(base_url=base, timeout=300) as client:
            at_restart = client.get(f"/v1/jobs/{job_id}").json()["done"]
            prog = wait_job(client, job_id, timeout=1800)
            api = records(client, job_id)
        stop(proc)
        print(f"SIGKILL at {done} records seen by the client ({at_restart} stored when restarted); "
              f"after the restart: {prog['state']}, {compare(api, cli)}")  # fmt: skip


if __name__ == "__main__":
    main()
