"""The app's own addresses and documents: provider links, unknown paths, fact sheets; no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable

# url_path of the pages that show the energy map or link into it (app.py's st.Page list).
MAP_PAGES = ("map", "directory", "coverage", "provider")


def provider_link_template(page_url: str | None) -> str:
    """An absolute link to the provider page with an `{id}` slot, for use inside the map's
    iframe (where a relative link would resolve against the component's own address).

    ``page_url`` is the address the browser shows (st.context.url): its scheme, host and any
    base path the app is served under are kept; the current page's own segment is dropped.
    """
    match = re.match(r"^(https?://[^/?#]+)([^?#]*)", page_url or "")
    if not match:
        return "/provider?id={id}"
    path = match.group(2).rstrip("/")
    head, _, last = path.rpartition("/")
    base = head if last in MAP_PAGES else path
    return f"{match.group(1)}{base}/provider?id={{id}}"


def unknown_path(page_url: str | None, base_path: str, known: Iterable[str]) -> str | None:
    """The path asked for when it is no page of the app (Streamlit then runs the default page
    and says nothing in the script), else None.

    ``page_url`` is st.context.url, from which Streamlit has already trimmed a known page's
    path; ``base_path`` is server.baseUrlPath; ``known`` the pages' url_paths.
    """
    match = re.match(r"^https?://[^/?#]+([^?#]*)", page_url or "")
    if not match:
        return None
    path = match.group(1).strip("/")
    base = base_path.strip("/")
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base) :].strip("/")
    return None if path in {"", *known} else path


# Fact sheets (the project's own Markdown, reviewed like code: rendered as written)


def factsheet(text: str, fallback_title: str) -> tuple[str, str]:
    """A sheet's title (its "# " first line, else ``fallback_title``) and its body, with every
    heading one level down so the body sits under the page's own headings."""
    lines = text.splitlines()
    heading = lines[0] if lines and lines[0].startswith("# ") else ""
    title = heading.removeprefix("# ").strip() or fallback_title
    body = "\n".join(lines[1:] if heading else lines)
    return title, re.sub(r"^(#{2,5}) ", r"#\1 ", body, flags=re.MULTILINE)
