"""Plain-text grids made explicit (read/plain.py): bare markdown tables, CSV files."""

from __future__ import annotations

from extractor.read.plain import close_pipe_tables, csv_to_tabs


def test_bare_markdown_rows_get_their_outer_pipes() -> None:
    text = "表四\n复议 | 诉讼 | 总计\n--- | --- | ---\n | 10 | 10\n4 | 6 | \n\n后文 | 不是表\n"
    assert close_pipe_tables(text) == (
        "表四\n|复议 | 诉讼 | 总计|\n--- | --- | ---\n| | 10 | 10|\n|4 | 6 | |\n\n后文 | 不是表\n"
    )


def test_a_row_whose_cell_count_differs_is_left_as_printed() -> None:
    text = "a | b | c\n--- | --- | ---\n1 | 2 | 3 |\n1 | 2\n"
    assert close_pipe_tables(text) == "|a | b | c|\n--- | --- | ---\n1 | 2 | 3 |\n1 | 2\n"


def test_tables_with_outer_pipes_and_text_without_tables_are_unchanged() -> None:
    for text in ("| a | b |\n|---|---|\n| 1 | |\n", "一、总体情况\n--- 分隔 ---\n", "无表格"):
        assert close_pipe_tables(text) is text


def test_csv_records_become_tab_rows_with_quoted_commas_and_breaks_inside_a_cell() -> None:
    text = '行政处罚,1,,16\n"（二）部分公开（区分处理的，只计这一情\n形）",3,"1,234"\n'
    assert csv_to_tabs(text) == "行政处罚\t1\t\t16\n（二）部分公开（区分处理的，只计这一情 形）\t3\t1,234\n"
