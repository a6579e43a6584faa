"""End to end: `streamlit run app.py` on localhost, driven by a real headless Chromium.

Uses Debian's /usr/bin/chromium through Playwright (no browser download). Skipped only when
Chromium is missing and CI is not set; in CI a missing browser fails the test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 60

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="/usr/bin/chromium is not installed (CI requires it)",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"streamlit did not answer within {STARTUP_SECONDS}s:\n{log.read_text()}")


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[str]:
    """The app served on a free port with a temporary ledger, in demo mode."""
    port = free_port()
    env = {
        **os.environ,
        "QUOTAPOOL_DB": f"sqlite:///{tmp_path / 'ledger.db'}",
        "QUOTAPOOL_SCENARIOS_DIR": str(tmp_path / "scenarios"),
        "PYTHONPATH": str(REPO),
        "QUOTAPOOL_DEMO": "1",  # as make app sets it
    }
    env.pop("QUOTAPOOL_USERS", None)  # demo mode: one demo user, no sign-in
    log = tmp_path / "streamlit.log"
    settings = tmp_path / ".streamlit"  # the app's own Streamlit settings, not the users file
    settings.mkdir()
    shutil.copy(REPO / ".streamlit" / "config.toml", settings / "config.toml")
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO / "app.py"),
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
    ]
    # Run from the temporary directory: no users file or secrets of the developer's apply.
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def sample_county_names() -> list[str]:
    """The bundled sample city's counties, as the app's default scenario reads them."""
    from app_ui.config import SAMPLE_SCENARIO
    from optimizer.scenario import load_inputs, load_scenario

    counties, _ = load_inputs(load_scenario(SAMPLE_SCENARIO))
    return [str(name) for name in counties["name"]]


def launch(playwright):  # type: ignore[no-untyped-def]
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def bundled_plan(name: str) -> dict:
    """The summary of a bundled scenario's plan, computed without the app."""
    from app_ui.config import SAMPLE_SCENARIO
    from optimizer.plan import make_plan
    from optimizer.scenario import load_inputs, load_scenario

    scenario = load_scenario(SAMPLE_SCENARIO.parent / f"{name}.toml")
    counties, enrolment = load_inputs(scenario)
    return make_plan(counties, enrolment, scenario.standards, scenario.policy).summary


def test_run_the_sample_scenario_in_chromium(app_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    screenshot = tmp_path / "whatif-plan.png"
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.goto(app_url, wait_until="domcontentloaded")
            title = page.get_by_role("heading", name="教师编制调配：模拟测算")
            expect(title).to_be_visible(timeout=60_000)
            page.get_by_role("button", name="求解").click()
            expect(page.get_by_text("已求得最优方案")).to_be_visible(timeout=60_000)
            plan = page.locator('[data-testid="stDataFrame"]').filter(has_text="调整后编制 new")
            expect(plan).to_have_count(1, timeout=30_000)
            for name in sample_county_names():
                expect(plan).to_contain_text(name)
            expect(page.get_by_text("调整编制数")).to_be_visible(timeout=30_000)
            charts = page.locator('[data-testid="stVegaLiteChart"]')
            expect(charts).to_have_count(2, timeout=30_000)
            for chart in charts.all():  # drawn, not just placeholders
                expect(chart.locator("canvas, svg").first).to_be_visible(timeout=30_000)
            expect(page.get_by_text("演示模式").first).to_be_visible()
            plan.scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot))
            with page.expect_download(timeout=30_000) as download:
                page.get_by_role("button", name="下载方案 Excel").click()
            workbook = tmp_path / "plan.xlsx"
            download.value.save_as(workbook)
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000
    cells = {
        str(cell.value)
        for row in openpyxl.load_workbook(workbook).worksheets[0].iter_rows()
        for cell in row
    }
    assert set(sample_county_names()) <= cells
    out = REPO / "out"
    out.mkdir(exist_ok=True)
    shutil.copy(screenshot, out / screenshot.name)


def solved_page(browser, app_url: str):  # type: ignore[no-untyped-def]
    """A page on the app, once the starting scenario's plan is shown."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    page.goto(app_url, wait_until="domcontentloaded")
    expect(page.get_by_text("已求得最优方案")).to_be_visible(timeout=60_000)
    return page


def pick(page, box, option: str) -> None:  # type: ignore[no-untyped-def]
    """Choose an option of a select box (its list may take a moment to open)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    expect(box).to_be_visible(timeout=30_000)
    for _ in range(5):
        box.click()
        try:
            page.get_by_role("option", name=option).click(timeout=5_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"could not pick {option!r}")


