"""``extractor review``: the review page of a results JSONL, written as one offline HTML file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from extractor.out.review import page_item, render_page
from extractor.run.runner import iter_records
from extractor.service.sources import read_source


def write_review_page(results: Path, output: Path) -> int:
    """Write the page (atomically); returns the number of records in it.

    Each record's source text is re-read from its path when the file is still there unchanged
    (same SHA-256); otherwise the page says the source is not available.
    """
    items = []
    for line_no, rec in iter_records(results):
        path = str(rec.get("path", ""))
        sha = rec.get("sha256") if isinstance(rec.get("sha256"), str) else None
        source = read_source(path.split("!", 1)[0], path, sha) if rec.get("status") != "error" else None
        items.append(page_item(str(line_no), rec, source))
    page = render_page(items, served=False, title=f"extractor review — {results.name}")
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=".review-", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(page)
    os.replace(tmp, output)
    return len(items)
