"""The live page in Debian's Chromium: click Step and see the highlight move; click a routine
to set a breakpoint, continue to it, and click again to remove it.

With ``ROUTILUX_SCREENSHOT=1`` it saves the page as ``docs/images/live-page.png``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.conftest import TOKEN, Served

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).parents[2] / "docs" / "images" / "live-page.png"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin"),
]

HIGHLIGHT_IS = """(routineId) => {
    const lit = document.querySelectorAll(".routilux-diagram g.routine.highlight");
    return lit.length === 1 && lit[0].id === "routine-" + routineId;
}"""


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            browser_page = browser.new_page(viewport={"width": 1280, "height": 860})
            browser_page.set_default_timeout(30_000)
            yield browser_page
        finally:
            browser.close()


def test_clicking_step_moves_the_highlight_and_clicking_a_routine_sets_a_breakpoint(
    served: Served, page: object
) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    served.post("/api/flows/pipeline/pause")
    for n in range(2):
        served.post("/api/flows/pipeline/jobs", json={"data": {"n": n}})
    page.goto(f"{served.url}/?token={TOKEN}")
    diagram = page.locator(".routilux-diagram")
    diagram.locator("g.routine").first.wait_for()
    page.locator("#connection.ok").wait_for()
    assert diagram.locator("g.routine.highlight").count() == 0
    assert page.locator("#worker-status").inner_text() == "paused"

    page.locator(".routilux-step").click()
    page.wait_for_function(HIGHLIGHT_IS, arg="r0")
    page.locator(".routilux-step").click()
    page.wait_for_function(HIGHLIGHT_IS, arg="r0")  # the second job's r0 runs next
    page.locator(".routilux-step").click()
    page.wait_for_function(HIGHLIGHT_IS, arg="r1")
    assert diagram.locator("g.routine.state-queued").count() >= 1
    page.locator("#events li").first.wait_for()

    page.locator(".routilux-diagram g.routine#routine-r2").click()  # a breakpoint before r2
    page.wait_for_function(
        "() => document.querySelector('#routine-r2').classList.contains('breakpoint')"
    )
    page.locator(".routilux-continue").click()
    page.wait_for_function(HIGHLIGHT_IS, arg="r2")  # parked at the breakpoint
    assert page.locator("#worker-status").inner_text() == "paused"
    assert page.locator("#held").inner_text() == 'parked before r2: {"input":[{"n":2}]}'
    if os.environ.get("ROUTILUX_SCREENSHOT"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
    page.locator(".routilux-diagram g.routine#routine-r2").click()  # removed again
    page.wait_for_function(
        "() => !document.querySelector('#routine-r2').classList.contains('breakpoint')"
    )
    page.locator(".routilux-continue").click()
    assert served.runtime.wait_until_all_jobs_finished(timeout=10)
    page.wait_for_function(
        "() => document.querySelectorAll('#jobs td.status-completed').length === 2"
    )
    assert page.locator("#message").inner_text() == ""