def test_a_loaded_bundled_scenario_is_solved_as_loaded_in_chromium(app_url: str) -> None:
    """Issue 8.1: load standards_2001 (载入示例方案), click 求解 without touching the form: the
    plan is standards_2001's, the heading names it, and English keeps the form's settings."""
    from playwright.sync_api import expect, sync_playwright

    summary = bundled_plan("standards_2001")
    largest = f"{summary['max_relative_shortfall']:.1%}"  # one decimal everywhere (issue 8.8)
    moved = f"{summary['moved']:,}"
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = solved_page(browser, app_url)
            page.get_by_text("载入示例方案").click()
            pick(page, page.get_by_role("combobox", name="方案", exact=True), "standards_2001")
            page.get_by_role("button", name="载入", exact=True).click()
            heading = page.get_by_role("heading", name="调配方案: standards_2001")
            expect(heading).to_contain_text("2001 年城乡分类标准", timeout=30_000)
            edition = page.locator('[data-testid="stRadioOption"][data-selected="true"]')
            expect(edition).to_have_text("2001 年城乡分类标准", timeout=30_000)
            solver = page.get_by_role("combobox", name="求解器")
            expect(solver).to_have_value("exact", timeout=30_000)
            page.get_by_role("button", name="求解").click()
            page.wait_for_timeout(1_500)  # let the solve run, then look
            expect(heading).to_contain_text("2001 年城乡分类标准", timeout=30_000)
            metric = page.locator('[data-testid="stMetric"]')
            expect(metric.filter(has_text="最大缺口比例")).to_contain_text(largest, timeout=30_000)
            expect(metric.filter(has_text="调整编制数")).to_contain_text(moved, timeout=30_000)
            page.get_by_text("English", exact=True).click()
            expect(page.get_by_role("heading", name="Plan: standards_2001")).to_be_visible(
                timeout=30_000
            )
            expect(edition).to_have_text("2001 standard by county class", timeout=30_000)
            objective = page.get_by_role("combobox", name="Objective")
            fair = "fair (smallest largest relative shortfall)"
            expect(objective).to_have_value(fair, timeout=30_000)
            largest_metric = metric.filter(has_text="Largest relative shortfall")
            expect(largest_metric).to_contain_text(largest, timeout=30_000)
        finally:
            browser.close()


def test_no_request_leaves_the_machine_in_chromium(app_url: str) -> None:
    """Issue 8.9: every page the browser loads, on every page of the app, comes from the app's
    own address (no font or icon host, no usage statistics)."""
    from playwright.sync_api import expect, sync_playwright

    own = urllib.parse.urlsplit(app_url).netloc
    elsewhere: list[str] = []

    def note(request) -> None:  # type: ignore[no-untyped-def]
        url = urllib.parse.urlsplit(request.url)
        if url.scheme not in ("data", "blob") and url.netloc != own:
            elsewhere.append(request.url)

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.on("request", note)
            page.goto(app_url, wait_until="domcontentloaded")
            expect(page.get_by_text("已求得最优方案")).to_be_visible(timeout=60_000)
            for name in ("总览与预警", "周转池与调借", "借用办理", "审计记录"):
                page.get_by_role("link", name=name).click()
                expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=30_000)
            page.get_by_text("English", exact=True).click()
            expect(page.get_by_role("heading", name="Audit trail")).to_be_visible(timeout=30_000)
            page.wait_for_timeout(1_000)  # late requests (favicon, usage statistics)
        finally:
            browser.close()
    assert not elsewhere, elsewhere


