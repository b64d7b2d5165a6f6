"""Stage 1 — loading: bytes on disk → report text.

Text (UTF-8 with or without BOM, UTF-16 with BOM, GB18030/GBK detected from the bytes), HTML
(tables kept as grids: rowspan/colspan expanded, emitted as ``| a | b |`` rows so blank cells
stay positioned), and JSON or JavaScript files that carry the report as a string. The format is
sniffed from the content as well as the extension: a ``.txt`` that holds an escaped HTML string
is read as HTML.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from extractor.errors import (
    BinaryInputError,
    ConfigError,
    DecodeError,
    EmptyInputError,
    InputError,
    InputTooLargeError,
    UnsupportedFormatError,
)
from extractor.read.aligned import align_space_tables
from extractor.read.html_grid import html_to_text
from extractor.read.normalise import has_cjk, normalise_text
from extractor.read.plain import close_pipe_tables, csv_to_tabs

MAX_BYTES: Final = 64 * 1024 * 1024
#: Upper bound on the text of one report once read (a long annual report is ~100,000 characters):
#: the rule path holds ~100 bytes per character of a table region, so this bounds a file's memory.
MAX_TEXT_CHARS: Final = 1_000_000
TEXT_LIMIT_ENV: Final = "EXTRACTOR_MAX_TEXT_CHARS"
TEXT_SUFFIXES: Final = {".txt", ".md", ".markdown", ".text", ".csv", ".tsv", ""}
HTML_SUFFIXES: Final = {".html", ".htm", ".xhtml", ".shtml"}
SCRIPT_SUFFIXES: Final = {".json", ".js", ".jsonl"}
UNSUPPORTED: Final = {
    ".doc": "Word 97-2003 (.doc)",
    ".wps": "WPS document (.wps)",
    ".xls": "Excel 97-2003 (.xls)",
    ".xlsx": "Excel workbook (.xlsx)",
    ".ppt": "PowerPoint (.ppt)",
    ".rtf": "RTF",
    ".ofd": "OFD",
}


@dataclass
class Document:
    """Report text ready for normalisation and location."""

    path: str
    sha256: str
    text: str
    source_format: str
    notes: list[str] = field(default_factory=list)
    #: A PDF with no text layer (a scan): nothing to read without OCR.
    scanned: bool = False


def text_limit() -> int:
    """The most characters one report's text may hold: :data:`MAX_TEXT_CHARS`, or the positive
    whole number in ``EXTRACTOR_MAX_TEXT_CHARS`` (to read a very long consolidated report)."""
    raw = os.environ.get(TEXT_LIMIT_ENV)
    if raw is None:
        return MAX_TEXT_CHARS
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ConfigError(f"{TEXT_LIMIT_ENV}={raw!r} is not a positive whole number of characters")
    return int(raw)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def shown_path(path: str) -> str:
    """A file name as records and messages show it: bytes that are no UTF-8 (a name from an old
    archive or another system, kept by Python as surrogate escapes) as ``\\xff`` escapes, so it
    can be written as JSON."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return path


def sha256_file(p: Path, size: int | None = None) -> str | None:
    """SHA-256 of a regular file within the size limit, a small one in one read and a big one in
    1 MiB pieces; None for anything else. ``size``: what :func:`check_regular_file` returned, when
    the caller already checked the file."""
    try:
        if size is None:
            size = check_regular_file(p, str(p))
        h = hashlib.sha256()
        with p.open("rb") as fh:
            while chunk := fh.read(-1 if size <= 1 << 20 else 1 << 20):
                h.update(chunk)
    except (InputError, OSError):
        return None
    return h.hexdigest()


def load_path(path: str | Path, *, display_path: str | None = None) -> Document:
    """Read ``path`` and return its :class:`Document`; raise an :class:`InputError` otherwise."""
    p = Path(path)
    shown = display_path or str(path)
    check_regular_file(p, shown)
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(shown, f"cannot read file: {exc.strerror or exc}") from exc
    if len(data) > MAX_BYTES:  # grew after the size check
        raise InputTooLargeError(shown, f"file is over the {MAX_BYTES}-byte limit")
    return load_bytes(data, shown, suffix=p.suffix.lower())


