#!/usr/bin/env python3
"""One entry point for a fresh machine: `python3 dev.py demo` or `python3 dev.py test`.

Each command first makes sure `.venv` exists and holds brandmon with its pinned dependencies
(re-installing when pyproject.toml changes), so the README's two Quickstart commands need
nothing but Python 3.11+.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".brandmon-install"


def ensure_environment() -> Path:
    """Create/refresh the virtualenv; returns its python."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on whatever python3 is
        sys.exit(f"brandmon needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    python = BIN / "python"
    if not python.exists():
        print("dev.py: creating .venv ...", file=sys.stderr)
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        print("dev.py: installing brandmon and its dependencies into .venv ...", file=sys.stderr)
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
        STAMP.write_text(wanted)
    return python


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "run", "shell", "train"}:
        print("usage: python3 dev.py demo|test|run|shell|train [args...]", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    python = str(ensure_environment())
    os.chdir(ROOT)
    if command == "demo":
        return subprocess.call([python, "-m", "monitor.cli", "demo", *rest])
    if command == "run":
        return subprocess.call([python, "-m", "monitor.cli", *rest])
    if command == "shell":
        return subprocess.call([python, *rest])
    if command == "train":
        return subprocess.call([python, "-m", "rules.train", *rest])
    lint = subprocess.call([python, "-m", "ruff", "check", "."]) or subprocess.call(
        [python, "-m", "ruff", "format", "--check", "."]
    )
    tests = subprocess.call([python, "-m", "pytest", *rest])
    if tests == 5:
        print("dev.py: pytest collected no tests; that is a failure", file=sys.stderr)
    return lint or tests


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
