"""Fingerprints of reader texts and records, to prove a reader change leaves records byte-identical.

``tests/data/reader_parity.json`` holds, for every rendered PDF/DOCX (:mod:`tests.renders`),
every seed and corpus text in the text layouts of the bulk benchmark (pipes, one cell per line,
spaces, run-together cells, HTML, HTML escaped in JSON, GB18030) and every seed and corpus
file, the SHA-256 of the reader's text (PDF/DOCX) and of the record's JSON line, as produced on
main (197d83e) before the pypdfium2/lxml readers and the speed work. ``python -m tests.parity
--write`` regenerates it; ``--dump DIR`` writes the texts and records themselves for a diff.

Re-pinned records (reader texts unchanged): seed 002's renderings (issue 9: table 四's column
order finding); issue 10's readings — the seed 000–003 ``_boxed.pdf`` renderings (three
misprinted labels read as near-misses; the truncated 2021 sub-rows no longer read as a 2019
single row ``other``), the seed 004 PDFs (findings only) and corpus 016 in every layout (torn
rows paired). No cell read on main changed its value. The DOCX renderings' records (only their
``sha256``) since :func:`tests.renders.fixed_zip` writes deflated members, as Word does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from extractor.pipeline import extract_bytes
from extractor.read import formats
from extractor.read.docx import docx_to_text

from .helpers import CORPUS, ROOT, SEEDS, relayout, to_html
from .renders import renders

FINGERPRINTS = ROOT / "tests" / "data" / "reader_parity.json"


def text_layouts() -> Iterator[tuple[str, bytes]]:
    """Every seed and corpus text in the text layouts the bulk benchmark mixes."""
    for path in [*SEEDS, *sorted(p for p in CORPUS.iterdir() if p.suffix in (".txt", ".md"))]:
        text = path.read_text(encoding="utf-8")
        stem = path.name.split("_")[0].split(".")[0]
        for sep in ("pipe", "lines", "spaces", "glued"):
            yield f"{stem}_{sep}.txt", relayout(text, sep).encode()
        html = to_html(text)
        yield f"{stem}_page.html", html.encode()
        yield f"{stem}_escaped.json", json.dumps({"content": html}, ensure_ascii=False).encode()
        yield f"{stem}_gb18030.txt", text.encode("gb18030")


def inputs() -> Iterator[tuple[str, bytes]]:
    yield from renders()
    yield from text_layouts()
    for path in [*SEEDS, *sorted(p for p in CORPUS.iterdir() if p.suffix != ".tsv")]:
        yield path.name, path.read_bytes()


def outputs(name: str, data: bytes) -> tuple[str, str]:
    """(reader text or "", record JSON) for one input."""
    text = ""
    if name.endswith(".pdf"):
        text = formats.pdf_to_text(data, name)
    elif name.endswith(".docx"):
        text = docx_to_text(data, name)
    record = extract_bytes(data, name)
    # Fields other issues add (issue 9's cell evidence) are left out: the fingerprints pin what
    # main's readers gave before them.
    record.meta.pop("anchors", None)
    fields = {k: v for k, v in record.to_dict().items() if k not in ("evidence", "evidence_method")}
    return text, json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def fingerprints(dump: Path | None = None) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, data in inputs():
        text, record = outputs(name, data)
        out[name] = {"text": _sha(text), "record": _sha(record)}
        if dump is not None:
            dump.mkdir(parents=True, exist_ok=True)
            (dump / f"{name}.txt").write_text(text, encoding="utf-8")
            (dump / f"{name}.json").write_text(record, encoding="utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--write", action="store_true", help="regenerate the fingerprint file")
    ap.add_argument("--dump", type=Path, help="also write texts and records to this folder")
    args = ap.parse_args()
    now = fingerprints(args.dump)
    if args.write:
        FINGERPRINTS.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {len(now)} fingerprints to {FINGERPRINTS}")
        return
    want = json.loads(FINGERPRINTS.read_text(encoding="utf-8"))
    bad = [
        f"{k}: {kind}"
        for k in sorted(want | now)
        for kind in ("text", "record")
        if want.get(k, {}).get(kind) != now.get(k, {}).get(kind)
    ]
    print("\n".join(bad) or f"all {len(now)} identical")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
