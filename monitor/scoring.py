"""`brandmon score`: one text in, the full judgement out, for trying the judgement by hand.

With `--brand`, the text is judged as that brand's daemon judges it: the brand's terms,
handles and phrase overrides from the config, and the correction learned from its team's
labels (read from the configured database, when there is one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from monitor.config import AppConfig, ConfigError
from rules.judge import Judge, default_judge
from rules.replies import suggest_reply


def brand_judge(config: AppConfig, brand: str, *, file: str) -> Judge:
    """The judge the daemon uses for `brand`, with its stored learned correction."""
    from core.clock import SystemClock
    from monitor.learning import BrandLearner
    from storage.db import open_database
    from storage.labels import LabelStore

    try:
        settings = config.brand(brand)
    except KeyError:
        names = ", ".join(b.name for b in config.brands)
        raise ConfigError(file, "brands", f"no brand named {brand!r} (brands: {names})") from None
    handles = [h for hs in settings.handles.values() for h in hs]
    judge = Judge(settings.rules, brand_terms=settings.terms, brand_handles=handles)
    url = make_url(config.storage.url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return judge  # no database yet: nothing learned, and nothing to create
    engine = open_database(config.storage.url)
    try:
        learner = BrandLearner(config, LabelStore(engine), clock=SystemClock())
        judge.adjustment = learner.stored(brand)
    finally:
        engine.dispose()
    return judge


def score_text(
    text: str, *, judge: Judge | None = None, network: str = "x", handle: str | None = None
) -> dict[str, Any]:
    from monitor.normalise import clean_text

    judge = judge or default_judge()
    verdict = judge.judge(clean_text(text, unescape_html=True))
    result: dict[str, Any] = verdict.as_dict()
    if judge.adjustment is not None:
        result["learned_from_labels"] = judge.adjustment.labels
    if verdict.flagged:
        result["suggested_reply"] = suggest_reply(
            category=verdict.category, network=network, handle=handle, text=text, seed=text
        )
    return result
