"""The public Python API (``import extractor``): the three entry points and the error types."""

from __future__ import annotations

from pathlib import Path

import pytest

import extractor
from tests.helpers import CORPUS, seed


def test_extract_file_reads_a_seed() -> None:
    rec = extractor.extract_file(seed("000"))
    assert isinstance(rec, extractor.Record)
    assert rec.status == "verified"
    assert rec.tables["review_litigation"]["review"]["total"] is not None


def test_extract_bytes_and_text_give_the_file_record() -> None:
    path = seed("001")
    data = path.read_bytes()
    by_file = extractor.extract_file(path)
    by_bytes = extractor.extract_bytes(data, path.name)
    by_text = extractor.extract_text(data.decode("utf-8"), path.name)
    assert by_bytes.tables == by_file.tables == by_text.tables
    assert by_bytes.status == by_file.status == by_text.status


def test_bad_input_is_an_error_record_not_an_exception(tmp_path: Path) -> None:
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    rec = extractor.extract_file(bad)
    assert rec.status == "error"
    assert any("empty" in f.message for f in rec.findings)


def test_llm_config_off_runs_the_rules_alone() -> None:
    path = CORPUS / "012.txt"
    cfg = extractor.LLMConfig(model="m", base_url="http://127.0.0.1:9/v1", mode="off")
    assert extractor.extract_file(path, llm=cfg).to_json() == extractor.extract_file(path).to_json()


def test_errors_share_one_root() -> None:
    for name in ("ConfigError", "InputError", "ModelAnswerError", "TransportError", "UnsupportedFormatError"):
        assert issubclass(getattr(extractor, name), extractor.ExtractorError)
    with pytest.raises(AttributeError):
        _ = extractor.no_such_name  # type: ignore[attr-defined]
