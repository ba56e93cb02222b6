"""One real run: JupyterLab / Notebook 7 in headless Chromium, clicking the debugger widget.

Starts a Jupyter server on a free localhost port with a copy of ``browser_notebook.ipynb``,
runs it, clicks Step and sees the highlighted routine move, toggles a breakpoint by clicking
a node and continues to it. With ``ROUTILUX_SCREENSHOT=1`` it saves the widget as
``docs/images/debugger.png`` (from the JupyterLab run).
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
SCREENSHOT = Path(__file__).parents[2] / "docs" / "images" / "debugger.png"
TIMEOUT_MS = 90_000
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

HIGHLIGHT_IS = """(routineId) => {
    const lit = document.querySelectorAll(".routilux-diagram g.routine.highlight");
    return lit.length === 1 && lit[0].id === "routine-" + routineId;
}"""


def test_clicking_step_in_the_browser_moves_the_highlighted_routine(
    jupyter: JupyterServer, page: object, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.goto(jupyter.notebook_url)
    page.wait_for_function(NOTEBOOK_READY)
    page.evaluate(RUN_ALL)
    diagram = page.locator(".routilux-diagram")
    diagram.locator("g.routine").first.wait_for()
    assert diagram.locator("g.routine.highlight").count() == 0
    step = page.locator(".routilux-step")

    step.click()
    page.wait_for_function(HIGHLIGHT_IS, arg="fetch")
    step.click()
    page.wait_for_function(HIGHLIGHT_IS, arg="parse")
    assert diagram.locator("#routine-fetch.state-done").count() == 1

    # A click on a node sets a breakpoint there; Continue then stops before it.
    diagram.locator("#routine-store").click()
    diagram.locator("#routine-store.breakpoint").wait_for()
    page.locator(".routilux-continue").click()
    page.wait_for_function(HIGHLIGHT_IS, arg="store")
    diagram.locator("#routine-store.state-paused").wait_for()
    page.locator(".routilux-status", has_text="paused before store").wait_for()

    is_lab = request.node.callspec.params["jupyter"] == "lab"
    if is_lab and os.environ.get("ROUTILUX_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.locator(".routilux-debugger").screenshot(path=str(SCREENSHOT))
