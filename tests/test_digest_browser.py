"""The digest in a real browser: nothing wider than a 390 px phone or a 1200 px desktop, and
chart text at least 11 px where it is shown. Skipped when no Chromium is installed
(`.ci/run` installs Debian's)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from monitor.config import parse_config
from monitor.digest.browser import WIDTHS, find_browser, measure
from monitor.digest.charts import FONT_PX
from monitor.digest.service import build_digest
from tests.test_digest_figures import BRAND, COMPETITOR, TZ, WEEK, make_seed, seed_database

BROWSER = find_browser()
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium on PATH")


@pytest.fixture
def digest_html(engine: Engine) -> str:
    seed = make_seed()
    seed.mention(  # nothing to break a line at: it must wrap, not widen the page
        WEEK.start + timedelta(hours=3),
        text="https://example.com/" + "a" * 300,
        reposts=10_000,
    )
    seed_database(engine, seed)
    config = parse_config(
        {
            "brands": [
                {"name": BRAND, "terms": ["kestrel"]},
                {"name": COMPETITOR, "terms": ["other"], "competitor": True},
            ],
            "sources": {"seed": {"type": "replay", "path": "unused.jsonl"}},
            "timezone": TZ,
        }
    )
    return build_digest(config, engine, brand=BRAND, week=WEEK).preview_html()


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_overflows_and_chart_text_is_readable(digest_html: str, width: int) -> None:
    assert BROWSER is not None
    layout = measure(digest_html, width, browser=BROWSER)
    assert layout.viewport == width
    assert not layout.overflows, (layout.content, layout.wide)
    assert len(layout.image_scales) == 3
    assert min(layout.image_scales) * FONT_PX >= 11
    assert "Share of voice" in digest_html  # the competitor's section is on the page measured


def test_a_fixed_width_page_is_caught(tmp_path: object) -> None:
    assert BROWSER is not None
    layout = measure('<div style="width:700px">wide</div>', 390, browser=BROWSER)
    assert layout.overflows
    assert layout.wide == ["div: wide"]
