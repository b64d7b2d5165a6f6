"""The review page in a real headless Chromium (Debian's ``chromium`` + ``chromedriver``).

Offline page (``extractor review``): filters, a record beside its source, hovering a cell lights
its evidence span, unread cells shown as unread, a record without evidence says so. Served page:
a person corrects the unread cells of a ``needs_review`` record, a wrong value is refused with
the failing check, the right one is accepted and the status becomes ``reviewed``. Screenshots go
to ``test-artifacts/`` (or ``$EXTRACTOR_ARTIFACTS``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from extractor.pipeline import source_text
from extractor.spec import APPLICANT_COLUMNS, APPLICATION_ROWS
from tests.helpers import ROOT
from tests.service_reports import figures_report, unread_report
from tests.service_server import running

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("EXTRACTOR_ARTIFACTS", ROOT / "test-artifacts"))


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    assert CHROMIUM.exists() and DRIVER.exists(), (
        "install Debian's chromium and chromium-driver (.ci/run does)"
    )
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1600,1000",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):  # fmt: skip
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def evidence_for(source: str) -> dict[str, dict[str, dict[str, list[int]]]]:
    """Spans of table 三's numbers in ``source``: on the line of each row label, the numbers after it."""
    spans: dict[str, dict[str, list[int]]] = {}
    for spec in APPLICATION_ROWS["2021"]:
        label = spec.patterns[-1] if spec.key == "other_other" else spec.patterns[0]
        for found in re.finditer(re.escape(label), source):  # the row's line: its label and 7 numbers
            base = found.end()
            nums = list(re.finditer(r"\d+", source[base : source.find("\n", base)]))
            if len(nums) == len(APPLICANT_COLUMNS):
                spans[spec.key] = {
                    c: [base + m.start(), base + m.end()]
                    for c, m in zip(APPLICANT_COLUMNS, nums, strict=True)
                }
                break
    return {"applications": spans}


def extract_to(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    out = folder / "results.jsonl"
    subprocess.run([sys.executable, "-m", "extractor", "extract", *files, "-o", str(out), "-q"], cwd=folder,
                   check=True, capture_output=True)  # fmt: skip
    return out


def test_offline_page_links_cells_to_their_source(tmp_path: Path, browser: WebDriver) -> None:
    good, (unread, _row) = figures_report(3), unread_report(4)
    results = extract_to(tmp_path, {"good.txt": good, "unread.txt": unread})
    lines = [json.loads(x) for x in results.read_text(encoding="utf-8").splitlines()]
    src = source_text((tmp_path / "good.txt").read_bytes(), "good.txt")
    expected = evidence_for(src)["applications"]  # the reader's own spans, found independently here
    assert expected and {k: lines[0]["evidence"]["applications"][k] for k in expected} == expected
    page = tmp_path / "review.html"
    done = subprocess.run([sys.executable, "-m", "extractor", "review", "results.jsonl", "-o", str(page)],
                          cwd=tmp_path, capture_output=True, text=True, check=True)  # fmt: skip
    assert "2 records" in done.stdout
    assert "http" not in re.sub(r'content="[^"]*"', "", page.read_text(encoding="utf-8")).replace(
        "http-equiv", ""
    )
    browser.get(page.as_uri())
    rows = browser.find_elements(By.CSS_SELECTOR, "#list tbody tr")
    assert len(rows) == 2
    Select(browser.find_element(By.ID, "f-status")).select_by_visible_text("needs_review")
    assert (
        next(r.text for r in browser.find_elements(By.CSS_SELECTOR, "#list tbody tr")).count("unread.txt")
        == 1
    )
    Select(browser.find_element(By.ID, "f-check")).select_by_visible_text("unreadable")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#list tbody tr")) == 1
    browser.find_element(By.CSS_SELECTOR, "#list tbody tr").click()
    cell = browser.find_element(By.CSS_SELECTOR, 'td[data-r="partially_granted"][data-c="natural_person"]')
    assert (
        cell.text == "unread"
        and "unread" in cell.get_attribute("class")
        and "fail" in cell.get_attribute("class")
    )
    assert "no evidence" in cell.get_attribute("title")  # an unread cell has no span to show
    assert "could not be read" in browser.find_element(By.CSS_SELECTOR, ".findings").text
    Select(browser.find_element(By.ID, "f-check")).select_by_visible_text("all")
    Select(browser.find_element(By.ID, "f-status")).select_by_visible_text("verified")
    browser.find_element(By.CSS_SELECTOR, "#list tbody tr").click()
    cell = browser.find_element(By.CSS_SELECTOR, 'td[data-r="partially_granted"][data-c="total"]')
    start, end = lines[0]["evidence"]["applications"]["partially_granted"]["total"]
    ActionChains(browser).move_to_element(cell).perform()
    mark = browser.find_element(By.ID, "hl")
    assert (
        mark.text == src[start:end] == str(lines[0]["tables"]["applications"]["partially_granted"]["total"])
    )
    before = browser.execute_script(
        "return document.getElementById('src').textContent.slice(0, arguments[0])", start
    )
    assert before == src[:start]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "review-offline-hover.png"))


