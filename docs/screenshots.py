"""The README's screenshots (`make screenshots`): the app in demo mode on 127.0.0.1, driven by
Debian's Chromium through Playwright, and the printed plan and loans register.

1. A demo ledger is made with the CLI from the bundled units snapshot (data/units): loans from
   both pools with their 文号, then the next month's snapshot (a 空一还一 return, alerts).
2. `streamlit run app.py` serves it on a free port of 127.0.0.1 with QUOTAPOOL_DEMO=1 and the
   bundled sample city; Chromium visits the overview, the what-if page with its plan, the loan
   desk and the audit trail in Chinese, and the what-if page in English.
3. LibreOffice prints `quotapool plan data/scenarios/baseline.toml`'s plan.xlsx and the ledger's
   loans register (`quotapool loan list --xlsx`) to PDF; pdftoppm draws their first pages.

PNGs go to docs/screenshots/, 1280 px wide, shrunk by pngquant / optipng where installed.
Step 3 is skipped, saying why, without LibreOffice or pdftoppm (Debian: libreoffice-calc-nogui,
poppler-utils). Run from the repository: `.venv/bin/python docs/screenshots.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.app.test_browser_e2e import (  # noqa: E402  (after the path is set)
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    wait_until_healthy,
)

OUT = REPO / "docs" / "screenshots"
WIDTH, HEIGHT = 1280, 900
UNITS = REPO / "data" / "units"
BIN = Path(sys.executable).parent
TIMEOUT = 60_000  # ms
PRINTED_SHARE = 0.3  # of a printed page's height shown: the sample tables fit in it


def quotapool(*argv: str, env: dict[str, str]) -> None:
    """Run the CLI; its output is not needed, a failure is."""
    command = [str(BIN / "quotapool"), *argv]
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=REPO)


def make_ledger(db: str, env: dict[str, str]) -> None:
    """A demo ledger a month into its life: four loans with their 文号, then a snapshot."""
    quotapool(
        "ledger", "init", "--db", db, "--units", str(UNITS / "units-2026-10.csv"), "--demo",
        "--actor", "王科长", "--date", "2026-10-08", "--reason", "启用编制周转池",
        env=env,
    )  # fmt: skip
    loans = (
        ("admin", "M001", "2", "引进生", "王科长", "2026-10-12", "市编办〔2026〕41号"),
        ("admin", "M003", "1", "博士选调生", "王科长", "2026-10-20", "市编办〔2026〕44号"),
        ("institutional", "S002", "3", "高层次人才", "李处长", "2026-10-26", "市编办〔2026〕47号"),
        ("institutional", "S007", "2", "高层次人才", "李处长", "2026-11-02", "市编办〔2026〕52号"),
    )
    for pool, unit, count, purpose, actor, day, document in loans:
        quotapool(
            "loan", "open", "--db", db, "--pool", pool, "--unit", unit, "--count", count,
            "--purpose", purpose, "--actor", actor, "--date", day, "--doc", document,
            "--reason", "急需紧缺人才到岗", env=env,
        )  # fmt: skip
    quotapool(
        "ledger", "sync", "--db", db, "--units", str(UNITS / "units-2026-11.csv"),
        "--actor", "王科长", "--date", "2026-11-08", "--reason", "11月实有人数", env=env,
    )  # fmt: skip


@contextmanager
def served(work: Path, env: dict[str, str]) -> Iterator[str]:
    """The app on a free port of 127.0.0.1, from `work` (no developer's settings apply)."""
    settings = work / ".streamlit"
    settings.mkdir(exist_ok=True)
    shutil.copy(REPO / ".streamlit" / "config.toml", settings / "config.toml")
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
        "--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
        "--server.fileWatcherType=none", "--browser.gatherUsageStats=false",
    ]  # fmt: skip
    log = work / "streamlit.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=work, env=env, stdout=output, stderr=output)
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


def shoot(page: Any, name: str, heading: str | None = None) -> Path:
    """The window as it stands (scrolled to `heading` if given), as docs/screenshots/NAME.png."""
    if heading is not None:  # the app scrolls inside its main block, not the window
        found = page.get_by_role("heading", name=heading).first
        found.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(1_500)  # charts and tables finish drawing
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"  {path.relative_to(REPO)}")
    return path


