"""Headless Chromium (Debian's `chromium`, driven by the playwright package) for the browser
stages: how long until a map shows its markers or clusters.

Nothing is fetched from the network: the CDN addresses a plain folium map asks for point at
local copies of the files packaged in folium-offline, and every other host (map tiles) fails
at once, so both sides wait for the same things: their own JavaScript and data, not tiles.
"""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from aop_map import settings
from bench.timing import figure, skipped

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    # Offline: every host but this machine fails at once (tiles, CDNs), with no
    # request interception slowing the pages down.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
# Something a person sees as "the providers are on the map": a cluster bubble, a marker icon,
# or a vector circle marker (ours are SVG paths, focusable from the keyboard; a marker drawn on
# a canvas leaves no element, a cluster does).
MARKERS_SELECTOR = ".marker-cluster, .leaflet-marker-icon, path.leaflet-interactive"
PAGE_TIMEOUT_MS = 180_000


def chromium_path() -> str | None:
    """Debian's chromium (or $AOP_MAP_CHROMIUM), or None when not installed."""
    chosen = settings.path("AOP_MAP_CHROMIUM")
    if chosen is not None and chosen.is_file():
        return str(chosen)
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def unavailable_reason() -> str | None:
    """Why the browser stages cannot run here, or None."""
    if chromium_path() is None:
        return "chromium not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless Chromium browser, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def localise_cdn_links(page: str, directory: Path) -> str:
    """A plain folium page with its CDN addresses pointing at local copies (as if cached).

    The copies are folium-offline's; a CDN file it lacks stays remote and fails at once.
    """
    from offlinefolium.elements import _res

    directory.mkdir(parents=True, exist_ok=True)
    for index, (url, text) in enumerate(sorted(_res.items())):
        if url in page:
            target = directory / f"{index}-{url.rsplit('/', 1)[-1]}"
            target.write_text(text, encoding="utf-8")
            page = page.replace(url, target.as_uri())
    return page


# Runs in every frame (the app's map is inside an iframe) before the page's own scripts. On every
# animation frame it looks for markers/clusters and stamps each change of what is shown: the
# first frame that has them is the frame a person first sees them in. (A MutationObserver would
# miss the streamlit-folium iframe, which rewrites its document.) Times are epoch milliseconds
# (timeOrigin + now), comparable across frames.
WATCH_SCRIPT = """
(() => {
  const selector = %s;
  const state = window.__aopMarkers = {shown: null, changes: [], count: 0, first: null};
  const tick = () => {
    const found = document.querySelectorAll(selector);
    if (found.length !== state.count || (found.length && found[0] !== state.first)) {
      state.count = found.length;
      state.first = found[0] || null;
      const at = performance.timeOrigin + performance.now();
      if (found.length) {
        state.changes.push({at: at, count: found.length});
        if (state.shown === null) state.shown = at;
      }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""


def watch_markers(context: Any, selector: str = MARKERS_SELECTOR) -> None:
    """Install the marker watcher in every page and frame of a browser context."""
    context.add_init_script(WATCH_SCRIPT % json.dumps(selector))


def time_to_markers(browser: Any, url: str, selector: str = MARKERS_SELECTOR) -> float:
    """Seconds from navigation start until the frame that first paints markers or clusters."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        watch_markers(context, selector)
        page = context.new_page()
        page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_function(
            "() => window.__aopMarkers && window.__aopMarkers.shown", timeout=PAGE_TIMEOUT_MS
        )
        return float(
            page.evaluate("() => (window.__aopMarkers.shown - performance.timeOrigin) / 1000")
        )
    finally:
        context.close()


def stage_browser(
    html: dict[str, Path],
    points: dict[str, int],
    repeat: int,
    *,
    naive_repeat: int = 3,
    naive_scale: float = 1.0,
    naive_sample_n: int | None = None,
    profile: bool = False,
    get_browser: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """The pages stages.write_pages saved, each run in a fresh browser context, in the
    Chromium `get_browser` gives (shared with other stages) or one launched here.

    When the naive page holds only a sample, its time is extrapolated as fixed + per-marker:
    the fixed part is an empty naive map's time (its scripts and styles), the rest scales.
    """
    reason = unavailable_reason()
    if reason:
        return {"browser": skipped(reason)}
    extra: dict[str, Any] = {}
    with ExitStack() as launched:
        browser = get_browser() if get_browser else launched.enter_context(chromium())
        ours = [time_to_markers(browser, html["ours"].as_uri()) for _ in range(repeat)]
        slow = [time_to_markers(browser, html["naive"].as_uri()) for _ in range(naive_repeat)]
        if naive_scale > 1 and "naive_empty" in html:
            fixed = statistics.median(
                time_to_page_load(browser, html["naive_empty"].as_uri())
                for _ in range(naive_repeat)
            )
            extra = {
                "naive_sample_s": round(statistics.median(slow), 4),
                "naive_fixed_s": round(fixed, 4),
            }
            slow = [fixed + max(t - fixed, 0.0) * naive_scale for t in slow]
        if profile:
            extra["js_profile"] = js_profile_top(browser, html["ours"].as_uri())
    return {
        "browser": figure(
            ours,
            slow,
            points=points.get("ours"),
            naive_points=points.get("naive"),
            naive_sample_n=naive_sample_n,
            **extra,
            note="navigation start -> first animation frame with clusters/markers, in the page's "
            "clock; fresh context (no cache) each run; tiles refused. A sampled naive side "
            "is naive_fixed_s + (naive_sample_s - naive_fixed_s) x points/naive_points",
        )
    }


def time_to_page_load(browser: Any, url: str) -> float:
    """Seconds from navigation start to the load event (a page without markers)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        return float(
            page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd / 1000")
        )
    finally:
        context.close()


def js_profile_top(
    browser: Any, url: str, limit: int = 10, selector: str = MARKERS_SELECTOR
) -> list[dict[str, Any]]:
    """Where the page's JavaScript spends its time until markers show (Chromium's sampling
    profiler over CDP): self time per function, largest first."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        watch_markers(context, selector)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 200})
        cdp.send("Profiler.start")
        page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_function(
            "() => window.__aopMarkers && window.__aopMarkers.shown", timeout=PAGE_TIMEOUT_MS
        )
        profile = cdp.send("Profiler.stop")["profile"]
    finally:
        context.close()
    deltas = profile.get("timeDeltas") or []
    per_sample = (profile["endTime"] - profile["startTime"]) / max(len(deltas), 1) / 1e6
    self_s: dict[str, float] = {}
    for node in profile["nodes"]:
        frame = node["callFrame"]
        where = frame["url"].rsplit("/", 1)[-1] or "(page)"
        name = f"{frame['functionName'] or '(anonymous)'} {where}:{frame['lineNumber'] + 1}"
        self_s[name] = self_s.get(name, 0.0) + node.get("hitCount", 0) * per_sample
    top = sorted(self_s.items(), key=lambda item: -item[1])[:limit]
    return [{"function": name, "self_s": round(seconds, 4)} for name, seconds in top]
