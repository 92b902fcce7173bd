"""The published feed: ORUK's paged shape, every service as one page, and the About page's
words on the feed and the API; services are built elsewhere (services)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from aop_map import settings
from aop_map.oruk.services import build_services
from aop_map.records import Record
from aop_map.vocabulary import Vocabulary

ORUK_VERSION = "3.0"
ORUK_PROFILE = "https://github.com/openreferral/uk-profile"


def page(items: list[Any], page_number: int, per_page: int) -> dict[str, Any]:
    """One page of ``items`` in ORUK's paged shape (``page_number`` counts from 1)."""
    total = len(items)
    start = (page_number - 1) * per_page
    contents = items[start : start + per_page] if start < total else []
    total_pages = math.ceil(total / per_page)
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page_number,
        "size": len(contents),
        "first_page": page_number == 1,
        "last_page": page_number >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def export_feed(
    records: Iterable[Record], vocabulary: Vocabulary, frame: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Every record as one page of a ``/services`` response, each service fully nested."""
    services = build_services(records, vocabulary, frame)
    return page(services, 1, max(len(services), 1))


_SAFE_BASE_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/-]*)?$")


def about_markdown(api_url: str | None = None) -> str:
    """What the Open Referral UK feed and API are for, as Markdown for the About page.

    They are linked when ``api_url``, the API's public base address (by default
    AOP_MAP_API_URL), is a plain http(s) address; otherwise the text says how to run them.
    """
    if api_url is None:
        api_url = settings.raw("AOP_MAP_API_URL")
    base = api_url.strip().rstrip("/") if api_url else ""
    if base and not _SAFE_BASE_URL.match(base):
        base = ""  # never put an odd value into a link
    text = (
        "### Open data: Open Referral UK\n\n"
        "Every listing is also published in the [Open Referral UK]"
        "(https://openreferraluk.org) data standard (version 3.0), which other service "
        "directories, social prescribing platforms and council websites read. Each listing "
        "is a *service* with its organisation, venues, areas served, and its health "
        "conditions, art forms, age groups, delivery and referral routes as taxonomy terms. "
        "Contact details are included only where the provider agreed to publish them. Ids "
        "never change, so others can link to a listing and pick up its updates.\n\n"
    )
    if base:
        text += (
            f"- **The feed**: [{base}/services]({base}/services) lists every service, page "
            "by page, for anyone who wants to copy or check the whole directory.\n"
            f"- **The API**: [{base}/]({base}/) answers questions such as *services for "
            f"dementia* or *venues within 10 km of a postcode* "
            f"([documentation]({base}/docs)). It is open: no key or registration.\n"
        )
    else:
        text += (
            "- **The feed**: `aop-map export --format oruk` writes every service to one "
            "JSON file.\n"
            "- **The API**: `aop-map serve-api` serves the same data as a read-only Open "
            "Referral UK API (services, taxonomies, venues near a postcode), open to "
            "anyone without a key.\n"
        )
    return text
