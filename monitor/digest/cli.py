"""`brandmon digest`: preview a week's digest, print it, or send it now.

    brandmon digest [--config PATH] [--week 2026-W47] [--brand NAME] [--out FILE.html]
                    [--screenshots] [--send]

Without --out or --send the plain-text digest is printed. --out writes a standalone HTML
preview (charts inline as data URIs; with several brands, one file per brand); with
--screenshots, also FILE-390.png and FILE-1200.png: the preview as a phone and a desktop
show it, taken with the system's headless Chromium. --send mails
it to `digest.recipients` now and records it in the ledger, so the scheduler will not send
the same week again.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from core.clock import Clock, SystemClock
from monitor.config import AppConfig, find_config, load_config
from monitor.digest.period import Week, parse_week, week_at
from monitor.errors import InputError


def add_digest_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `digest` on the `brandmon` sub-command parsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "digest", help="build the weekly digest: print it, preview it as HTML, or send it"
    )
    parser.add_argument("--config", help="config file (default: $BRANDMON_CONFIG, ./config.yaml)")
    parser.add_argument("--week", help="ISO week such as 2026-W47 (default: last week)")
    parser.add_argument("--brand", help="one brand (default: every configured brand)")
    parser.add_argument("--out", help="write an HTML preview (images inline) to this file")
    parser.add_argument(
        "--screenshots",
        action="store_true",
        help="with --out: also FILE-390.png and FILE-1200.png, taken with headless Chromium",
    )
    parser.add_argument("--send", action="store_true", help="mail it to digest.recipients now")
    parser.set_defaults(func=cmd_digest)
    return parser


def _brands(config: AppConfig, name: str | None) -> list[str]:
    names = [b.name for b in config.brands if not b.competitor]
    if name is None:
        return names
    if name not in names:
        raise InputError(f"--brand {name!r}: not in the config (brands: {', '.join(names)})")
    return [name]


def _browser() -> str:
    from monitor.digest.browser import find_browser

    browser = find_browser()
    if browser is None:
        raise InputError(
            "--screenshots: no Chromium found (install it, e.g. apt-get install chromium, "
            "or set BRANDMON_CHROMIUM)"
        )
    return browser


def _out_path(out: Path, brand: str, several: bool) -> Path:
    if not several:
        return out
    slug = re.sub(r"[^A-Za-z0-9-]+", "-", brand).strip("-") or "brand"
    return out.with_name(f"{out.stem}-{slug}{out.suffix}")


def run_digest(args: argparse.Namespace, *, clock: Clock, out: TextIO, err: TextIO) -> int:
    """The command itself, with the clock and streams injectable for tests."""
    # Imported here so that `brandmon --help` and other commands do not load matplotlib.
    from monitor.digest.browser import screenshots
    from monitor.digest.service import build_digest
    from storage.db import open_database

    config = load_config(find_config(args.config))
    now = clock.now()
    week: Week = (
        parse_week(args.week, config.timezone)
        if args.week
        else week_at(now, config.timezone).previous()
    )
    brands = _brands(config, args.brand)
    browser = _browser() if args.screenshots else None
    if args.screenshots and not args.out:
        raise InputError("--screenshots: needs --out FILE.html to name the screenshots after")
    if args.send and not config.digest.recipients:
        raise InputError("--send: digest.recipients is empty in the config")
    engine = open_database(config.storage.url)
    failed = 0
    try:
        for brand in brands:
            if args.out or not args.send:
                digest = build_digest(config, engine, brand=brand, week=week)
                if args.out:
                    path = _out_path(Path(args.out), brand, len(brands) > 1)
                    path.write_text(digest.preview_html(), encoding="utf-8")
                    print(f"wrote {path}", file=err)
                    if browser:
                        for shot in screenshots(digest.preview_html(), path, browser=browser):
                            print(f"wrote {shot}", file=err)
                elif not args.send:
                    print(digest.text(), file=out)
            if args.send and not _send(config, engine, brand=brand, week=week, now=now, err=err):
                failed += 1
    finally:
        engine.dispose()
    return 1 if failed else 0


def _send(config: AppConfig, engine: Any, *, brand: str, week: Week, now: Any, err: TextIO) -> bool:
    from monitor.digest import ledger
    from monitor.digest.service import deliver

    claim = ledger.claim(engine, brand=brand, week=week.label, now=now, force=True)
    if claim is None:
        print(f"{brand} {week.label}: another brandmon is sending it right now", file=err)
        return False
    outcome = deliver(config, engine, claim, brand=brand, week=week, now=now)
    if outcome.status == "sent":
        print(f"{brand} {week.label}: sent to {', '.join(config.digest.recipients)}", file=err)
        return True
    print(f"{brand} {week.label}: not sent: {outcome.error}", file=err)
    return False


def cmd_digest(args: argparse.Namespace) -> int:
    return run_digest(args, clock=SystemClock(), out=sys.stdout, err=sys.stderr)
