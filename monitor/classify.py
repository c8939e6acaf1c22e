"""`brandmon classify`: batch-judge a CSV or JSONL file, one JSON line out per row, in order.

CSV is read with the csv module (quoted fields may hold newlines); JSONL one object a line.
A row without the text column is an error naming the row, so no row is silently dropped.
`-` is standard input or output. The output is never the input (that would empty it before
it is read), its folder must exist, and text that is not in the given encoding is an error
naming the line, not a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from monitor.errors import InputError
from monitor.normalise import clean_text
from rules.judge import default_judge

STDIO = Path("-")
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}


def _rows(path: Path, text_column: str, *, encoding: str, jsonl: bool) -> Iterator[tuple[int, str]]:
    try:
        handle: TextIO = (
            io.TextIOWrapper(sys.stdin.buffer, encoding=encoding, newline="")
            if path == STDIO
            else path.open(encoding=encoding, newline="")
        )
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except LookupError:
        raise InputError(f"--encoding {encoding}: not an encoding Python knows") from None
    try:
        with handle:
            yield from _parse(path, handle, text_column, jsonl=jsonl)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not {encoding} text (byte 0x{exc.object[exc.start]:02x}); "
            "give the file's encoding with --encoding, e.g. --encoding latin-1"
        ) from None


def _parse(
    path: Path, handle: TextIO, text_column: str, *, jsonl: bool
) -> Iterator[tuple[int, str]]:
    if jsonl:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {number}: not JSON: {exc.msg}") from None
            if not isinstance(record, dict) or text_column not in record:
                raise InputError(f"{path}: line {number}: no {text_column!r} field")
            yield number, str(record[text_column] or "")
        return
    reader = csv.DictReader(handle)
    if reader.fieldnames is None or text_column not in reader.fieldnames:
        raise InputError(
            f"{path}: no column {text_column!r} (columns: {', '.join(reader.fieldnames or [])})"
        )
    for number, record in enumerate(reader, start=1):
        yield number, record[text_column] or ""


def classify_file(
    source: Path,
    target: Path,
    *,
    text_column: str = "text",
    progress: bool = False,
    encoding: str = "utf-8",
    file_format: str | None = None,
) -> int:
    """Judge every row of `source` into JSONL `target`; returns the number of rows.
    `file_format` ("csv" or "jsonl") overrides the guess from the name (stdin: JSONL)."""
    _check_target(source, target)
    jsonl = (
        file_format == "jsonl"
        if file_format
        else source == STDIO or source.suffix.lower() in JSONL_SUFFIXES
    )
    judge = default_judge()
    rows: Any = _rows(source, text_column, encoding=encoding, jsonl=jsonl)
    if progress:
        from tqdm import tqdm

        rows = tqdm(rows, unit=" rows", desc="classify")
    count = 0
    with _output(target) as out:
        for number, text in rows:
            result = judge.judge(clean_text(text, unescape_html=True)).as_dict()
            out.write(json.dumps({"row": number, **result}, ensure_ascii=False) + "\n")
            count += 1
    return count


def _check_target(source: Path, target: Path) -> None:
    if target == STDIO:
        return
    if source != STDIO and target.resolve() == source.resolve():
        raise InputError(f"{target}: is the input file; choose another --output")
    folder = target.resolve().parent
    if not folder.is_dir():
        raise InputError(f"{target}: folder {folder} does not exist")


@contextmanager
def _output(target: Path) -> Iterator[TextIO]:
    if target == STDIO:
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        handle = target.open("w", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{target}: cannot write: {exc.strerror}") from None
    with handle:
        yield handle
