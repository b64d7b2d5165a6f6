"""``python -m extractor`` — the same CLI as the ``extractor`` console script."""

from .cli import app

app(prog_name="extractor")
