"""The app round trip: `streamlit run app.py` on 127.0.0.1 against generated data, driven by
headless Chromium.

app_first_map: page open -> the map's clusters painted (inside the streamlit-folium iframe).
app_filter_roundtrip: choosing a health condition in the sidebar -> the map repainted with the
new selection. The server is always stopped, whatever happens.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import browser
from bench.timing import REPO_ROOT, figure, run_worker, skipped

START_TIMEOUT_S = 120.0
# A condition the generated data has plenty of, so the filtered map still shows clusters.
FILTER_LABEL = "Health condition"
FILTER_OPTION = "Dementia"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def streamlit_server(data_dir: Path, cache_dir: Path, log: Path) -> Iterator[str]:
    """A running app (its base URL); the process group is killed on exit."""
    port = free_port()
    env = {
        **os.environ,
        "AOP_MAP_DATA_DIR": str(data_dir),
        "AOP_MAP_CACHE_DIR": str(cache_dir),
        "AOP_MAP_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("AOP_MAP_ONLINE_GEOCODING", None)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process, log)
        yield url
    finally:
        _stop(process)


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited ({process.returncode}):\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"streamlit did not start in {START_TIMEOUT_S:.0f} s:\n{_tail(log)}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _tail(log: Path, size: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-size:]
    except OSError:
        return ""


FOLIUM_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
# Poll the map frame on a timer, not on animation frames: Chromium does not run animation
# frames in the component iframe while it still has zero height.
POLL_MS = 15
# In the map's frame: epoch ms of the first animation frame in which markers/clusters exist
# (and, after a filter change, are not the ones that were there before).
SHOWN = """([selector, changed]) => {
  const found = document.querySelector(selector);
  if (!found) return false;
  if (changed && window.__aopOld && window.__aopOld.isConnected) return false;
  return performance.timeOrigin + performance.now();
}"""
# In the top page: stamp the moment a key goes down (the filter change starts there).
KEY_STAMP = """() => {
  window.__aopKey = null;
  window.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && window.__aopKey === null)
      window.__aopKey = performance.timeOrigin + performance.now();
  }, {capture: true});
}"""


# In the top page: when Streamlit's script runs start and end (its data-test-script-state
# attribute) and when the map iframe is first attached; epoch ms, to split the round trip.
TOP_WATCH = """
(() => {
  if (window !== window.top) return;
  const marks = window.__aopTop = {iframe: null, runs: []};
  const now = () => performance.timeOrigin + performance.now();
  let last = null;
  const check = () => {
    if (!marks.iframe && document.querySelector(%s)) marks.iframe = now();
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app && app.getAttribute('data-test-script-state');
    if (state === last) return;
    last = state;
    if (state === 'running') marks.runs.push({start: now(), end: null});
    else if (state === 'notRunning' && marks.runs.length)
      marks.runs[marks.runs.length - 1].end = now();
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true,
    attributes: true, attributeFilter: ['data-test-script-state']});
})();
"""


def _top_marks(page: Any) -> dict[str, Any]:
    return page.evaluate("() => window.__aopTop || {}")


def open_map(browser_: Any, url: str, timeout_ms: int) -> tuple[Any, Any, float, dict]:
    """A fresh context opened on the app: (context, page, seconds until markers, parts)."""
    context = browser_.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(TOP_WATCH % json.dumps(FOLIUM_IFRAME))
    page = context.new_page()
    page.goto(url + "/", wait_until="commit", timeout=timeout_ms)
    shown = wait_shown(page, timeout_ms, changed=False)
    origin = page.evaluate("() => performance.timeOrigin")
    marks = _top_marks(page)
    parts = {
        "iframe_attached_s": _since(marks.get("iframe"), origin),
        "first_script_run_s": _run_seconds(marks.get("runs") or [], origin),
        "markers_after_iframe_s": _since(shown, marks.get("iframe")),
    }
    return context, page, (shown - origin) / 1000.0, parts


def _since(at: float | None, origin: float | None) -> float | None:
    return round((at - origin) / 1000.0, 3) if at and origin else None


def _run_seconds(runs: list[dict[str, Any]], after: float) -> float | None:
    """Duration of the first script run that started after a moment."""
    for run in runs:
        if run["start"] >= after and run.get("end"):
            return round((run["end"] - run["start"]) / 1000.0, 3)
    return None


def change_filter(page: Any, timeout_ms: int) -> tuple[float, dict]:
    """Choose a health condition in the sidebar: (seconds until the map shows the new markers,
    the script rerun's share)."""
    frame = page.wait_for_selector(
        FOLIUM_IFRAME, state="attached", timeout=timeout_ms
    ).content_frame()
    frame.evaluate(
        "s => { window.__aopOld = document.querySelector(s); }", browser.MARKERS_SELECTOR
    )
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
        has_text=FILTER_LABEL
    )
    box.locator("input").click()
    page.keyboard.type(FILTER_OPTION)
    page.wait_for_selector('[role="option"]', timeout=timeout_ms)
    page.evaluate(KEY_STAMP)
    page.keyboard.press("Enter")
    shown = wait_shown(page, timeout_ms, changed=True)
    pressed = page.evaluate("() => window.__aopKey")
    parts = {"script_rerun_s": _run_seconds(_top_marks(page).get("runs") or [], pressed)}
    return (shown - pressed) / 1000.0, parts


