"""`brandmon classify`: batch-judge a CSV or JSONL file, one JSON line out per row, in order.

CSV is read with the csv module (quoted fields may hold newlines); JSONL one object a line.
A row without the text column is an error naming the row, so no row is silently dropped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from monitor.errors import InputError
from monitor.normalise import clean_text
from rules.judge import default_judge


def _rows(path: Path, text_column: str) -> Iterator[tuple[int, str]]:
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
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
    source: Path, target: Path, *, text_column: str = "text", progress: bool = False
) -> int:
    """Judge every row of `source` into JSONL `target`; returns the number of rows."""
    judge = default_judge()
    rows: Any = _rows(source, text_column)
    if progress:
        from tqdm import tqdm

        rows = tqdm(rows, unit=" rows", desc="classify")
    count = 0
    with target.open("w", encoding="utf-8") as out:
        for number, text in rows:
            result = judge.judge(clean_text(text, unescape_html=True)).as_dict()
            out.write(json.dumps({"row": number, **result}, ensure_ascii=False) + "\n")
            count += 1
    return count