def app_screenshots(url: str) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    shots = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.goto(f"{url}/overview", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="总览与预警")).to_be_visible(timeout=TIMEOUT)
            page.get_by_text("超编单位:").click()  # the units over quota, by name
            shots.append(shoot(page, "overview-zh"))
            page.get_by_role("link", name="教师编制调配").click()
            expect(page.get_by_text("已求得最优方案")).to_be_visible(timeout=TIMEOUT)
            shots.append(shoot(page, "whatif-zh", heading="调配方案: baseline"))
            page.get_by_role("link", name="借用办理").click()
            expect(page.get_by_role("heading", name="借用办理")).to_be_visible(timeout=TIMEOUT)
            shots.append(shoot(page, "loan-desk-zh"))
            page.get_by_role("link", name="审计记录").click()
            expect(page.get_by_role("heading", name="审计记录")).to_be_visible(timeout=TIMEOUT)
            shots.append(shoot(page, "audit-zh"))
            page.get_by_text("English", exact=True).click()
            page.get_by_role("link", name="Teacher allocation (what-if)").click()
            expect(page.get_by_text("Optimal plan found")).to_be_visible(timeout=TIMEOUT)
            shots.append(shoot(page, "whatif-en", heading="Plan: baseline"))
        finally:
            browser.close()
    return shots


def printed(work: Path, db: str, env: dict[str, str]) -> list[Path]:
    """The first printed page of the sample plan and of the loans register."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftoppm = shutil.which("pdftoppm")
    if soffice is None or pdftoppm is None:
        print("  printed pages skipped: needs soffice (libreoffice-calc-nogui) and pdftoppm")
        return []
    quotapool("plan", str(REPO / "data/scenarios/baseline.toml"), "--out", str(work), env=env)
    register = work / "loans-register.xlsx"
    quotapool("loan", "list", "--db", db, "--xlsx", str(register), env=env)
    books = {"plan-printed": work / "baseline" / "plan.xlsx", "register-printed": register}
    shots = []
    for name, book in books.items():
        pdf = work / "pdf"
        command = [
            soffice, f"-env:UserInstallation=file://{work / 'lo-profile'}", "--headless",
            "--convert-to", "pdf", "--outdir", str(pdf), str(book),
        ]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True, timeout=240, env=env)
        # A4 landscape is 842 × 595 pt: 1280 px wide at 1280 / 842 × 72 dpi; the top of the
        # page, where the table is, without the empty rest of it.
        dpi = WIDTH / 842 * 72
        height = str(round(595 / 72 * dpi * PRINTED_SHARE))
        target = OUT / name
        page = pdf / f"{book.stem}.pdf"
        command = [pdftoppm, "-png", "-r", str(round(dpi)), "-singlefile"]
        command += ["-x", "0", "-y", "0", "-W", str(WIDTH), "-H", height]
        subprocess.run([*command, str(page), str(target)], check=True)
        shots.append(target.with_suffix(".png"))
        print(f"  {shots[-1].relative_to(REPO)}")
    return shots


def shrink(paths: list[Path]) -> None:
    """Fewer bytes for the same picture: pngquant's palette, then optipng, where installed."""
    pngquant, optipng = shutil.which("pngquant"), shutil.which("optipng")
    for path in paths:
        if pngquant:
            command = [pngquant, "--force", "--skip-if-larger", "--ext", ".png", "256"]
            subprocess.run([*command, str(path)], check=False, capture_output=True)
        if optipng:
            subprocess.run([optipng, "-quiet", "-o2", str(path)], check=False)
    if not (pngquant or optipng):
        print("  PNGs left as drawn: install pngquant or optipng to make them smaller")


def main() -> int:
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: `make browser-deps` installs Debian's Chromium")
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="quotapool-screenshots-") as temporary:
        work = Path(temporary)
        db = f"sqlite:///{work / 'ledger.db'}"
        env = {
            **os.environ,
            "QUOTAPOOL_DEMO": "1",
            "QUOTAPOOL_DB": db,
            "QUOTAPOOL_SCENARIOS_DIR": str(work / "scenarios"),
            "HOME": str(work),  # LibreOffice's profile and caches stay in here
            "PYTHONPATH": str(REPO),
        }
        for name in ("QUOTAPOOL_USERS", "QUOTAPOOL_SCENARIO", "QUOTAPOOL_LEDGER_KEY"):
            env.pop(name, None)
        print("demo ledger")
        make_ledger(db, env)
        print("app screenshots")
        with served(work, env) as url:
            shots = app_screenshots(url)
        print("printed pages")
        shots += printed(work, db, env)
        shrink(shots)
    for path in shots:
        print(f"{path.relative_to(REPO)}: {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
