"""Reports built from a seed with our own figures, in several layouts (service tests, bulk script)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import relayout, seed, to_html


#: Table 三 rows we fill in, with the seven applicant columns (H1–H3 hold for any n).
def _rows(n: int) -> dict[str, list[int]]:
    a, b = n % 7 + 1, n % 3
    return {
        "本年新收": [a + b, 1, 0, 0, 0, 0, a + b + 1],
        "部分公开": [a, 1, 0, 0, 0, 0, a + 1],
        "重复申请": [b, 0, 0, 0, 0, 0, b],
        "(七) 总计": [a + b, 1, 0, 0, 0, 0, a + b + 1],
    }


def _set_row(text: str, label: str, values: list[int]) -> str:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if label in line and "\t" in line:
            cells = line.split("\t")
            zeros = [j for j, c in enumerate(cells) if c.strip() == "0"]
            for j, v in zip(zeros, values, strict=False):
                cells[j] = str(v)
            lines[i] = "\t".join(cells)
            return "\n".join(lines)
    raise KeyError(label)


def figures_report(n: int = 3) -> str:
    """Seed 003 (2021 template) with non-zero figures in table 三 that satisfy every identity."""
    text = seed("003").read_text(encoding="utf-8")
    for label, values in _rows(n).items():
        text = _set_row(text, label, values)
    return text


def unread_report(n: int = 3) -> tuple[str, list[int]]:
    """The same report with one cell of 部分公开 printed illegibly (two numbers in one cell): the
    rules leave the row unread (needs_review). Returns the text and the row as it should read."""
    good = figures_report(n)
    row = _rows(n)["部分公开"]
    marker = f"不计其他情形)\t\t{row[0]}\t"
    assert marker in good
    return good.replace(marker, f"不计其他情形)\t\t{row[0]} {row[0]}\t", 1), row


def layouts(n: int) -> tuple[str, str]:
    """Report ``n`` (distinct figures, and a distinct title) in one of four layouts: (name, text)."""
    text = figures_report(n).replace("年度报告", f"年度报告(第{n}号)", 1)
    kind = n % 4
    if kind == 1:
        return f"r{n:05d}.txt", relayout(text, "pipe")
    if kind == 2:
        return f"r{n:05d}.md", relayout(text, "lines")
    if kind == 3:
        return f"r{n:05d}.html", to_html(text)
    return f"r{n:05d}.txt", text


def write_many(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n in range(count):
        name, text = layouts(n)
        path = folder / name
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out