def test_one_language_at_a_time_and_planner_numbers_in_chromium(
    app_url: str, tmp_path: Path
) -> None:
    """Issue 8.6 (and 8.8) in a real browser: the Chinese app shows Chinese input errors,
    alerts and Streamlit words; the plan has a totals row, figures have thousands separators;
    after the switch the same places are in English."""
    from playwright.sync_api import expect, sync_playwright

    from optimizer.output import TOTAL_LABEL

    total = f"{bundled_plan('baseline')['total_after']:,}"  # 34,460
    bad = tmp_path / "mine.csv"
    bad.write_text("county_id,name,quota,occupied\nA,甲县,80,80\nB,乙县,-5,60\n", encoding="utf-8")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = solved_page(browser, app_url)
            plan = page.locator('[data-testid="stDataFrame"]').filter(has_text="调整后编制 new")
            # The grid's text for assistive technology: the figures are drawn formatted on its
            # canvas (their formats are checked in test_planner_grade.py), the rows are here.
            expect(plan).to_contain_text(TOTAL_LABEL, timeout=30_000)
            expect(page.get_by_placeholder("请选择（可多选）")).to_be_visible(timeout=30_000)
            expect(page.get_by_placeholder("Choose options")).to_have_count(0)
            page.get_by_text("上传方案文件（CSV 或 Excel）").click()
            uploads = page.locator('[data-testid="stFileUploader"] input[type="file"]')
            uploads.nth(0).set_input_files(str(bad))
            expect(page.get_by_text("mine.csv")).to_be_visible(timeout=30_000)
            uploads.nth(1).set_input_files(str(REPO / "tests/app/fixtures/enrolment.csv"))
            expect(page.get_by_text("enrolment.csv")).to_be_visible(timeout=30_000)
            # Both uploads reach the server before the button is pressed: on a loaded machine
            # a click during the upload's own rerun was lost.
            running = page.locator('[data-testid="stStatusWidget"]')
            expect(running).to_be_hidden(timeout=60_000)
            page.get_by_role("button", name="读入上传的文件").click()
            report = page.locator('[data-testid="stCode"]').filter(has_text="mine.csv")
            expect(report).to_contain_text("第 3 行", timeout=60_000)
            expect(report).to_contain_text("小于最小值 0")
            page.get_by_role("link", name="总览与预警").click()
            # over-quota alerts sit in a closed expander: counted, not seen
            expect(page.get_by_text("超编，只出不进")).to_have_count(1, timeout=30_000)
            expect(page.get_by_text("on own quota")).to_have_count(0)
            page.get_by_text("English", exact=True).click()
            expect(page.get_by_text("may only lose people")).to_have_count(1, timeout=30_000)
            expect(page.get_by_text("超编，只出不进")).to_have_count(0)
            page.get_by_role("link", name="Teacher allocation (what-if)").click()
            expect(page.get_by_text("Optimal plan found")).to_be_visible(timeout=60_000)
            expect(page.get_by_placeholder("Choose options")).to_be_visible(timeout=30_000)
            expect(page.get_by_placeholder("请选择（可多选）")).to_have_count(0)
            metric = page.locator('[data-testid="stMetric"]').filter(has_text="Total after")
            expect(metric).to_contain_text(total, timeout=30_000)
        finally:
            browser.close()


def test_projection_sent_to_the_whatif_page_in_chromium(app_url: str) -> None:
    """预测 → 送入模拟测算 → the what-if page plans the projected five years, in Chinese."""
    from playwright.sync_api import expect, sync_playwright

    from tests.app.projected import projected_plan

    expected = projected_plan().summary
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.goto(f"{app_url}/projection", wait_until="domcontentloaded")
            title = page.get_by_role("heading", name="生源与减员预测")
            expect(title).to_be_visible(timeout=60_000)
            page.get_by_role("button", name="使用示例文件预测").click()
            expect(page.get_by_text("预测结果：projected_5y（2027–2031 年）")).to_be_visible(
                timeout=60_000
            )
            charts = page.locator('[data-testid="stVegaLiteChart"]')
            expect(charts).to_have_count(2, timeout=30_000)
            for chart in charts.all():  # the fan of enrolment and the departures' bars
                expect(chart.locator("canvas, svg").first).to_be_visible(timeout=30_000)
            page.get_by_role("button", name="送入模拟测算").click()
            heading = page.get_by_role("heading", name="教师编制调配：模拟测算（预测方案）")
            expect(heading).to_be_visible(timeout=60_000)
            expect(page.get_by_text("已求得最优方案")).to_be_visible(timeout=60_000)
            moved = page.locator('[data-testid="stMetric"]').filter(has_text="调整编制数").first
            expect(moved).to_contain_text(f"{expected['moved']:,}", timeout=30_000)
            plan = page.locator('[data-testid="stDataFrame"]').filter(has_text="调整后编制 new")
            expect(plan).to_have_count(1, timeout=30_000)
        finally:
            browser.close()
