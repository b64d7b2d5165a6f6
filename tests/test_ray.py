"""The Ray engine (a local Ray here) gives exactly the local engine's records."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app

from .helpers import SAMPLES, seed

runner = CliRunner()


@pytest.fixture(scope="module")
def ray_local():  # type: ignore[no-untyped-def]
    import ray  # part of the test extras: a missing Ray must fail, not skip

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def _by_path(p: Path) -> dict[str, dict[str, object]]:
    return {r["path"]: r for r in (json.loads(x) for x in p.read_text(encoding="utf-8").splitlines())}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_ray_records_equal_local_records(tmp_path: Path, ray_local: object) -> None:
    src = tmp_path / "in"
    shutil.copytree(SAMPLES, src)
    shutil.copy(seed("001"), src / "copy_of_001.txt")  # a duplicate
    with zipfile.ZipFile(src / "bundle.zip", "w") as zf:
        zf.writestr("a/report.txt", seed("003").read_text(encoding="utf-8"))
    local, dist = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    res = runner.invoke(app, ["extract", str(src), "-o", str(local), "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["extract", str(src), "-o", str(dist), "-q", "--engine", "ray"])
    assert res.exit_code == 0, res.output
    a, b = _by_path(local), _by_path(dist)
    files = [p for p in src.rglob("*") if p.is_file() and p.name != "SOURCES.tsv"]
    assert len(a) == len(files)  # one record per input (the zip holds one member)
    dups = sorted(
        Path(str(p)).name for p, r in a.items() if any(f["check"] == "duplicate" for f in r["findings"])
    )
    assert dups == ["copy_of_001.txt", "report.txt"], dups  # the zip member repeats seed 003
    assert a == b
