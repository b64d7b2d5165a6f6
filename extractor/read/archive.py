"""Zip archives: members of an archive of reports, and the zip container a DOCX is.

* :func:`iter_zip` yields ``("archive.zip!inner/path", bytes | InputError)`` and never trusts the
  sizes a zip header claims: members are read in chunks and cut off at the limits.
* :func:`open_package` opens bytes as a zip once, so :func:`is_docx` can look at its names and the
  DOCX reader (:func:`extractor.read.docx.docx_to_text`) read its parts from the same archive.
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from extractor.errors import InputError, InputTooLargeError, UnsupportedFormatError
from extractor.read.load import shown_path

_CHUNK: Final = 64 * 1024
_RATIO_FLOOR: Final = 1024 * 1024  # below this many output bytes the ratio is not judged
#: What zipfile raises for bytes that are no readable archive.
_NOT_A_ZIP: Final = (zipfile.BadZipFile, OSError, EOFError, ValueError)

Members = Iterator[tuple[str, bytes | InputError]]


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name, decoding legacy (non-UTF-8-flagged) names as GB18030 when they are."""
    name = info.filename
    if info.flag_bits & 0x800:
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return name


def _refusal(info: zipfile.ZipInfo, name: str, member: str) -> InputError | None:
    """Why a member is not read (an absolute or ``..`` name, a symlink, encryption), or None."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return InputError(member, "absolute path in archive member name")
    if ".." in parts:
        return InputError(member, "path traversal ('..') in archive member name")
    if stat.S_ISLNK(info.external_attr >> 16):
        return InputError(member, "symbolic link member")
    if info.flag_bits & 0x1:
        return UnsupportedFormatError(member, "encrypted member")
    return None


@dataclass
class _Limits:
    """The bounds of one archive walk, and what the walk has used of them so far."""

    archive: str
    max_members: int
    max_member_bytes: int
    max_ratio: int
    bytes_left: int
    members: int = 0

    @property
    def exhausted(self) -> bool:
        """The archive-wide bounds are crossed: the walk stops."""
        return self.bytes_left < 0 or self.members > self.max_members


def _read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, shown: str, limits: _Limits
) -> bytes | InputError:
    buf = io.BytesIO()
    compressed = max(info.compress_size, 1)
    max_bytes, max_ratio = limits.max_member_bytes, limits.max_ratio
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                size = buf.tell() + len(chunk)
                if size > max_bytes:
                    return InputTooLargeError(shown, f"member unpacks to over {max_bytes} bytes")
                if size > _RATIO_FLOOR and size > max_ratio * compressed:
                    return InputTooLargeError(
                        shown, f"member expands more than {max_ratio}x its compressed size (zip bomb?)"
                    )
                if len(chunk) > limits.bytes_left:
                    limits.bytes_left = -1
                    return InputTooLargeError(shown, "archive unpacks to more than the total-size limit")
                limits.bytes_left -= len(chunk)
                buf.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        return InputError(shown, f"corrupt archive member: {exc}")
    except NotImplementedError as exc:
        return UnsupportedFormatError(shown, f"unsupported zip compression: {exc}")
    except RuntimeError as exc:  # encrypted without the flag bit, etc.
        return InputError(shown, f"cannot read archive member: {exc}")
    except Exception as exc:  # zlib.error and decompressor-specific errors
        return InputError(shown, f"corrupt archive member: {type(exc).__name__}: {exc}")
    return buf.getvalue()


def _open_zip(source: Path | IO[bytes], name: str) -> zipfile.ZipFile | InputError:
    try:
        return zipfile.ZipFile(source)
    except _NOT_A_ZIP as exc:
        return InputError(name, f"not a readable zip archive: {exc}")
    except Exception as exc:
        return InputError(name, f"not a readable zip archive: {type(exc).__name__}: {exc}")


def _walk(zf: zipfile.ZipFile, prefix: str, depth: int, limits: _Limits) -> Members:
    """The members of one (outer or nested) archive, until the archive-wide limits are crossed."""
    for info in zf.infolist():
        if info.is_dir():
            continue
        limits.members += 1
        if limits.members > limits.max_members:
            yield (
                limits.archive,
                InputTooLargeError(limits.archive, f"archive has more than {limits.max_members} members"),
            )
            return
        name = _member_name(info)
        member = f"{prefix}!{name}"
        refused = _refusal(info, name, member)
        if refused is not None:
            yield member, refused
            continue
        data = _read_member(zf, info, member, limits)
        if isinstance(data, bytes) and name.lower().endswith(".zip"):
            yield from _nested(data, member, depth, limits)
        else:
            yield member, data
        if limits.exhausted:
            return


def _nested(data: bytes, member: str, depth: int, limits: _Limits) -> Members:
    """A ``.zip`` member: its members (one level deep), or why it is not opened."""
    if depth >= 1:
        yield member, UnsupportedFormatError(member, "zip nested more than one level deep")
        return
    inner = _open_zip(io.BytesIO(data), member)
    if isinstance(inner, InputError):
        yield member, inner
        return
    with inner:
        yield from _walk(inner, member, depth + 1, limits)


def iter_zip(
    path: Path,
    *,
    max_members: int = 10_000,
    max_member_bytes: int = 64 * 1024 * 1024,
    max_total_bytes: int = 1024 * 1024 * 1024,
    max_ratio: int = 200,
) -> Members:
    """Yield ``("archive.zip!inner/name", bytes or InputError)`` for each file in a zip.

    Directory entries are skipped. A member is refused (an :class:`InputError` in place of its
    bytes) for an absolute or ``..`` name, a symlink, encryption, more than ``max_member_bytes``
    unpacked, or expanding more than ``max_ratio`` times (judged past 1 MiB of output). A ``.zip``
    member is opened once (depth 1); a zip inside that is refused. When ``max_members`` or
    ``max_total_bytes`` is exceeded, one last error item is yielded and iteration stops. A file
    that is not a readable zip gives a single ``(str(path), InputError)``.
    """
    shown = shown_path(str(path))
    limits = _Limits(shown, max_members, max_member_bytes, max_ratio, bytes_left=max_total_bytes)
    outer = _open_zip(path, shown)
    if isinstance(outer, InputError):
        yield shown, outer
        return
    with outer:
        yield from _walk(outer, shown, 0, limits)


def open_package(data: bytes) -> zipfile.ZipFile | None:
    """``data`` as an open zip archive (the caller closes it), or None when it is not a readable one."""
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except _NOT_A_ZIP:
        return None


def is_docx(package: zipfile.ZipFile | None, suffix: str) -> bool:
    """A zip container is read as a DOCX: named ``.docx``, or holding ``word/document.xml``."""
    if suffix == ".docx":
        return True
    if package is None:
        return False
    try:
        return "word/document.xml" in package.namelist()
    except _NOT_A_ZIP:
        return False


__all__: Final[list[str]] = ["is_docx", "iter_zip", "open_package"]
