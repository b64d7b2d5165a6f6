"""``python -m extractor`` — the same CLI as the ``extractor`` console script."""

from extractor.cli import app

app(prog_name="extractor")
