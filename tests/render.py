"""Render a figure set of our own into every layout real reports use.

:func:`figures` makes a consistent set of tables (H1–H4 hold) for a template; :func:`blocks`
turns it into a document model (paragraphs and grids of cell texts, a report as the national
format prints it); :func:`render` writes that model as tab rows, pipe rows, markdown (with and
without outer pipes), CSV, one cell per line, HTML, HTML escaped in JSON, PDF (reportlab, ruled
tables) or DOCX (python-docx), with the values written plain, blank for zero, in full-width
digits or with thousands separators.

Transforms on the model (:func:`relabel`, :func:`insert_rows`, :func:`single_row_other`,
:func:`only_tables`) make the misprints, furniture and partial reports the tests need.
"""

from __future__ import annotations

import copy
import html
import io
import json
import random
from dataclasses import dataclass, field
from typing import Any

from extractor.spec import ACTIVE_ROWS, APPLICANT_COLUMNS, APPLICATION_ROWS, REVIEW_COLUMNS, REVIEW_GROUPS

Tables = dict[str, dict[str, dict[str, Any]]]
LAYOUTS = ("tab", "pipe", "markdown", "bare_markdown", "csv", "lines", "html", "json", "pdf", "docx")
STYLES = ("plain", "blank", "fullwidth", "thousands")
SUFFIX = {"tab": ".txt", "pipe": ".txt", "markdown": ".md", "lines": ".txt", "html": ".html"}
SUFFIX |= {"bare_markdown": ".md", "csv": ".csv", "unruled_pdf": ".pdf"}
SUFFIX |= {"json": ".json", "pdf": ".pdf", "docx": ".docx"}


@dataclass
class Figures:
    template: str
    tables: Tables
    agency: str = "测试县人民政府"
    year: int = 2022


@dataclass
class Block:
    kind: str  # "para" | "table"
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    table: str = ""  # which statistical table a grid is
    value_cols: int = 0  # how many trailing cells of a data row are values
    data: list[bool] = field(default_factory=list)  # per row: a data row (else header/furniture)


# ------------------------------------------------------------------------------- figures
def figures(template: str, seed: int = 1) -> Figures:
    """A consistent figure set: many zeros, some numbers over 1000, identities hold."""
    rnd = random.Random(seed)
    variant_rows = [r.key for r in APPLICATION_ROWS[template]]
    outcome = variant_rows[2:-2]
    apps: dict[str, dict[str, Any]] = {k: {} for k in variant_rows}
    for col in APPLICANT_COLUMNS[:6]:
        scale = 1500 if col == "natural_person" else 6
        for k in outcome:
            apps[k][col] = rnd.choice([0, 0, 0, rnd.randint(1, scale)])
        apps["carried_forward"][col] = rnd.choice([0, rnd.randint(1, 9)])
        done = sum(apps[k][col] for k in outcome)
        apps["total_processed"][col] = done
        apps["carried_over"][col] = rnd.randint(0, done + apps["carried_forward"][col])
        apps["new_received"][col] = done + apps["carried_forward"][col] - apps["carried_over"][col]
    for row in apps.values():
        row["total"] = sum(row[c] for c in APPLICANT_COLUMNS[:6])
    review: dict[str, dict[str, Any]] = {}
    for g in REVIEW_GROUPS:
        cells = {c: rnd.choice([0, 0, rnd.randint(1, 12)]) for c in REVIEW_COLUMNS[:4]}
        review[g] = {**cells, "total": sum(cells.values())}
    active: dict[str, dict[str, Any]] = {}
    for spec in ACTIVE_ROWS[template]:
        row: dict[str, Any] = {}
        for col in spec.columns:
            if col == "change":
                row[col] = rnd.choice([0, rnd.randint(1, 30), -rnd.randint(1, 9)])
            elif col == "amount_wan_yuan":
                row[col] = rnd.choice([0, 12.5, 3.0475])
            elif col == "amount":
                row["amount"], row["amount_text"] = 1751292.6, "1751292.6元"
            else:
                row[col] = rnd.choice([0, rnd.randint(1, 40), rnd.randint(1000, 4000)])
        active[spec.key] = row
    tables = {"active_disclosure": active, "applications": apps, "review_litigation": review}
    return Figures(template, tables)