def test_served_page_settles_a_needs_review_record(tmp_path: Path, browser: WebDriver) -> None:
    text, row = unread_report(5)
    with running(tmp_path / "data") as base:
        resp = httpx.post(f"{base}/v1/extract", files={"file": ("unread.txt", text.encode())})
        rec_id = resp.headers["x-record-id"]
        assert resp.json()["status"] == "needs_review"
        browser.get(f"{base}/review#{rec_id}")
        wait = WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,))
        wait.until(lambda d: d.find_elements(By.ID, "review-form"))
        assert browser.find_element(By.ID, "status").text == "needs_review"

        def fill(values: list[int]) -> None:
            for col, v in zip(APPLICANT_COLUMNS, values, strict=True):
                box = browser.find_element(
                    By.CSS_SELECTOR, f'td[data-r="partially_granted"][data-c="{col}"] input'
                )
                assert box.get_attribute("placeholder") == "unread"
                box.clear()
                box.send_keys(str(v))

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "review-served-before.png"))
        fill([row[0] + 2, *row[1:]])
        browser.find_element(By.ID, "reviewer").send_keys("alice")
        browser.find_element(By.ID, "reason").send_keys("cell printed twice; the PDF shows one number")
        browser.find_element(By.ID, "submit").click()
        wait.until(lambda d: d.find_element(By.ID, "msg").text.startswith("refused"))
        assert "H3" in browser.find_element(By.ID, "msg").text
        fill(row)
        browser.find_element(By.ID, "submit").click()
        wait.until(lambda d: d.find_element(By.ID, "status").text == "reviewed")
        assert "status is now reviewed" in browser.find_element(By.ID, "msg").text
        cell = browser.find_element(
            By.CSS_SELECTOR, 'td[data-r="partially_granted"][data-c="natural_person"]'
        )
        assert "human" in cell.get_attribute("class")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "review-served.png"))
        assert httpx.get(f"{base}/v1/records/{rec_id}").json()["status"] == "reviewed"
    if os.environ.get("EXTRACTOR_REVIEW_PNG"):  # the lead's note takes a copy
        shutil.copy(ARTIFACTS / "review-served.png", os.environ["EXTRACTOR_REVIEW_PNG"])


def test_review_command_names_a_malformed_results_file(tmp_path: Path) -> None:
    bad = tmp_path / "results.jsonl"
    bad.write_text('{"path": "a.txt", "status": "verified"}\nnot json\n', encoding="utf-8")
    cmd = [sys.executable, "-m", "extractor", "review", str(bad), "-o", str(tmp_path / "r.html")]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 2 and "line 2 is not valid JSON" in done.stderr
    assert not (tmp_path / "r.html").exists()
