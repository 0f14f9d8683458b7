"""The report in a real headless browser (Debian's chromium driven by playwright), opened from the file system.

Chromium comes from apt (`make browser`, or this test when run as root), never from playwright's own download.
The test is skipped only when chromium is missing and cannot be installed here. The screenshots go to
`artifacts/` at the repository root (ignored by git) so that CI can keep them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.report.conftest import INJECTED

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the browser test needs playwright: pip install 'bao[dev]'")

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    """Path of chromium, installed with apt-get when missing and this process may (root); else the test skips."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("chromium is not installed and this user cannot install it (needs root and apt-get): "
                    "run `sudo apt-get install chromium` or `make browser` as root")
    done = subprocess.run("apt-get update -qq && apt-get install -y -qq chromium", shell=True, capture_output=True,
                          text=True, timeout=900)
    found = shutil.which("chromium")
    if not found:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        pytest.skip(f"chromium is not installed and apt-get could not install it: {reason}")
    return found


@dataclass
class Opened:
    """A page showing the report, with the console errors, page errors and dialogs it raised and every URL it
    requested."""

    page: Any
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def opened(report: Path):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        seen = Opened(page)
        page.on("console", lambda m: seen.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: seen.problems.append(f"page error: {exc}"))
        page.on("dialog", lambda dialog: (seen.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        page.on("request", lambda request: seen.requests.append(request.url))
        page.goto((report / "index.html").as_uri())
        page.wait_for_selector("#turns li.turn")
        yield seen
        browser.close()


def test_viewer_switches_episodes_filters_failures_and_shows_markup_as_text(opened):
    page = opened.page
    page.locator("table.results tr", has_text="function-heuristic").locator("button").click()
    page.wait_for_function("document.getElementById('sel-run').selectedOptions[0].text.includes('function-heuristic')")
    page.wait_for_selector("#episode-list li.fail")
    assert INJECTED in page.inner_text("#turns")  # the model's "<script>" shown as text, never run

    first = page.inner_text("#episode")
    tasks = page.eval_on_selector_all("#sel-task option", "options => options.map(o => o.value)")
    page.select_option("#sel-task", tasks[1])
    assert page.inner_text("#episode") != first
    assert page.inner_text("#episode h3").startswith(tasks[1])

    episodes = page.locator("#episode-list li").count()
    page.check("#failures-only")
    failures = page.locator("#episode-list li")
    assert 0 < failures.count() < episodes
    assert all("fail" in failures.nth(i).get_attribute("class") for i in range(failures.count()))
    assert page.inner_text("#episode .badge.fail") == "failure"

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#viewer").screenshot(path=ARTIFACTS / "report-viewer.png")
    page.screenshot(path=ARTIFACTS / "report.png", full_page=True)
    assert not opened.problems
    assert all(url.startswith(("file://", "data:")) for url in opened.requests), opened.requests


def test_a_training_runs_turns_show_its_shaping_penalties(opened):
    page = opened.page
    page.locator("table.results tr", has_text="eval-step-6").locator("button").click()
    page.wait_for_function("document.getElementById('sel-run').selectedOptions[0].text.startsWith('step 6')")
    page.wait_for_selector("#turns .flag.user")
    assert "lambda_is=0.05" in page.inner_text("#viewer-status")
    assert "-0.050" in page.inner_text("#turns td.neg")  # the effort cost w of a user turn
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#viewer").screenshot(path=ARTIFACTS / "report-viewer-trained.png")
    assert not opened.problems


def test_figures_load_from_beside_the_page(opened):
    sizes = opened.page.eval_on_selector_all("img", "images => images.map(i => [i.complete, i.naturalWidth])")
    assert len(sizes) == 4 and all(complete and width > 0 for complete, width in sizes)
    assert not opened.problems
