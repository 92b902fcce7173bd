"""Browser test helpers: run the real app with `streamlit run`, drive it with Debian's chromium.

Never downloads a browser (no `playwright install`): it launches the system `chromium`. Without
one the tests skip, saying why, unless AOP_MAP_REQUIRE_BROWSER is true (CI), when they fail.
"""

from __future__ import annotations

import contextlib
import os
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

from aop_map import settings

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# A cold start loads pandas, geopandas and the postcode tables: allow for a slow CI machine.
STARTUP_TIMEOUT_S = 60
FOLIUM_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
MAX_SHOT_HEIGHT = 6000  # px: enough for any page here, small enough to look at


def chromium_path() -> str | None:
    """The system chromium, or None."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def require_browser() -> str:
    """The chromium path; skips (or fails, when CI requires a browser) without one."""
    path = chromium_path()
    reason = None
    if path is None:
        reason = "chromium is not installed (Debian: apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = (
                "the playwright Python package is not installed (the dev extra: "
                "make .venv/.installed, from requirements.lock)"
            )
    if reason:
        if settings.flag("AOP_MAP_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests required (AOP_MAP_REQUIRE_BROWSER) but {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    return path  # type: ignore[return-value]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AppServer:
    """A running `streamlit run app.py` and where to reach it."""

    url: str
    process: subprocess.Popen
    log: Path


@contextlib.contextmanager
def run_app(
    log_dir: Path, data_dir: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[AppServer]:
    """Start the app on 127.0.0.1 and a free port (bundled data unless `data_dir`); stop it."""
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AOP_MAP_")}
    full_env.update(
        {"AOP_MAP_OFFLINE": "1", "AOP_MAP_CACHE_DIR": str(log_dir / "cache"), **(env or {})}
    )
    if data_dir is not None:
        full_env["AOP_MAP_DATA_DIR"] = str(data_dir)
    log = log_dir / f"streamlit-{port}.log"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log)
        yield AppServer(url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def run_app_on(
    records: str, directory: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[AppServer, Path]]:
    """Start the app on a data directory of its own under `directory`: these records (YAML)
    and the bundled vocabulary; the server and the data directory."""
    data = directory / "mapdata"
    data.mkdir()
    shutil.copy(ROOT / "mapdata" / "vocabulary.yaml", data)
    (data / "records.yaml").write_text(records, encoding="utf-8")
    with run_app(directory, data_dir=data, env=env) as server:
        yield server, data


def wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    """Block until Streamlit answers its health check (or fail with the server log)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"streamlit did not become healthy in {STARTUP_TIMEOUT_S}s:\n{log.read_text()}")


def launch_chromium(playwright, executable: str):
    """Headless Debian chromium through Playwright (no downloaded browser)."""
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


@contextlib.contextmanager
def system_chromium() -> Iterator[object]:
    """A running headless system chromium (skips, or fails in CI, without one)."""
    executable = require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, executable)
        try:
            yield browser
        finally:
            browser.close()


def wait_for_app(page, timeout_ms: int = 30_000) -> None:
    """Wait until Streamlit has run the script for the current page and drawn its result.

    'notRunning' alone can be seen before a run starts, or while elements still show as
    skeletons, so the quiet state must hold across two looks a moment apart.
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    quiet = """() => {
        const app = document.querySelector('[data-testid="stApp"]');
        return app && app.getAttribute('data-test-script-state') === 'notRunning'
            && !document.querySelector('[data-testid^="stSkeleton"], [data-testid="stAppSkeleton"]')
            && !!document.querySelector('[data-testid="stMainBlockContainer"] h1');
    }"""
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        page.wait_for_function(quiet, timeout=timeout_ms)
        page.wait_for_timeout(250)
        if page.evaluate(quiet):
            return
    raise TimeoutError("the app did not settle")


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (git-ignored) for a human to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Streamlit scrolls inside its own container, so a "full page" shot would stop at the
    # window: grow the window to the content's height for the picture, then put it back.
    size = page.viewport_size
    height = page.evaluate("""() => Math.max(...[...document.querySelectorAll('*')]
        .filter(e => e.scrollHeight > e.clientHeight + 1)
        .map(e => e.scrollHeight), document.body.scrollHeight)""")
    page.set_viewport_size(
        {"width": size["width"], "height": min(max(height, size["height"]), MAX_SHOT_HEIGHT)}
    )
    page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path