def check_regular_file(p: Path, shown: str) -> int:
    """Refuse, before reading a byte, what is not a regular file of a readable size; return the size.

    A FIFO blocks a reader forever and a character device (``/dev/zero`` behind a symlink named
    ``*.txt``) never ends: both are refused here, symlinks being followed for the test.
    """
    try:
        st = os.stat(p)
    except OSError as exc:
        raise InputError(shown, f"cannot read file: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "a folder"
            if stat.S_ISDIR(st.st_mode)
            else "not a regular file"
        )
        raise InputError(shown, f"not a regular file ({kind}); refused before reading")
    if st.st_size > MAX_BYTES:
        raise InputTooLargeError(shown, f"file is {st.st_size} bytes, over the {MAX_BYTES}-byte limit")
    return st.st_size


def load_bytes(data: bytes, path: str, *, suffix: str = "") -> Document:
    digest = sha256_bytes(data)
    if not data.strip():
        raise EmptyInputError(path, "file is empty")
    if suffix in UNSUPPORTED:
        raise UnsupportedFormatError(
            path, f"unsupported format: {UNSUPPORTED[suffix]}; convert it to DOCX, PDF or HTML"
        )
    from extractor.read import formats  # PDF libraries load only when such a file turns up

    notes: list[str] = []
    if formats.is_pdf(data, suffix):
        formats.check_pdf_streams(data, path)
        fmt, text = "pdf", formats.pdf_to_text(data, path)
        if not text.strip():
            return Document(path=path, sha256=digest, text="", source_format="pdf", scanned=True)
    elif data.startswith(b"PK\x03\x04"):
        fmt, text = "docx", _docx_text(data, path, suffix)
    else:
        text, notes = decode_bytes(data, path)
        fmt, text = _unwrap(text, suffix, path)
        if fmt == "html":
            text = html_to_text(text, path)
        else:
            text = close_pipe_tables(csv_to_tabs(text) if suffix == ".csv" else align_space_tables(text))
    text = normalise_text(text)
    if not text.strip():
        raise EmptyInputError(path, "file holds no text")
    return Document(path=path, sha256=digest, text=text, source_format=fmt, notes=notes)


def _docx_text(data: bytes, path: str, suffix: str) -> str:
    """A zip container's text when it is a DOCX (opened once, to sniff and to read), else refused."""
    from extractor.read import archive, docx

    package = archive.open_package(data)
    try:
        if archive.is_docx(package, suffix):
            return docx.docx_to_text(package or data, path)
    finally:
        if package is not None:
            package.close()
    what = "a zip archive inside an archive" if suffix == ".zip" else "a zip container (XLSX/PPTX/…)"
    raise UnsupportedFormatError(path, f"unsupported format: {what}")


