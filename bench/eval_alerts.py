"""Every alert the demo produces, read as support would: are the replies right for the post?

Runs the real daemon (pipeline, storage, outbox, drafting) over demo/feed.jsonl on a clock
stepped every 5 minutes, collects every alert it sends, and compares each reply with the
post's label in demo/labels.jsonl. Beside it, the baseline measured in the same run: the
previous behaviour, where only flagged complaints got an alert and every one got the
category apology (rules.replies.ReplyBook.suggest).

Prints: apologies sent to praise, questions, spam and off-topic posts (target 0); replies
whose purpose matches the post's labelled intent; alerts (by kind) during the outage hour;
and the Slack messages posted during the outage hour (top-level in the channel vs in a
thread), from two more runs through the real Slack sink and slack_sdk client against the
local fake Slack (tests/fake_slack.py): incidents off (the previous behaviour: no early
incident, no threading) and on (the default config).

    .venv/bin/python bench/eval_alerts.py
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.clock import FixedClock
from monitor.alert_model import AlertCard, situation_of
from monitor.alerts import AlertView, Delivery
from monitor.config import load_config
from monitor.daemon import Daemon
from monitor.slack import SlackSink
from rules.replies import load_book, purpose_of
from storage.db import open_database

DEMO = Path(__file__).resolve().parents[1] / "demo"
APOLOGY = re.compile(
    r"sorry|apolog|leid|désolé|sentimos|siento|spijt|dispiace|scus|lamentamos|desculpa|"
    r"przykro|przeprasz",
    re.I,
)
NOT_COMPLAINTS = ("praise", "question", "spam", "off_topic", "chatter")
# Which reply purposes fit a post with this labelled intent.
FITS = {
    "complaint": {"apology", "safety", "vulnerable", "privacy", "legal", "holding"},
    "question": {"answer"},
    "praise": {"thanks"},
    "spam": {"warning"},
}
OUTAGE = (datetime(2026, 11, 16, 14, tzinfo=UTC), datetime(2026, 11, 16, 15, tzinfo=UTC))


class Collect:
    name = "bench"

    def __init__(self) -> None:
        self.sent: list[tuple[AlertView, AlertCard]] = []

    def send(self, view: AlertView) -> Delivery:
        self.sent.append((view, view.decided()))
        return Delivery(channel="bench")


def run() -> list[tuple[AlertView, AlertCard]]:
    workdir = Path(tempfile.mkdtemp(prefix="brandmon-bench-"))
    config = load_config(DEMO / "config.yaml")
    config = config.model_copy(
        update={
            "storage": config.storage.model_copy(
                update={"url": f"sqlite:///{workdir / 'bench.sqlite3'}"}
            )
        }
    )
    clock = FixedClock(datetime(2026, 11, 16, tzinfo=UTC))
    sink = Collect()
    daemon = Daemon(config, clock=clock, sink=sink)
    end = datetime(2026, 11, 17, 0, 5, tzinfo=UTC)
    while clock.now() < end:
        clock.advance(minutes=5)
        daemon.run_once()
    return sink.sent


def slack_messages(*, incidents: bool) -> tuple[int, int]:
    """(top-level, threaded) Slack messages posted during the outage hour."""
    from pydantic import SecretStr

    from tests.fake_slack import BOT_TOKEN, FakeSlack

    workdir = Path(tempfile.mkdtemp(prefix="brandmon-bench-"))
    config = load_config(DEMO / "config.yaml")
    clock = FixedClock(datetime(2026, 11, 16, tzinfo=UTC))
    with FakeSlack(now=lambda: clock.now().timestamp()) as fake:
        alerting = config.alerting
        incident = alerting.incident.model_copy(
            update={} if incidents else {"burst_posts": 0, "thread": False}
        )
        slack = alerting.slack.model_copy(
            update={
                "bot_token": SecretStr(BOT_TOKEN),
                "app_token": None,
                "channel": "C0SUPPORT",
                "base_url": fake.base_url,
            }
        )
        config = config.model_copy(
            update={
                "storage": config.storage.model_copy(
                    update={"url": f"sqlite:///{workdir / 'slack.sqlite3'}"}
                ),
                "alerting": alerting.model_copy(
                    update={"sink": "slack", "slack": slack, "incident": incident}
                ),
            }
        )
        sink = SlackSink(config, open_database(config.storage.url), clock=clock)
        daemon = Daemon(config, clock=clock, sink=sink)
        end = datetime(2026, 11, 16, 15, 5, tzinfo=UTC)
        while clock.now() < end:
            clock.advance(minutes=5)
            daemon.run_once()
        messages = [
            m
            for m in fake.messages["C0SUPPORT"]
            if OUTAGE[0].timestamp() <= float(m["ts"]) < OUTAGE[1].timestamp()
        ]
    top = sum(m.get("thread_ts") in (None, m["ts"]) for m in messages)
    return top, len(messages) - top


def main() -> int:
    labels = {
        (row["id"]): row for row in map(json.loads, (DEMO / "labels.jsonl").open(encoding="utf-8"))
    }
    sent = run()
    book = load_book()
    now_apology: Counter[str] = Counter()
    old_apology: Counter[str] = Counter()
    now_fit = now_total = old_fit = old_total = 0
    judged_now = judged_old = 0  # apologies to posts the judgement itself called no complaint
    outage_now: Counter[str] = Counter()
    outage_old = 0
    for view, card in sent:
        mention = view.mention
        if mention is None:
            continue
        label = labels.get(mention.native_id, {"intent": "?"})["intent"]
        if OUTAGE[0] <= view.alert.created_at < OUTAGE[1]:
            outage_now[card.kind] += 1
        if mention.reply:
            now_total += 1
            now_apology[label] += bool(APOLOGY.search(mention.reply))
            judged_now += mention.intent != "complaint" and bool(APOLOGY.search(mention.reply))
            now_fit += purpose_of(situation_of(mention)) in FITS.get(label, set()) or (
                card.reply_label is not None
                and "Holding" in card.reply_label
                and label == "complaint"
            )
        if view.alert.kind == "complaint":  # the baseline alerted complaints only
            old = book.suggest(
                category=mention.category, network=mention.network, handle="h",
                text=mention.text, seed=mention.native_id,
            ) or ""  # fmt: skip
            old_total += 1
            old_apology[label] += bool(APOLOGY.search(old))
            judged_old += mention.intent != "complaint" and bool(APOLOGY.search(old))
            old_fit += "apology" in FITS.get(label, set())
            if OUTAGE[0] <= view.alert.created_at < OUTAGE[1]:
                outage_old += 1
    print(f"demo: {len(sent)} alerts sent ({dict(Counter(c.kind for _, c in sent))})")
    print(f"  {'':<44}{'baseline':>10}{'brandmon':>10}")
    for intent in NOT_COMPLAINTS:
        print(f"  {'apologies to posts labelled ' + intent:<44}{old_apology[intent]:>10}"
              f"{now_apology[intent]:>10}")  # fmt: skip
    print(f"  {'apologies to posts judged no complaint':<44}{judged_old:>10}{judged_now:>10}")
    print(f"  {'replies whose purpose fits the label':<44}{f'{old_fit}/{old_total}':>10}"
          f"{f'{now_fit}/{now_total}':>10}")  # fmt: skip
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(outage_now.items()))
    print(f"  {'alerts in the outage hour (14:00-15:00)':<44}{outage_old:>10}"
          f"{sum(outage_now.values()):>10}   ({kinds})")  # fmt: skip
    (old_top, old_thread), (new_top, new_thread) = (
        slack_messages(incidents=False),
        slack_messages(incidents=True),
    )
    print(f"  {'Slack messages in the channel, outage hour':<44}{old_top:>10}{new_top:>10}")
    print(f"  {'Slack messages in threads, outage hour':<44}{old_thread:>10}{new_thread:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
