"""The output contract: templates, stable keys and the printed labels that map onto them.

Everything here comes from ``shared/spec/TEMPLATES.md``. Label patterns are matched against
*squeezed* text (see :func:`extractor.read.normalise.squeeze_for_match`): whitespace removed,
brackets/commas/quotes folded to one form, traditional characters simplified.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

TemplateId = Literal["2019", "2021"]
TableKey = Literal["active_disclosure", "applications", "review_litigation"]

TABLE_KEYS: Final[tuple[TableKey, ...]] = ("active_disclosure", "applications", "review_litigation")
TABLE_NAMES: Final[dict[str, str]] = {
    "active_disclosure": "表二 主动公开政府信息情况",
    "applications": "表三 收到和处理政府信息公开申请情况",
    "review_litigation": "表四 行政复议、行政诉讼情况",
}


@dataclass(frozen=True)
class PrintedText:
    """A number column whose text, as printed, a record keeps in a column of its own: table 二's
    procurement amount (read as 元 from ``1.2万元`` or ``12,000``) beside ``amount_text``."""

    number: str
    text: str


@dataclass(frozen=True)
class RowSpec:
    """One canonical row: its key, the label as the template prints it, and match patterns.

    ``patterns`` are tried in order; the first is the canonical (exact) form, later ones are
    tolerated variants (typos, abbreviations) and count as a *fuzzy* label match.
    ``number`` is the sub-item ordinal printed before the label ("1." …), if any.
    """

    key: str
    label: str
    patterns: tuple[str, ...]
    number: str = ""
    columns: tuple[str, ...] = ()
    signed: frozenset[str] = field(default_factory=frozenset)
    #: The column of ``columns`` whose printed text is also kept (it is no number: never summed,
    #: grounded, or sent to the model as a cell).
    printed: PrintedText | None = None

    @property
    def cells(self) -> tuple[str, ...]:
        """Every column a record holds for the row: the numbers, then the printed text kept."""
        return self.columns if self.printed is None else (*self.columns, self.printed.text)


# ---------------------------------------------------------------- table 二
_T2_2021: Final[tuple[RowSpec, ...]] = (
    RowSpec("regulations", "规章", ("规章",), columns=("issued", "repealed", "in_force")),
    RowSpec(
        "normative_documents",
        "行政规范性文件",
        ("行政规范性文件", "规范性文件"),
        columns=("issued", "repealed", "in_force"),
    ),
    RowSpec("licensing", "行政许可", ("行政许可",), columns=("decisions",)),
    RowSpec("punishment", "行政处罚", ("行政处罚",), columns=("decisions",)),
    RowSpec("coercion", "行政强制", ("行政强制",), columns=("decisions",)),
    RowSpec("fees", "行政事业性收费", ("行政事业性收费",), columns=("amount_wan_yuan",)),
)

_T2_2019_SERVICE_COLS = ("prev_items", "change", "decisions")
_T2_2019: Final[tuple[RowSpec, ...]] = (
    RowSpec("regulations", "规章", ("规章",), columns=("new_made", "new_published", "total_published")),
    RowSpec(
        "normative_documents",
        "规范性文件",
        ("规范性文件",),
        columns=("new_made", "new_published", "total_published"),
    ),
    RowSpec(
        "licensing",
        "行政许可",
        ("行政许可",),
        columns=_T2_2019_SERVICE_COLS,
        signed=frozenset({"change"}),
    ),
    RowSpec(
        "other_services",
        "其他对外管理服务事项",
        ("其他对外管理服务事项", "对外管理服务事项"),
        columns=_T2_2019_SERVICE_COLS,
        signed=frozenset({"change"}),
    ),
    RowSpec(
        "punishment",
        "行政处罚",
        ("行政处罚",),
        columns=_T2_2019_SERVICE_COLS,
        signed=frozenset({"change"}),
    ),
    RowSpec(
        "coercion",
        "行政强制",
        ("行政强制",),
        columns=_T2_2019_SERVICE_COLS,
        signed=frozenset({"change"}),
    ),
    RowSpec(
        "fees",
        "行政事业性收费",
        ("行政事业性收费",),
        columns=("prev_items", "change"),
        signed=frozenset({"change"}),
    ),
    RowSpec(
        "procurement",
        "政府集中采购",
        ("政府集中采购",),
        columns=("projects", "amount"),
        printed=PrintedText("amount", "amount_text"),
    ),
)

ACTIVE_ROWS: Final[dict[str, tuple[RowSpec, ...]]] = {"2021": _T2_2021, "2019": _T2_2019}
#: Number column → the column keeping its printed text (``{"amount": "amount_text"}``).
PRINTED_TEXT: Final[dict[str, str]] = {
    r.printed.number: r.printed.text for rows in ACTIVE_ROWS.values() for r in rows if r.printed
}
#: The columns that hold a printed text, not a number.
TEXT_COLUMNS: Final[frozenset[str]] = frozenset(PRINTED_TEXT.values())
#: Column labels of table 二, as the templates print them (both templates' keys).
ACTIVE_COLUMN_LABELS: Final[dict[str, str]] = {
    "issued": "本年制发件数",
    "repealed": "本年废止件数",
    "in_force": "现行有效件数",
    "decisions": "本年处理决定数量",
    "amount_wan_yuan": "本年收费金额(单位:万元)",
    "new_made": "本年新制作数量",
    "new_published": "本年新公开数量",
    "total_published": "对外公开总数量",
    "prev_items": "上一年项目数量",
    "change": "本年增/减",
    "projects": "采购项目数量",
    "amount": "采购总金额(元)",
    "amount_text": "采购总金额(原文)",
}

# ---------------------------------------------------------------- table 三
APPLICANT_COLUMNS: Final[tuple[str, ...]] = (
    "natural_person",
    "commercial",
    "research",
    "social_welfare",
    "legal_service",
    "other_org",
    "total",
)
APPLICANT_COLUMN_LABELS: Final[dict[str, str]] = {
    "natural_person": "自然人",
    "commercial": "商业企业",
    "research": "科研机构",
    "social_welfare": "社会公益组织",
    "legal_service": "法律服务机构",
    "other_org": "其他",
    "total": "总计",
}


def _r(key: str, label: str, *alts: str, number: str = "") -> RowSpec:
    return RowSpec(key, label, (label, *alts), number=number, columns=APPLICANT_COLUMNS)


_T3_HEAD: Final[tuple[RowSpec, ...]] = (
    _r("new_received", "本年新收政府信息公开申请数量", "本年新收"),
    _r("carried_over", "上年结转政府信息公开申请数量", "上年结转"),
    _r("granted", "予以公开"),
    _r("partially_granted", "部分公开"),
    _r("denied_state_secret", "属于国家秘密", "国家秘密", number="1"),
    _r("denied_prohibited", "其他法律行政法规禁止公开", "法律行政法规禁止公开", "禁止公开", number="2"),
    _r("denied_security_stability", '危及"三安全一稳定"', "三安全一稳定", number="3"),
    _r("denied_third_party", "保护第三方合法权益", "第三方合法权益", number="4"),
    _r(
        "denied_internal_affairs",
        "属于三类内部事务信息",
        "三类内部事务",
        "三类内容事务",
        "内部事务信息",
        number="5",
    ),
    _r("denied_process_info", "属于四类过程性信息", "四类过程性", "过程性信息", number="6"),
    _r("denied_enforcement_files", "属于行政执法案卷", "行政执法案卷", "执法案卷", number="7"),
    _r("denied_inquiry_matters", "属于行政查询事项", "行政查询事项", "查询事项", number="8"),
    _r("unable_not_held", "本机关不掌握相关政府信息", "不掌握相关政府信息", "不掌握", number="1"),
    _r("unable_needs_creation", "没有现成信息需要另行制作", "需要另行制作", "没有现成信息", number="2"),
    _r("unable_unclear", "补正后申请内容仍不明确", "仍不明确", number="3"),
    _r("rejected_petition", "信访举报投诉类申请", "信访举报投诉", number="1"),
    _r("rejected_repeated", "重复申请", number="2"),
    _r("rejected_publication", "要求提供公开出版物", "公开出版物", number="3"),
    _r("rejected_excessive", "无正当理由大量反复申请", "大量反复申请", number="4"),
    _r(
        "rejected_confirmation",
        "要求行政机关确认或重新出具已获取信息",
        "确认或重新出具",
        "重新出具已获取信息",
        number="5",
    ),
)
_T3_OTHER_2021: Final[tuple[RowSpec, ...]] = (
    _r(
        "other_no_correction",
        "申请人无正当理由逾期不补正,行政机关不再处理其政府信息公开申请",
        "逾期不补正",
        number="1",
    ),
    _r(
        "other_unpaid_fee",
        "申请人逾期未按收费通知要求缴纳费用,行政机关不再处理其政府信息公开申请",
        "未按收费通知要求缴纳费用",
        "缴纳费用",
        number="2",
    ),
    _r("other_other", "3.其他", "3,其他", "(3)其他", "3其他"),
)
_T3_OTHER_2019: Final[tuple[RowSpec, ...]] = (_r("other", "(六)其他处理", "(六)其他"),)
_T3_TAIL: Final[tuple[RowSpec, ...]] = (
    _r("total_processed", "(七)总计", "(七)合计"),
    _r("carried_forward", "结转下年度继续办理", "结转下年度"),
)

APPLICATION_ROWS: Final[dict[str, tuple[RowSpec, ...]]] = {
    "2021": _T3_HEAD + _T3_OTHER_2021 + _T3_TAIL,
    "2019": _T3_HEAD + _T3_OTHER_2019 + _T3_TAIL,
}


def application_variant(rows: Iterable[str]) -> TemplateId:
    """Which row set (2019 or 2021) a read table 三 holds, from its row keys.

    The variant is decided once, by the reader, from the sub-rows of （六）其他处理 the report
    prints (:func:`extractor.tables.applications.read_applications`, kept as ``TableRead.variant``);
    a record carries it as the rows of its table 三: the 2021 sub-rows, or （六） as one ``other``
    row — also in a 2021-template report printing （六） as one row, which keeps the three
    sub-rows beside it, null (its total is checked as the 2019 rows are). Whatever starts from a
    saved record (``extractor verify``, a review, the review page) reads it here.
    """
    keys = set(rows)
    return "2021" if "other_other" in keys and "other" not in keys else "2019"


#: H2: rows whose sum is ``total_processed``.
OUTCOME_ROWS: Final[dict[str, tuple[str, ...]]] = {
    t: tuple(r.key for r in rows[2:-2]) for t, rows in APPLICATION_ROWS.items()
}
# ---------------------------------------------------------------- table 四
REVIEW_GROUPS: Final[tuple[str, ...]] = ("review", "litigation_direct", "litigation_after_review")
REVIEW_GROUP_LABELS: Final[dict[str, str]] = {
    "review": "行政复议",
    "litigation_direct": "行政诉讼/未经复议直接起诉",
    "litigation_after_review": "行政诉讼/复议后起诉",
}
REVIEW_COLUMNS: Final[tuple[str, ...]] = ("upheld", "corrected", "other", "pending", "total")
REVIEW_COLUMN_LABELS: Final[dict[str, str]] = {
    "upheld": "结果维持",
    "corrected": "结果纠正",
    "other": "其他结果",
    "pending": "尚未审结",
    "total": "总计",
}

# ---------------------------------------------------------------- template detection
TEMPLATE_MARKERS: Final[dict[str, tuple[str, ...]]] = {
    "2021": ("本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额", "逾期不补正"),
    "2019": (
        "本年新制作数量",
        "本年新公开数量",
        "对外公开总数量",
        "上一年项目数量",
        "本年增/减",
        "其他对外管理服务事项",
        "政府集中采购",
    ),
}


def codebook() -> list[tuple[str, str, str, str, str, str]]:
    """Every key of every template with its printed label:
    (template, table, row, column, row label, column label), in template order."""
    out: list[tuple[str, str, str, str, str, str]] = []
    for template in ("2021", "2019"):
        for r in ACTIVE_ROWS[template]:
            out += [
                (template, "active_disclosure", r.key, c, r.label, ACTIVE_COLUMN_LABELS[c]) for c in r.cells
            ]
        for r in APPLICATION_ROWS[template]:
            label = f"{r.number}.{r.label}" if r.number else r.label
            out += [
                (template, "applications", r.key, c, label, APPLICANT_COLUMN_LABELS[c]) for c in r.columns
            ]
        for g in REVIEW_GROUPS:
            out += [(template, "review_litigation", g, c, REVIEW_GROUP_LABELS[g], REVIEW_COLUMN_LABELS[c])
                    for c in REVIEW_COLUMNS]  # fmt: skip
    return out
