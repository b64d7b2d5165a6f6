"""Loading: encodings, formats, and clear per-file errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.errors import BinaryInputError, EmptyInputError, UnsupportedFormatError
from extractor.pipeline import extract_path
from extractor.read.load import html_to_text, load_bytes, load_path
from extractor.read.normalise import SPAN, normalise_text


def test_utf8_bom_and_gb18030() -> None:
    text = "某局2021年政府信息公开工作年度报告\n一、总体情况"
    assert load_bytes(("\ufeff" + text).encode(), "a.txt").text.startswith("某局")
    doc = load_bytes(text.encode("gbk"), "b.txt")
    assert doc.text.startswith("某局") and doc.notes == ["decoded as GB18030"]


@pytest.mark.parametrize(
    ("data", "suffix", "error", "words"),
    [
        (b"", ".txt", EmptyInputError, "empty"),
        (b"   \n\t ", ".txt", EmptyInputError, "empty"),
        (b"\x00\x01\x02binary\x00", ".txt", BinaryInputError, "binary"),
        (b"abc", ".doc", UnsupportedFormatError, ".doc"),
        (b"abc", ".wps", UnsupportedFormatError, ".wps"),
        (b"abc", ".xls", UnsupportedFormatError, ".xls"),
    ],
)
def test_bad_input_raises_named_error(data: bytes, suffix: str, error: type, words: str) -> None:
    with pytest.raises(error) as exc:
        load_bytes(data, f"bad{suffix}", suffix=suffix)
    assert f"bad{suffix}" in str(exc.value) and words in str(exc.value)


def test_bad_file_becomes_error_record(tmp_path: Path) -> None:
    p = tmp_path / "junk.txt"
    p.write_bytes(b"\x00\xff\x00\xfe" * 100)
    rec = extract_path(p)
    assert rec.status == "error"
    assert rec.error and "binary" in rec.error
    assert rec.sha256 and len(rec.sha256) == 64
    missing = extract_path(tmp_path / "nope.txt")
    assert missing.status == "error" and "cannot read" in (missing.error or "")


def test_html_spans_expand_into_a_grid() -> None:
    html = (
        "<table><tr><td rowspan=2>A</td><td colspan=2>B</td></tr><tr><td>1</td><td>&nbsp;</td></tr></table>"
    )
    lines = [ln for ln in html_to_text(html).splitlines() if ln.strip()]
    assert lines[0] == f"| A | B | {SPAN} |"
    assert lines[1] == f"| {SPAN} | 1 |  |"


def test_escaped_html_string_in_txt_is_read_as_html() -> None:
    body = "<p>标题</p>" + '<table><tr><td style=\\"x\\">规章</td><td>1</td></tr></table>' * 3
    doc = load_bytes(body.encode(), "x.txt", suffix=".txt")
    assert doc.source_format == "html"
    assert "| 规章 | 1 |" in doc.text


def test_normalise_fullwidth_and_thousands() -> None:
    assert normalise_text("１２３４　５") == "1234 5"
    assert normalise_text("共1,234件，另1,23") == "共1234件，另1,23"


def test_load_path_reports_missing_file(tmp_path: Path) -> None:
    with pytest.raises(Exception) as exc:
        load_path(tmp_path / "missing.txt")
    assert "missing.txt" in str(exc.value)


def test_circled_and_superscript_digits_are_not_numbers() -> None:
    from extractor.tables.atoms import atoms_of
    from extractor.tables.values import to_value

    assert [a.kind for a in atoms_of("\t①\t²\t3\t")] == ["num"]
    assert to_value("①") is None


def test_plain_table_renders_as_the_span_grid_does() -> None:
    """The fast path for tables without spans gives the grid expansion's text exactly: rows
    padded to the widest, empty rows inside kept, trailing empty rows dropped."""
    import random

    from extractor.read.html_grid import _Cell, _render, _Table

    rng = random.Random(9)
    words = ["", " ", "1", "a | b", " 12\n3 ", "规章", "\xa0", "x\ty"]
    for _ in range(300):
        table = _Table()
        for _ in range(rng.randrange(0, 6)):
            row = []
            for _ in range(rng.choice((0, 0, 1, 3, 4, 7))):
                cell = _Cell(1, 1)
                cell.parts = [rng.choice(words) for _ in range(rng.randrange(0, 3))]
                row.append(cell)
            table.rows.append(row)
        plain = _render(table)
        table.spanned = True  # the general grid expansion
        assert _render(table) == plain


def test_plain_cell_fast_path_reads_as_the_tag_scanner_does() -> None:
    """``<td>text</td>`` taken as one match gives the text of the tag-by-tag scan, on random HTML
    of cells (with and without attributes), rows, tables, comments, scripts and stray ``<``."""
    import random
    import re
    from html import unescape

    from extractor.read import html_grid as H

    # (a function over the parser, not a subclass: the parser is a compiled class)
    def tag_by_tag(self: H._GridParser, html: str) -> None:  # the scan without the plain-cell match
        pos, n = 0, len(html)
        for m in H._TAG_ONLY.finditer(html):
            start, end = m.span()
            if start < pos:
                continue
            if start > pos:
                self._emit(unescape(html[pos:start]))
            pos = end
            closing, tag, attrs = m.groups()
            if tag is None:
                continue
            tag = tag.lower()
            if closing:
                self.end(tag)
            elif tag in H._SKIP:
                close = re.compile(rf"</\s*{tag}\s*>", re.I).search(html, pos)
                pos = close.end() if close else n
            elif tag in H._CELL_OR_TABLE:
                self.start(tag, attrs or "")
            elif tag in H._BLOCK:
                self._emit("\n")
        if pos < n:
            self._emit(unescape(html[pos:]))

    rng = random.Random(10)
    bits = [
        "<table>",
        "</table>",
        "<tr>",
        "</tr>",
        "<td>",
        "</td>",
        "<TD>",
        "<td colspan=2>",
        "<td rowspan='2'>",
    ]
    bits += [
        "<th>",
        "</th>",
        "<p>",
        "</p>",
        "<br>",
        "<!-- c -->",
        "<script>x</script>",
        "<style>",
        "</style>",
    ]
    bits += [
        "1",
        "规章",
        "&nbsp;",
        "&amp;",
        " ",
        "\n",
        "<",
        "a<b",
        "<td>2</td>",
        "<td></td>",
        "<td>&lt;</td>",
    ]
    for _ in range(3000):
        html = "".join(rng.choice(bits) for _ in range(rng.randrange(1, 30)))
        ref = H._GridParser()
        tag_by_tag(ref, html)
        ref.close()
        assert H.html_to_text(html) == re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", "".join(ref.out)), repr(
            html
        )
