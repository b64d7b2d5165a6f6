"""The Ray engine (a local Ray here) gives exactly the local engine's records."""

from __future__ import annotations

import io
import json
import shutil
import stat
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app

from .helpers import CORPUS, SAMPLES, seed
from .llm_server import ScriptedServer, answer_rows, dump, rule_truth

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


def _hostile_zip(path: Path) -> None:
    """Good members beside members the reader refuses: traversal, absolute, symlink, a zip two deep."""
    deeper = io.BytesIO()
    with zipfile.ZipFile(deeper, "w") as z:
        z.writestr("too_deep.txt", "x")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("deep.txt", seed("000").read_text(encoding="utf-8"))  # one level down: read
        z.writestr("deeper.zip", deeper.getvalue())  # two levels down: refused
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok/report.txt", seed("002").read_text(encoding="utf-8"))
        zf.writestr("../escape.txt", "x")
        zf.writestr("/etc/absolute.txt", "x")
        link = zipfile.ZipInfo("link.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("nested.zip", inner.getvalue())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_ray_equals_local_on_refused_members_and_the_llm_path(
    tmp_path: Path, ray_local: object, llm_server: ScriptedServer
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    _hostile_zip(src / "bundle.zip")
    shutil.copy(CORPUS / "015.txt", src / "needs_model.txt")  # --llm auto sends its table 三
    shutil.copy(seed("001"), src / "clean.txt")
    _, located, reads = rule_truth(CORPUS / "015.txt")
    for t in reads:
        llm_server.default[t] = dump(answer_rows(reads[t], located.template))
    out: dict[str, dict[str, dict[str, object]]] = {}
    asked: dict[str, int] = {}
    for engine in ("local", "ray"):
        dest = tmp_path / f"{engine}.jsonl"
        args = ["extract", str(src), "-o", str(dest), "-q", "--engine", engine, "--model", "m", "--llm",
                "auto", "--base-url", llm_server.base_url, "--cache-dir", str(tmp_path / engine)]  # fmt: skip
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
        out[engine] = _by_path(dest)
        asked[engine] = len(llm_server.calls("applications")) - sum(asked.values())
    local, dist = out["local"], out["ray"]
    assert local == dist
    errors = {Path(p).name: str(r["error"]) for p, r in local.items() if r["status"] == "error"}
    assert len(errors) == 4 and any("traversal" in e for e in errors.values()), errors
    assert any(p.endswith("deep.txt") and r["status"] == "verified" for p, r in local.items())
    assert any("symbolic link" in e for e in errors.values()), errors
    model = next(r for p, r in local.items() if p.endswith("needs_model.txt"))
    assert any(str(f["check"]).startswith("llm.") for f in model["findings"])  # the model was heard
    assert asked["ray"] == asked["local"] > 0, asked  # the same requests, made by the hook in Ray's workers
