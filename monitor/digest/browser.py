"""The digest as a browser shows it: layout measured, and screenshots, in headless Chromium.

Chromium is the system's (`apt-get install chromium`; `.ci/run` installs it), driven from
its command line: no browser automation library and nothing downloaded. A headless window is
never narrower than 500 px, so the digest is shown in an iframe of the width being checked,
which is also how a phone shows it (the viewport is the iframe). A small script in the page
around it measures the digest once it has loaded and leaves the result in the DOM that
`--dump-dom` prints.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

WIDTHS = (390, 1200)
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_SECONDS = 60

_MEASURE = """
function measure() {
  const doc = document.getElementById("digest").contentDocument;
  const root = doc.documentElement;
  const wide = [...doc.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > root.clientWidth + 0.5)
    .map((e) => e.tagName.toLowerCase() + ": " + (e.textContent || "").trim().slice(0, 60));
  const images = [...doc.images].map((i) => i.clientWidth / (i.naturalWidth || 1));
  document.body.setAttribute("data-layout", JSON.stringify({
    viewport: root.clientWidth, content: root.scrollWidth, height: root.scrollHeight,
    wide: wide.slice(0, 10), image_scales: images,
  }));
}
"""


class BrowserError(Exception):
    """Chromium is missing, failed, or printed nothing that could be read."""


@dataclass(frozen=True, slots=True)
class Layout:
    """The digest laid out at one width."""

    viewport: int
    content: int  # the document's scroll width: wider than the viewport means it overflows
    height: int
    wide: list[str]  # elements reaching past the right edge (tag: text), at most 10
    image_scales: list[float]  # each image's shown width / its pixel width

    @property
    def overflows(self) -> bool:
        return self.content > self.viewport or bool(self.wide)


def find_browser() -> str | None:
    """$BRANDMON_CHROMIUM, or the first Chromium on PATH; None when there is none."""
    chosen = os.environ.get("BRANDMON_CHROMIUM")
    if chosen:
        return chosen
    return next((path for name in NAMES if (path := shutil.which(name))), None)


def _frame(digest_html: str, width: int, height: int, *, measure: bool) -> str:
    script = f"<script>{_MEASURE}</script>" if measure else ""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        '<body style="margin:0;background:#fff;">'
        f'<iframe id="digest" width="{width}" height="{height}" style="border:0;display:block;" '
        f'{"onload=measure()" if measure else ""} srcdoc="{html.escape(digest_html)}"></iframe>'
        f"{script}</body></html>"
    )


def _run(browser: str, page: str, *args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="brandmon-chromium-") as folder:
        path = Path(folder) / "page.html"
        path.write_text(page, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--no-sandbox",  # root in containers and CI; the page is our own file
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={folder}/profile",
            *args,
            path.as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BrowserError(f"{browser}: {exc}") from exc
    if done.returncode != 0:
        raise BrowserError(f"{browser} exited with {done.returncode}: {done.stderr[-300:]}")
    return done.stdout


def measure(digest_html: str, width: int, *, browser: str) -> Layout:
    """Lay the digest out `width` px wide and report what overflows."""
    page = _frame(digest_html, width, 800, measure=True)
    dom = _run(browser, page, "--window-size=1300,900", "--dump-dom")
    start = dom.find('data-layout="')
    if start < 0:
        raise BrowserError(f"{browser}: the page did not report its layout")
    raw = dom[start + len('data-layout="') : dom.index('"', start + len('data-layout="'))]
    return Layout(**json.loads(html.unescape(raw)))


def screenshots(digest_html: str, out: Path, *, browser: str) -> list[Path]:
    """One full-length PNG per width in WIDTHS, named `<out stem>-<width>.png`."""
    written = []
    for width in WIDTHS:
        height = measure(digest_html, width, browser=browser).height
        path = out.with_name(f"{out.stem}-{width}.png")
        page = _frame(digest_html, width, height, measure=False)
        _run(
            browser,
            page,
            f"--window-size={max(width, 500)},{height}",
            f"--screenshot={path.resolve()}",
        )
        written.append(path)
    return written
