"""`brandmon score`: one text in, the full judgement out, for trying rules by hand."""

from __future__ import annotations

from typing import Any

from rules.judge import default_judge
from rules.replies import suggest_reply


def score_text(text: str, *, network: str = "x", handle: str | None = None) -> dict[str, Any]:
    from monitor.normalise import clean_text

    verdict = default_judge().judge(clean_text(text, unescape_html=True))
    result: dict[str, Any] = verdict.as_dict()
    if verdict.flagged:
        result["suggested_reply"] = suggest_reply(
            category=verdict.category, network=network, handle=handle, text=text, seed=text
        )
    return result
