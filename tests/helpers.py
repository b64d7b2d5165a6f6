"""Shared test helpers: paths of the bundled samples and layout renderers for seed tables."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SEEDS = sorted(SAMPLES.glob("0*_*.txt"))
CORPUS = SAMPLES / "corpus"


def seed(prefix: str) -> Path:
    return next(p for p in SEEDS if p.name.startswith(prefix))


def tab_rows(text: str) -> list[list[str]]:
    """The tab-separated rows of a seed, cells stripped (header/prose lines are single cells)."""
    return [[c.strip() for c in line.split("\t")] for line in text.splitlines()]


def relayout(text: str, sep: str) -> str:
    """Re-render every tab-separated line of a seed with another cell layout."""
    out = []
    for line in text.splitlines():
        if "\t" not in line:
            out.append(line)
            continue
        cells = [c.strip() for c in line.split("\t")]
        if sep == "pipe":
            out.append("| " + " | ".join(cells) + " |")
        elif sep == "lines":
            out.extend(c for c in cells if c)
        elif sep == "spaces":
            out.append("  ".join(c for c in cells if c))
        elif sep == "glued":
            out.append("".join(cells))
        else:
            raise ValueError(sep)
    return "\n".join(out)


def to_html(text: str) -> str:
    """Render a seed as HTML: paragraphs, and each tab block as a <table> with &nbsp; blanks."""
    parts = ["<html><body>"]
    in_table = False
    for line in text.splitlines():
        if "\t" in line:
            if not in_table:
                parts.append('<table border="1">')
                in_table = True
            cells = "".join(f"<td>{c.strip() or '&nbsp;'}</td>" for c in line.split("\t"))
            parts.append(f"<tr>{cells}</tr>")
        else:
            if in_table:
                parts.append("</table>")
                in_table = False
            if line.strip():
                parts.append(f"<p>{line}</p>")
    if in_table:
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