def wait_shown(page: Any, timeout_ms: int, *, changed: bool) -> float:
    """Epoch ms when the map frame first showed (new) markers; survives the iframe being
    replaced while we wait."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        left = int((deadline - time.monotonic()) * 1000)
        try:
            frame = page.wait_for_selector(
                FOLIUM_IFRAME, state="attached", timeout=max(left, 1)
            ).content_frame()
            if frame is None:
                continue
            return float(
                frame.wait_for_function(
                    SHOWN,
                    arg=[browser.MARKERS_SELECTOR, changed],
                    polling=POLL_MS,
                    timeout=max(left, 1),
                ).json_value()
            )
        except Error as error:
            if time.monotonic() >= deadline or "Timeout" in type(error).__name__:
                raise


def metric(page: Any, label: str) -> str:
    """The value shown by one st.metric."""
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def stage_app(ctx: Any) -> dict[str, Any]:
    """First map after page open (fresh sessions on a running server), then a filter change."""
    reason = browser.unavailable_reason()
    if reason:
        return {name: skipped(reason) for name in ("app_first_map", "app_filter_roundtrip")}
    timeout_ms = int(max(120, ctx.dataset.n / 500) * 1000)
    expected = _expected_after_filter(ctx)
    log = ctx.work / "streamlit.log"
    app_cache = ctx.work / "app-cache"
    warm = _seed_cache(ctx, app_cache)
    start = time.perf_counter()
    with streamlit_server(ctx.dataset.yaml_dir, app_cache, log) as url:
        server_start = time.perf_counter() - start
        chromium = ctx.get_browser()  # shared with the browser stage
        context, _page, first_visit, first_parts = open_map(chromium, url, timeout_ms)
        context.close()
        opens, changes, shown_counts = [], [], []
        open_parts, change_parts = [], []
        for _ in range(ctx.slow_repeat):
            context, page, seconds, parts = open_map(chromium, url, timeout_ms)
            opens.append(seconds)
            open_parts.append(parts)
            seconds, parts = change_filter(page, timeout_ms)
            changes.append(seconds)
            change_parts.append(parts)
            shown_counts.append(metric(page, "Matching records"))
            context.close()
    same = all(_as_int(c) == expected for c in shown_counts)
    common = {
        "server_start_s": round(server_start, 3),
        "records": ctx.dataset.n,
        "first_visit_disk_cache": "warm" if warm else "cold",
    }
    script = None
    if ctx.profile:  # the Streamlit script's share, profiled in-process with AppTest
        script = run_worker(
            "app_script_profile",
            data_dir=str(ctx.dataset.yaml_dir),
            cache_dir=str(ctx.work / "apptest-cache"),
        )
    return {
        "app_first_map": figure(
            opens,
            None,
            first_visit_s=round(first_visit, 3),
            first_visit_breakdown=first_parts,
            **common,
            breakdown=_medians(open_parts),
            script_profile=_pick(script, "session"),
            note="fresh browser session on a running server (data cached "
            "by the first visit, first_visit_s); page open -> first "
            "frame with clusters in the map iframe",
        ),
        "app_filter_roundtrip": figure(
            changes,
            None,
            **common,
            filter=f"condition={FILTER_OPTION}",
            matching_records=shown_counts[-1] if shown_counts else None,
            breakdown=_medians(change_parts),
            script_profile=_pick(script, "filter_change"),
            expected_records=expected,
            same_records=same,
            note="Enter on the sidebar option -> first frame with the new clusters",
        ),
    }


def _seed_cache(ctx: Any, app_cache: Path) -> bool:
    """Give the server the parse/result caches the load stage left (a restarted server keeps
    its disk cache), so first_visit_s is not one more cold load. False when there are none."""
    source = ctx.work / "stage-cache"
    if not source.is_dir():
        return False
    key = hashlib.sha1(str(Path(ctx.dataset.yaml_dir).resolve()).encode()).hexdigest()[:12]
    shutil.copytree(source, app_cache / key)  # where AOP_MAP_CACHE_DIR puts a data dir's cache
    return True


def _pick(script: dict[str, Any] | None, prefix: str) -> dict[str, Any] | None:
    if script is None:
        return None
    return {
        "script_s": script[f"{prefix}_script_s"],
        "top": script[f"{prefix}_profile"],
        "errors": script["errors"],
    }


def _medians(parts: list[dict[str, Any]]) -> dict[str, float | None]:
    """Median of each breakdown figure over the runs."""
    keys = {k for p in parts for k in p}
    out = {}
    for key in sorted(keys):
        values = [p[key] for p in parts if p.get(key) is not None]
        out[key] = round(statistics.median(values), 3) if values else None
    return out


def _expected_after_filter(ctx: Any) -> int:
    term = next(t.id for t in ctx.vocabulary.terms("conditions") if t.label == FILTER_OPTION)
    frame = ctx.get_frame()
    return int(frame.loc[[term in c for c in frame["conditions"]], "record_id"].nunique())


def _as_int(text: str) -> int | None:
    digits = "".join(ch for ch in text if ch.isdigit())
    return int(digits) if digits else None