_BOMS: Final = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def decode_bytes(data: bytes, path: str) -> tuple[str, list[str]]:
    """Decode report bytes: BOM, then strict UTF-8, then GB18030 (a superset of GBK/GB2312)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec.replace("-sig", "")), [f"decoded as {codec}"]
            except UnicodeDecodeError as exc:
                raise DecodeError(path, f"has a {codec} byte-order mark but {exc.reason}") from exc
    head = data[:65536]
    if b"\x00" in head and (utf16 := _utf16_without_bom(data)) is not None:
        return utf16
    if b"\x00" in head:
        raise BinaryInputError(path, "binary file (NUL bytes), not a text report")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise DecodeError(path, f"not valid UTF-8 or GB18030 text (byte {exc.start}: {exc.reason})") from exc
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > 8 or not has_cjk(text):
        raise BinaryInputError(path, "does not look like text in any supported encoding")
    return text, ["decoded as GB18030"]


def _utf16_without_bom(data: bytes) -> tuple[str, list[str]] | None:
    """UTF-16 text without a byte-order mark: its ASCII (digits, spaces, line ends) puts NULs on
    one byte parity mostly, and it decodes strictly (no lone surrogates, which random bytes
    soon hit) to CJK text without control characters."""
    head = data[:4096]
    if len(head) < 64 or len(data) % 2:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    for codec, nuls, other in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if nuls < 16 or nuls < other:
            continue
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\n\r\f")
        if controls <= 8 and has_cjk(text):
            return text, [f"decoded as {codec} (no byte-order mark)"]
    return None


_TAG = re.compile(r"<\s*(?:table|tr|td|th|p|div|span|br|body|html)\b", re.I)
_ESCAPED_QUOTE = re.compile(r'\\"')
_JS_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`((?:[^`\\]|\\.)*)`', re.S)


def _unwrap(text: str, suffix: str, path: str) -> tuple[str, str]:
    """Find the report inside ``text``: HTML, a JSON/JS string, or plain text."""
    if suffix in SCRIPT_SUFFIXES or (suffix not in HTML_SUFFIXES and _looks_like_script(text)):
        inner = _string_payload(text, suffix)
        if inner is not None:
            text = inner
        elif suffix in SCRIPT_SUFFIXES:
            raise UnsupportedFormatError(path, "no report text found inside the JSON/JS file")
    if _at_least(_ESCAPED_QUOTE, text, 20000, 5) and _TAG.search(text):
        text = _js_unescape(text)
    if suffix in HTML_SUFFIXES or _at_least(_TAG, text, 50000, 3):
        return "html", text
    return "text", text


def _at_least(rx: re.Pattern[str], text: str, end: int, k: int) -> bool:
    """Whether ``rx`` matches ``k`` times in ``text[:end]`` (the search stops at the k-th; an
    HTML report holds a thousand tags)."""
    return sum(1 for _ in itertools.islice(rx.finditer(text, 0, end), k)) >= k


def _looks_like_script(text: str) -> bool:
    head = text.lstrip()[:200]
    return head.startswith(("{", "[")) or bool(re.match(r"(var|let|const)\s+\w+\s*=", head))


def _string_payload(text: str, suffix: str) -> str | None:
    stripped = text.strip()
    if stripped.startswith(("{", "[", '"')):
        try:
            obj = json.loads(stripped)
        except (ValueError, RecursionError):  # nesting deeper than the parser's stack: not a payload
            obj = None
        if obj is not None:
            strings = list(_walk_strings(obj))
            best = max(strings, key=len, default=None)
            if best is not None and has_cjk(best):
                return best
    literals = []
    for m in _JS_STRING.finditer(text):
        body = next(g for g in m.groups() if g is not None)
        if has_cjk(body) or "\\u" in body:
            literals.append(body)
    if not literals:
        return None
    return _js_unescape(max(literals, key=len))


def _walk_strings(obj: object) -> list[str]:
    out: list[str] = []
    stack = [obj]
    while stack:
        cur = stack.pop()
        if isinstance(cur, str):
            out.append(cur)
        elif isinstance(cur, dict):
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)
    return out


_JS_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)
_FAST_ESCAPES: Final = (
    ("\\\\", "\x00"),
    ('\\"', '"'),
    ("\\'", "'"),
    ("\\/", "/"),
    ("\\n", "\n"),
    ("\\t", "\t"),
    ("\\r", "\n"),
    ("\x00", "\\"),
)
_SIMPLE_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\n", "b": "", "f": "\n", "v": "", "0": ""}


def _js_unescape(s: str) -> str:
    if "\\u" not in s and "\\x" not in s:
        for a, b in _FAST_ESCAPES:
            s = s.replace(a, b)
        return s

    def repl(m: re.Match[str]) -> str:
        e = m.group(1)
        if e[0] in "ux" and len(e) > 1:
            return chr(int(e[1:], 16))
        return _SIMPLE_ESCAPES.get(e, e)

    return _JS_ESCAPE.sub(repl, s)
