"""One real run: JupyterLab / Notebook 7 in headless Chromium, clicking the debugger widget.

Starts a Jupyter server on a free localhost port with a copy of ``browser_notebook.ipynb``,
runs it, checks the diagram's text is at least 12 px, clicks Step (and presses its key) and
sees "next to run" move, sets a slot breakpoint from a routine's menu, continues to it, and
runs to a routine, then opens the timeline, forks the stored job and steps the fork. With
``ROUTILUX_SCREENSHOT=1`` it saves the widget, a routine's menu and the timeline with its
fork as ``docs/images/debugger.png``, ``menu.png`` and ``timeline.png`` (JupyterLab).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOK = Path(__file__).with_name("browser_notebook.ipynb")
REPO = Path(__file__).parents[2]
SCREENSHOT = REPO / "docs" / "images" / "debugger.png"
TIMEOUT_MS = int(os.environ.get("ROUTILUX_BROWSER_TIMEOUT_MS", "90000"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin"),
]


@dataclass
class JupyterServer:
    """A running Jupyter server and the page that opens the fixture notebook."""

    process: subprocess.Popen[bytes]
    notebook_url: str
    log: Path

    def stop(self) -> None:
        # SIGTERM lets the server shut its kernels down too.
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_jupyter(app: str, home: Path) -> JupyterServer:
    """Start ``jupyter lab`` or ``jupyter notebook`` serving a copy of the fixture notebook.

    Config, data and runtime dirs live under ``home`` so the user's settings, extensions
    and open workspaces cannot change what the test sees; nothing reaches the network.
    """
    root = home / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / "debugger.ipynb")
    config = home / "config"
    (config / "labconfig").mkdir(parents=True)
    # The "get Jupyter news?" toast would cover part of the page.
    page_config = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
    (config / "labconfig" / "page_config.json").write_text(json.dumps(page_config))
    port, token = free_port(), secrets.token_hex(16)
    app_class = {"lab": "LabApp", "notebook": "JupyterNotebookApp"}[app]
    command = [
        sys.executable,
        "-m",
        {"lab": "jupyterlab", "notebook": "notebook"}[app],
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--{app_class}.expose_app_in_browser=True",  # window.jupyterapp runs commands
        f"--LabServerApp.user_settings_dir={home / 'settings'}",
        f"--LabServerApp.workspaces_dir={home / 'workspaces'}",
    ]
    if app == "lab":
        command += [
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        # The kernel imports the routilux of this checkout, whatever the venv installed.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    log = home / "server.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    server = JupyterServer(
        process,
        f"{base}/lab/tree/debugger.ipynb?reset&token={token}"
        if app == "lab"
        else f"{base}/notebooks/debugger.ipynb?token={token}",
        log,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                return server
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                pytest.fail(f"jupyter {app} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)  # polling a port that is not open yet; no event to wait on


@pytest.fixture(params=["lab", "notebook"])
def jupyter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JupyterServer]:
    server = start_jupyter(request.param, tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1900},
        )
        try:
            browser_page = context.new_page()
            browser_page.set_default_timeout(TIMEOUT_MS)
            yield browser_page
        finally:
            context.close()


NOTEBOOK_READY = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    return Boolean(panel && panel.content && panel.content.widgets
        && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel);
}"""

RUN_ALL = """async () => {
    const app = window.jupyterapp;
    await app.shell.currentWidget.sessionContext.ready;
    await app.commands.execute("notebook:run-all-cells");
}"""

MARKED = """([mark, routineId]) => {
    const marked = document.querySelectorAll(`.routilux-diagram g.routine.${mark}`);
    return marked.length === 1 && marked[0].id === "routine-" + routineId;
}"""

SMALLEST_TEXT_PX = """() => {
    const texts = [...document.querySelectorAll(".routilux-diagram g.routine text")];
    return Math.min(...texts.map(
        (t) => parseFloat(t.getAttribute("font-size")) * t.getScreenCTM().a));
}"""


def test_stepping_breaking_and_running_to_here_in_the_browser(
    jupyter: JupyterServer, page: object, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.goto(jupyter.notebook_url)
    page.wait_for_function(NOTEBOOK_READY)
    page.evaluate(RUN_ALL)
    diagram = page.locator(".routilux-diagram")
    diagram.locator("g.routine").first.wait_for()
    assert diagram.locator("g.routine.next").count() == 0
    # Readable on a projector: no routine text under 12 px at a 1280 px window.
    assert page.evaluate(SMALLEST_TEXT_PX) >= 12
    step = page.locator(".routilux-step")

    # Each Step runs one activation, marks it "ran last" and parks the next one.
    step.click()
    page.wait_for_function(MARKED, arg=["last", "fetch"])
    page.wait_for_function(MARKED, arg=["next", "parse"])
    page.locator(".routilux-status", has_text="next to run: parse").wait_for()
    # The same from the keyboard, once the widget has the focus.
    page.locator(".routilux-debugger").focus()
    page.keyboard.press("s")
    page.wait_for_function(MARKED, arg=["next", "enrich"])
    assert diagram.locator("#routine-fetch.state-done").count() == 1

    # A routine's menu sets a slot breakpoint; Continue stops when the data arrives.
    diagram.locator("#routine-store").click()
    page.locator(".routilux-break-slot").click()
    diagram.locator("#routine-store.breakpoint").wait_for()
    page.locator(".routilux-breakpoint", has_text="store.input receives").wait_for()
    page.locator(".routilux-continue").click()
    page.locator(".routilux-status", has_text="store.input received data").wait_for()

    # Run to here: continues until the routine is about to run.
    diagram.locator("#routine-store").click()
    page.locator(".routilux-run-to").first.click()
    page.wait_for_function(MARKED, arg=["next", "store"])
    page.locator(".routilux-status", has_text="paused at run to here").wait_for()

    screenshots = (
        request.node.callspec.params["jupyter"] == "lab"
        and os.environ.get("ROUTILUX_SCREENSHOT") == "1"
    )
    debugger = page.locator(".routilux-debugger").first
    if screenshots:
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        debugger.screenshot(path=str(SCREENSHOT))
        diagram.locator("#routine-enrich").click()
        page.locator(".routilux-menu").wait_for()
        page.locator(".routilux-canvas").first.screenshot(
            path=str(SCREENSHOT.with_name("menu.png"))
        )
        page.keyboard.press("Escape")

    # Time travel: open the timeline, fork the stored job at its last step, step the fork.
    page.get_by_text("Timeline (stored checkpoints)").click()
    timeline = page.locator(".routilux-timeline")
    timeline.locator(".routilux-timeline-diagram svg").wait_for()
    if screenshots:
        timeline.first.scroll_into_view_if_needed()
        timeline.first.screenshot(path=str(SCREENSHOT.with_name("timeline.png")))
    timeline.locator(".routilux-fork").click()
    fork = page.locator(".routilux-fork-area .routilux-debugger")
    fork.locator(".routilux-diagram g.routine").first.wait_for()
    fork.locator(".routilux-status", has_text="paused").wait_for()
    fork.locator(".routilux-step").click()
    fork.locator(".routilux-status", has_text="stepped: store ran").wait_for()
    fork.locator("#routine-store.last").wait_for()
