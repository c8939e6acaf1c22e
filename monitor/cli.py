"""The `brandmon` command line: run the daemon, try it on the demo feed, check config, score text.

Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad configuration (with a one-line
error naming the file, the key and the reason).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from monitor.config import ConfigError, find_config, load_config, redacted
from monitor.errors import InputError

log = logging.getLogger("brandmon")


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("brandmon")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def cmd_check_config(args: argparse.Namespace) -> int:
    from storage.db import check_database

    path = find_config(args.config)
    config = load_config(path)
    check_database(config.storage.url)
    print(f"# {path}: valid")
    import yaml

    print(yaml.safe_dump(redacted(config), sort_keys=False, allow_unicode=True), end="")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from core.clock import SystemClock
    from monitor.daemon import Daemon
    from monitor.sinks import build_sink
    from storage.db import open_database

    path = find_config(args.config)
    config = load_config(path)
    _setup_logging(config.log_level)
    engine = open_database(config.storage.url)
    clock = SystemClock()
    try:
        sink = build_sink(config, out=sys.stdout, engine=engine, clock=clock)
        daemon = Daemon(config, clock=clock, sink=sink, engine=engine)
    except ConfigError as exc:
        raise ConfigError(str(path), exc.key, exc.reason) from exc
    if args.once:
        daemon.run_once()
        daemon.stop()
        return 0
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log.info(
        "brandmon running with %d source(s); stop with SIGTERM or Ctrl-C", len(daemon.connectors)
    )
    if not daemon.run_forever(stop):
        # A job hangs on a slow server: leave it rather than wait (its batch commits all or
        # nothing); interpreter shutdown would join its thread, so end the process here.
        log.info("brandmon stopped, leaving a job in flight")
        logging.shutdown()
        sys.stdout.flush()
        os._exit(0)
    log.info("brandmon stopped")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    return run_demo(seconds=args.seconds, data_dir=args.data_dir, out=sys.stdout)


def cmd_score(args: argparse.Namespace) -> int:
    from monitor.scoring import brand_judge, score_text

    judge = None
    if args.brand:
        path = find_config(args.config)
        judge = brand_judge(load_config(path), args.brand, file=str(path))
    print(json.dumps(score_text(args.text, judge=judge), ensure_ascii=False))
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from monitor.classify import classify_file

    count = classify_file(
        Path(args.input),
        Path(args.output),
        text_column=args.text_column,
        progress=sys.stderr.isatty() and args.output != "-",
        encoding=args.encoding,
        file_format=args.format,
    )
    print(f"classified {count} rows into {args.output}", file=sys.stderr)
    return 0


def cmd_viral(args: argparse.Namespace) -> int:
    from monitor.viral_cmd import run_viral

    source = Path(args.input)
    history = None if args.prior else Path(args.history) if args.history else source
    count = run_viral(source, Path(args.output), history=history, threshold=args.threshold)
    print(f"assessed {count} cascades into {args.output}", file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from core.clock import SystemClock
    from monitor.status import print_status

    config = load_config(find_config(args.config))
    return 0 if print_status(config, out=sys.stdout, now=SystemClock().now()) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="brandmon", description="Social-media brand monitoring for support teams."
    )
    parser.add_argument("--version", action="version", version=f"brandmon {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", help="config file (default: $BRANDMON_CONFIG, ./config.yaml)")
        return p

    run = with_config(sub.add_parser("run", help="run the daemon"))
    run.add_argument("--once", action="store_true", help="poll every source once and exit")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="run the daemon on the bundled demo feed")
    demo.add_argument("--seconds", type=float, default=30, help="how long the replay takes")
    demo.add_argument("--data-dir", help="keep the demo database here (default: a temp dir)")
    demo.set_defaults(func=cmd_demo)

    check = with_config(sub.add_parser("check-config", help="validate and print the config"))
    check.set_defaults(func=cmd_check_config)

    score = with_config(sub.add_parser("score", help="judge one text and print JSON"))
    score.add_argument("text")
    score.add_argument("--brand", help="judge as this brand's daemon does (config and labels)")
    score.set_defaults(func=cmd_score)

    classify = sub.add_parser("classify", help="judge every row of a CSV or JSONL file")
    classify.add_argument("--input", required=True, help="CSV or JSONL file; - for stdin")
    classify.add_argument("--output", required=True, help="JSONL file; - for stdout")
    classify.add_argument("--text-column", default="text")
    classify.add_argument("--encoding", default="utf-8", help="the input's encoding")
    classify.add_argument(
        "--format", choices=["csv", "jsonl"], help="default: from the name (stdin: jsonl)"
    )
    classify.set_defaults(func=cmd_classify)

    viral = sub.add_parser("viral", help="run the viral-risk model over a file of cascades")
    viral.add_argument("--input", required=True, help="cascades, one JSON object a line")
    viral.add_argument("--output", required=True, help="JSONL: one line per cascade and checkpoint")
    learn = viral.add_mutually_exclusive_group()
    learn.add_argument("--history", help="cascades to learn what is usual from (default: --input)")
    learn.add_argument("--prior", action="store_true", help="use the published prior only")
    viral.add_argument("--threshold", type=float, default=60.0, help="alert score (default 60)")
    viral.set_defaults(func=cmd_viral)

    status = with_config(sub.add_parser("status", help="per-source health"))
    status.set_defaults(func=cmd_status)

    from monitor.digest.cli import add_digest_command

    add_digest_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from storage.db import StorageError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"brandmon: config error: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        file = find_config(getattr(args, "config", None))
        print(f"brandmon: config error: {file}: storage.url: {exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"brandmon: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
