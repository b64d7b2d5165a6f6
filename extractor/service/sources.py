"""The source text of a stored record, re-read from its file (or zip member) when unchanged."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from extractor.errors import InputError
from extractor.pipeline import source_text


def read_source(on_disk: str | None, path: str, sha256: str | None = None) -> str | None:
    """The text evidence offsets point into, or None when the file is gone, changed or unreadable.

    ``on_disk`` is the file holding the report (a zip for ``archive.zip!member`` paths); ``path``
    the record's path, whose suffix picks the reader.
    """
    if not on_disk:
        return None
    member = path.split("!", 1)[1] if "!" in path else None
    try:
        if member is not None:
            with zipfile.ZipFile(on_disk) as zf:
                data = zf.read(member)
        else:
            data = Path(on_disk).read_bytes()
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError):
        return None
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        return None
    try:
        return source_text(data, member or path)
    except InputError:
        return None