# ------------------------------------------------------------------------------- blocks
_T3_LABELS = {
    "new_received": ["一、本年新收政府信息公开申请数量", "", ""],
    "carried_over": ["二、上年结转政府信息公开申请数量", "", ""],
    "granted": ["三、本年度办理结果", "（一）予以公开", ""],
    "partially_granted": ["", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", ""],
    "denied_state_secret": ["", "（三）不予公开", "1.属于国家秘密"],
    "unable_not_held": ["", "（四）无法提供", "1.本机关不掌握相关政府信息"],
    "rejected_petition": ["", "（五）不予处理", "1.信访举报投诉类申请"],
    "other_no_correction": [
        "",
        "（六）其他处理",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    ],
    "other": ["", "（六）其他处理", ""],
    "total_processed": ["", "（七）总计", ""],
    "carried_forward": ["四、结转下年度继续办理", "", ""],
}
_T2_HEAD = {
    "2021": [
        ("第二十条第（一）项", ["本年制发件数", "本年废止件数", "现行有效件数"], 2),
        ("第二十条第（五）项", ["本年处理决定数量"], 1),
        ("第二十条第（六）项", ["本年处理决定数量"], 2),
        ("第二十条第（八）项", ["本年收费金额（单位：万元）"], 1),
    ],
    "2019": [
        ("第二十条第（一）项", ["本年新制作数量", "本年新公开数量", "对外公开总数量"], 2),
        ("第二十条第（五）项", ["上一年项目数量", "本年增/减", "处理决定数量"], 2),
        ("第二十条第（六）项", ["上一年项目数量", "本年增/减", "处理决定数量"], 2),
        ("第二十条第（八）项", ["上一年项目数量", "本年增/减"], 1),
        ("第二十条第（九）项", ["采购项目数量", "采购总金额"], 1),
    ],
}


def _num(v: Any) -> str:
    if isinstance(v, float):
        return repr(v).rstrip("0").rstrip(".") if not v.is_integer() else str(int(v))
    return str(v)


def _active_rows(fig: Figures) -> list[list[str]]:
    specs = iter(ACTIVE_ROWS[fig.template])
    rows: list[list[str]] = []
    for head, cols, n in _T2_HEAD[fig.template]:
        rows.append([head])
        rows.append(["信息内容", *cols])
        for _ in range(n):
            spec = next(specs)
            vals = fig.tables["active_disclosure"][spec.key]
            cells = []
            for col in spec.columns:
                v = vals[col]
                cells.append(vals["amount_text"] if col == "amount" else _signed(col, v))
            rows.append(_DataRow([spec.label, *cells]))
    return rows


def _signed(col: str, v: Any) -> str:
    return f"+{v}" if col == "change" and v > 0 else _num(v)


def _apps_rows(fig: Figures) -> list[list[str]]:
    head = [
        [
            "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
            "",
            "",
            "申请人情况",
            *[""] * 6,
        ],
        ["", "", "", "自然人", "法人或其他组织", "", "", "", "", "总计"],
        ["", "", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""],
    ]
    rows = list(head)
    for spec in APPLICATION_ROWS[fig.template]:
        item = (f"{spec.number}." if spec.number else "") + _printed(spec.label)
        labels = _T3_LABELS.get(spec.key) or ["", "", item]
        vals = fig.tables["applications"][spec.key]
        rows.append(_DataRow([*labels, *(_num(vals[c]) for c in APPLICANT_COLUMNS)]))
    return rows


def _printed(label: str) -> str:
    return label.replace(",", "、").replace('"', "“", 1).replace('"', "”", 1)


def _review_rows(fig: Figures) -> list[list[str]]:
    sub = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    rev = fig.tables["review_litigation"]
    data = _DataRow(_num(rev[g][c]) for g in REVIEW_GROUPS for c in REVIEW_COLUMNS)
    return [
        ["行政复议", "", "", "", "", "行政诉讼", *[""] * 9],
        ["", "", "", "", "", "未经复议直接起诉", "", "", "", "", "复议后起诉", "", "", "", ""],
        [*sub, *sub, *sub],
        data,
    ]


class _DataRow(list[str]):
    """A row of figures (not a header row): the layouts mark it (e.g. a PDF's data rows)."""


def _table(rows: list[list[str]], table: str, n: int) -> Block:
    return Block("table", rows=rows, table=table, value_cols=n, data=[isinstance(r, _DataRow) for r in rows])


def blocks(fig: Figures) -> list[Block]:
    p = lambda s: Block("para", s)  # noqa: E731
    return [
        p(f"{fig.agency}{fig.year}年政府信息公开工作年度报告"),
        p("一、总体情况"),
        p("本机关认真贯彻落实政府信息公开条例，持续推进政务公开工作。"),
        p("二、主动公开政府信息情况"),
        _table(_active_rows(fig), "active_disclosure", 3),
        p("三、收到和处理政府信息公开申请情况"),
        _table(_apps_rows(fig), "applications", 7),
        p("四、政府信息公开行政复议、行政诉讼情况"),
        _table(_review_rows(fig), "review_litigation", 15),
        p("五、存在的主要问题及改进情况"),
        p("公开内容还不够全面，下一步将加强培训。"),
        p("六、其他需要报告的事项"),
        p("无。"),
    ]


# ------------------------------------------------------------------------------- transforms
def relabel(bl: list[Block], old: str, new: str) -> list[Block]:
    """Misprint a label: replace ``old`` by ``new`` in every cell and paragraph holding it."""
    out = copy.deepcopy(bl)
    hit = False
    for b in out:
        if old in b.text:
            b.text, hit = b.text.replace(old, new), True
        for row in b.rows:
            for i, c in enumerate(row):
                if old in c:
                    row[i], hit = c.replace(old, new), True
    assert hit, old
    return out


def insert_rows(bl: list[Block], table: str, after: str, rows: list[list[str]]) -> list[Block]:
    """Insert rows (page furniture, a repeated header) after the row whose cells contain ``after``."""
    out = copy.deepcopy(bl)
    b = next(b for b in out if b.table == table)
    i = next(i for i, r in enumerate(b.rows) if any(after in c for c in r))
    b.rows[i + 1 : i + 1] = rows
    b.data[i + 1 : i + 1] = [False] * len(rows)
    return out


def furniture(bl: list[Block], fig: Figures) -> list[Block]:
    """Page furniture inside every table: page numbers, 第N页 共M页, the running title, （续表）
    and table 三's header rows repeated at the top of the next page."""
    title = f"{fig.agency}{fig.year}年政府信息公开工作年度报告"
    out = insert_rows(bl, "active_disclosure", "行政许可", [["- 2 -"], [title]])
    head = [list(r) for r in next(b for b in out if b.table == "applications").rows[:3]]
    out = insert_rows(
        out, "applications", "属于行政执法案卷", [["第 3 页 共 6 页"], [title], ["（续表）"], *head]
    )
    return insert_rows(out, "review_litigation", "复议后起诉", [["4/6"], [title]])


def single_row_other(bl: list[Block], fig: Figures) -> list[Block]:
    """Print （六）其他处理 of a 2021 report as one row holding the sum of its three sub-rows."""
    out = copy.deepcopy(bl)
    b = next(b for b in out if b.table == "applications")
    apps = fig.tables["applications"]
    keys = ("other_no_correction", "other_unpaid_fee", "other_other")
    i = next(i for i, r in enumerate(b.rows) if "逾期不补正" in "".join(r))
    summed = [_num(sum(apps[k][c] for k in keys)) for c in APPLICANT_COLUMNS]
    b.rows[i : i + 3] = [["", "（六）其他处理", "", *summed]]
    b.data[i : i + 3] = [True]
    return out


def only_tables(bl: list[Block], keep: set[str], *, title: bool = True) -> list[Block]:
    """An excerpt: only the given statistical tables (and their headings), optionally no title."""
    out = []
    for i, b in enumerate(bl):
        nxt = bl[i + 1] if i + 1 < len(bl) else None
        if b.kind == "table" and b.table not in keep:
            continue
        if b.kind == "para" and nxt is not None and nxt.kind == "table" and nxt.table not in keep:
            continue
        if b.kind == "para" and i == 0 and not title:
            continue
        out.append(b)
    return out


# ------------------------------------------------------------------------------- values
_FW = str.maketrans("0123456789", "０１２３４５６７８９")


def _style_cell(cell: str, style: str, is_value: bool) -> str:
    if not is_value:
        return cell
    if style == "blank" and cell == "0":
        return ""
    if style == "fullwidth":
        return cell.translate(_FW)
    if style == "thousands":
        sign = cell[0] if cell[:1] in ("+", "-") else ""
        body = cell[len(sign) :]
        digits = body.split(".")[0].rstrip("元")
        if digits.isdigit() and len(digits) > 3:
            return sign + f"{int(digits):,}" + body[len(digits) :]
    return cell


def styled(bl: list[Block], style: str) -> list[Block]:
    out = copy.deepcopy(bl)
    for b in out:
        if b.kind != "table":
            continue
        for row, data in zip(b.rows, b.data, strict=True):
            first = len(row) - b.value_cols
            for i, c in enumerate(row):
                row[i] = _style_cell(c, style, data and i >= first and (b.table != "applications" or i >= 3))
    return out


# ------------------------------------------------------------------------------- layouts
def _text(bl: list[Block], layout: str) -> str:
    out: list[str] = []
    for b in bl:
        if b.kind == "para":
            out.append(b.text)
            continue
        for j, row in enumerate(b.rows if layout == "lines" else _padded(b)):
            if layout == "tab":
                out.append("\t".join(row))
            elif layout == "csv":
                out.append(",".join(f'"{c}"' if "," in c else c for c in row))
            elif layout == "bare_markdown":  # GFM without the outer pipes: `` |  | 10 | 4``
                out.append(" | ".join(row))
                if j == 0:
                    out.append(" | ".join(["---"] * len(row)))
            elif layout == "lines":
                out.extend(_line_cells(b, row, b.data[j]))
            else:
                out.append("| " + " | ".join(row) + " |")
                if layout == "markdown" and j == 0:
                    out.append("|" + "---|" * len(row))
        out.append("")
    return "\n".join(out) + "\n"


def _line_cells(b: Block, row: list[str], is_data: bool) -> list[str]:
    """One cell per line: text cells when printed, value cells always (a blank is an empty line)."""
    first = len(row) - b.value_cols
    if b.table == "active_disclosure":
        first = 1
    return [c for i, c in enumerate(row) if c.strip() or (is_data and i >= first)]


def _padded(b: Block) -> list[list[str]]:
    """A grid's rows padded to its width (table 二's blocks have 1–3 value columns)."""
    width = max(len(r) for r in b.rows)
    return [r + [""] * (width - len(r)) for r in b.rows]


def _html(bl: list[Block]) -> str:
    parts = ["<html><body>"]
    for b in bl:
        if b.kind == "para":
            parts.append(f"<p>{html.escape(b.text)}</p>")
            continue
        parts.append('<table border="1">')
        for row in _padded(b):
            parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render(bl: list[Block], layout: str) -> bytes:
    if layout in ("tab", "pipe", "markdown", "bare_markdown", "csv", "lines"):
        return _text(bl, layout).encode()
    if layout == "html":
        return _html(bl).encode()
    if layout == "json":
        return json.dumps({"title": "年报", "content": _html(bl)}, ensure_ascii=False).encode()
    if layout == "docx":
        return _docx(bl)
    if layout == "pdf":
        return _pdf(bl)
    if layout == "unruled_pdf":  # no lines: pdfium's text keeps the cells' order, not their columns
        return _pdf(bl, ruled=False)
    raise ValueError(layout)


def _docx(bl: list[Block]) -> bytes:
    import docx

    d = docx.Document()
    for b in bl:
        if b.kind == "para":
            d.add_paragraph(b.text)
            continue
        t = d.add_table(rows=len(b.rows), cols=max(len(r) for r in b.rows))
        for i, row in enumerate(_padded(b)):
            for j, c in enumerate(row):
                t.cell(i, j).text = c
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


#: per table, cells drawn as plain strings aligned as given: ``{table: {(row, col): "RIGHT"}}``
Aligned = dict[str, dict[tuple[int, int], str]]


def _pdf(
    bl: list[Block],
    pagesize: tuple[float, float] | None = None,
    footer: str = "",
    *,
    ruled: bool = True,
    aligned: Aligned | None = None,
    cells: int = 0,
    curve: bool = False,
    leading: float = 9,
) -> bytes:
    from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
    from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
    from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table  # type: ignore[import-untyped]

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    st = ParagraphStyle("cjk", fontName=font, fontSize=7, leading=leading, wordWrap="CJK")
    in_cell = ParagraphStyle("cell", st, alignment=cells)  # 0 left, 1 centre, 2 right
    page = pagesize or landscape(A4)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=20, rightMargin=20, topMargin=30, bottomMargin=30)
    flow: list[object] = []
    for b in bl:
        if b.kind == "para":
            flow.append(Paragraph(html.escape(b.text), st))
            continue
        width = max(len(r) for r in b.rows)
        data: list[list[object]] = [
            [Paragraph(html.escape(c), in_cell) if c else "" for c in r] for r in _padded(b)
        ]
        style: list[tuple[Any, ...]] = [("GRID", (0, 0), (-1, -1), 0.5, (0, 0, 0))] if ruled else []
        for (i, j), how in (aligned or {}).get(b.table, {}).items():
            data[i][j] = b.rows[i][j]
            style += [("ALIGN", (j, i), (j, i), how), ("FONT", (j, i), (j, i), font, 7)]
        flow.append(Table(data, colWidths=[(page[0] - 40) / width] * width, style=style))
        flow.append(Spacer(1, 6))

    def furniture(canvas: Any, d: Any) -> None:
        if curve:  # a Bézier curve: a page the pdfium reader hands to pdfplumber
            canvas.circle(page[0] - 30, 15, 5)
        if footer:
            canvas.setFont(font, 8)
            canvas.drawString(page[0] / 2 - 30, 12, footer.format(n=d.page))
            canvas.drawString(20, page[1] - 18, "测试县人民政府政府信息公开工作年度报告")

    doc.build(flow, onFirstPage=furniture, onLaterPages=furniture)
    return buf.getvalue()


def render_pdf(bl: list[Block], *, pagesize: tuple[float, float], footer: str, ruled: bool = True) -> bytes:
    """A PDF whose tables run over several pages, with a footer and a running title per page."""
    return _pdf(bl, pagesize, footer, ruled=ruled)
