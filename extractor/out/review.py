"""The review page: one self-contained HTML file (no network) to look at records beside their source.

``render_page(items)`` embeds the records (and each one's source text) as JSON in the
page; ``served=True`` embeds nothing and the page reads the API instead (``/v1/records``…), and
shows the form that submits a review. Cells are linked to their evidence spans (``evidence``:
character offsets into the source text, see :func:`extractor.pipeline.source_text`); a record
without evidence says "no evidence"; an unread cell is shown as unread, never as 0.
"""

from __future__ import annotations

import html
import json
from typing import Any, Final

from extractor.out.review_assets import CSS, JS
from extractor.spec import (
    ACTIVE_COLUMN_LABELS,
    ACTIVE_ROWS,
    APPLICANT_COLUMN_LABELS,
    APPLICATION_ROWS,
    REVIEW_COLUMN_LABELS,
    REVIEW_COLUMNS,
    REVIEW_GROUP_LABELS,
    REVIEW_GROUPS,
    TABLE_NAMES,
)

#: What each check means, for a person (the finding's own message follows).
CHECK_TEXT: Final[dict[str, str]] = {
    "H1": "Table 三: 本年新收 + 上年结转 must equal (七)总计 + 结转下年度, column by column.",
    "H2": "Table 三: (七)总计 must equal the sum of the outcome rows (三 to 六).",
    "H3": "Table 三: each row's 总计 must equal the sum of the six applicant columns.",
    "H4": "Table 四: each group's 总计 must equal 维持 + 纠正 + 其他 + 尚未审结.",
    "H5": "Cells are non-negative whole numbers (except 本年增/减 and money amounts).",
    "label": "A row label was not found as printed, or only approximately.",
    "complete": "A cell or row the template requires was not read.",
    "missing_table": "A table of the template was not found in the report.",
    "grounding": "A number in the tables does not occur in the table's text: it may be misread.",
    "split": "Digits printed run together were cut into cells; the cut may be wrong.",
    "blank": "Blank cells were read as 0, or a blank 总计 was left unread.",
    "unreadable": "A row's cells could not be read.",
    "template": "The table format (2019 or 2021) could not be recognised.",
    "scanned": "The PDF is a scan with no text: nothing could be read.",
    "review": "A person reviewed this record.",
    "duplicate": "The same file appears more than once.",
}


def layout() -> dict[str, Any]:
    """Row order, labels and columns of every table, by template (what the page draws)."""
    out: dict[str, Any] = {}
    for template in ("2021", "2019"):
        active = [[r.key, r.label, list(r.cells)] for r in ACTIVE_ROWS[template]]
        apps = [[r.key, f"{r.number}.{r.label}" if r.number else r.label, list(r.columns)]
                for r in APPLICATION_ROWS[template]]  # fmt: skip
        review = [[g, REVIEW_GROUP_LABELS[g], list(REVIEW_COLUMNS)] for g in REVIEW_GROUPS]
        out[template] = {"active_disclosure": active, "applications": apps, "review_litigation": review}
    return {
        "templates": out,
        "columns": {**ACTIVE_COLUMN_LABELS, **APPLICANT_COLUMN_LABELS, **REVIEW_COLUMN_LABELS},
        "tables": TABLE_NAMES,
        "checks": CHECK_TEXT,
    }


def _failing(rec: dict[str, Any]) -> list[str]:
    found = rec.get("findings") or []
    return sorted({f["check"] for f in found if isinstance(f, dict) and f.get("severity") == "error"})


def page_item(rec_id: str, rec: dict[str, Any], source: str | None) -> dict[str, Any]:
    """One record as the offline page embeds it."""
    return {
        "id": rec_id,
        "path": rec.get("path"),
        "status": rec.get("status"),
        "agency": rec.get("agency"),
        "year": rec.get("year"),
        "checks": _failing(rec),
        "record": rec,
        "source": source,
    }


def _embed(data: Any) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(items: list[dict[str, Any]], *, served: bool, title: str = "") -> str:
    """The whole page as one string. ``items`` come from :func:`page_item` (offline mode)."""
    data = {"served": served, "records": items, "layout": layout()}
    heading = html.escape(title or ("extractor review" if served else "extractor review (offline)"))
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; \
script-src 'unsafe-inline'; connect-src 'self'">
<title>{heading}</title><style>{CSS}</style></head>
<body>
<header><h1>{heading}</h1><span id="count"></span></header>
<section id="filters">
<label>status <select id="f-status"><option value="">all</option></select></label>
<label>agency <select id="f-agency"><option value="">all</option></select></label>
<label>year <select id="f-year"><option value="">all</option></select></label>
<label>failing check <select id="f-check"><option value="">all</option></select></label>
</section>
<main><nav><table id="list"><thead><tr><th>status</th><th>agency</th><th>year</th><th>file</th>\
<th>failing</th></tr></thead><tbody></tbody></table></nav>
<article id="detail"><p class="hint">Pick a record in the list.</p></article></main>
<script id="data" type="application/json">{_embed(data)}</script>
<script>{JS}</script>
</body></html>
"""
