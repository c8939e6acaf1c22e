"""`brandmon run --once` with the X and Reddit connectors against local API servers.

Real config file, credentials from the environment, real tweepy and praw over HTTP, the real
daemon and pipeline, SQLite: then the rows that landed are checked with SQLAlchemy.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from connectors import CONNECTORS
from connectors.x import TWITTER_EPOCH_MS
from monitor.cli import main
from storage.models import Author, Mention, SourceState
from tests.recorded_api import RecordedAPI, Reply

pytestmark = pytest.mark.skipif(
    not {"x", "reddit"} <= set(CONNECTORS),
    reason="x/reddit connectors are not registered in connectors.CONNECTORS yet",
)

NOW = time.time()
COMPLAINT, REPLY, PRAISE = (
    str(((int((NOW - ago) * 1000) - TWITTER_EPOCH_MS) << 22) + 7) for ago in (300, 120, 60)
)


def tweet(tid: str, text: str, author: str, **extra: Any) -> dict[str, Any]:
    created = datetime.fromtimestamp(((int(tid) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)
    return {
        "id": tid,
        "text": text,
        "author_id": author,
        "created_at": f"{created:%Y-%m-%dT%H:%M:%S}.000Z",
        "lang": "en",
        "conversation_id": COMPLAINT,
        "public_metrics": {
            "like_count": 40,
            "retweet_count": 12,
            "reply_count": 3,
            "quote_count": 1,
        },
        "edit_history_tweet_ids": [tid],
        **extra,
    }


X_PAGE = {
    "data": [
        tweet(PRAISE, "Loving my new Acme blender", "12"),
        tweet(
            REPLY,
            "@jane_doe Sorry, Jane! DM us your order number &amp; we'll fix it.",
            "900",
            referenced_tweets=[{"type": "replied_to", "id": COMPLAINT}],
        ),
        tweet(
            COMPLAINT, "Acme kept me on hold for 2 hours &amp; then hung up. Worst service", "11"
        ),
    ],
    "includes": {
        "users": [
            {
                "id": "900",
                "username": "AcmeSupport",
                "name": "Acme",
                "public_metrics": {"followers_count": 50000},
            },
            {
                "id": "11",
                "username": "jane_doe",
                "name": "Jane",
                "public_metrics": {"followers_count": 120},
            },
            {
                "id": "12",
                "username": "bob_r",
                "name": "Bob",
                "public_metrics": {"followers_count": 3400},
            },
        ]
    },
    "meta": {"newest_id": PRAISE, "oldest_id": COMPLAINT, "result_count": 3},
}


def thing(kind: str, ident: str, ago: float, author: str, **data: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "data": {
            "name": f"{kind}_{ident}",
            "id": ident,
            "created_utc": NOW - ago,
            "author": author,
            "author_fullname": f"t2_{author.lower()}",
            "subreddit": "AcmeUsers",
            "score": 5,
            "permalink": f"/r/AcmeUsers/comments/{ident}/x/",
            **data,
        },
    }


def listing(*children: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"after": None, "before": None, "children": list(children)}}


REDDIT_POST = thing(
    "t3",
    "abc123",
    600,
    "jane_r",
    title="Acme refund: 3 weeks & nothing",
    selftext="",
    num_comments=4,
)
REDDIT_REPLY = thing(
    "t1",
    "def456",
    200,
    "AcmeSupport",
    body="Sorry u/jane_r, DM us please.",
    parent_id="t3_abc123",
    link_id="t3_abc123",
)


@pytest.fixture
def x_api() -> Iterator[RecordedAPI]:
    with RecordedAPI() as api:
        reset = str(int(NOW) + 900)
        headers = {"x-rate-limit-remaining": "449", "x-rate-limit-reset": reset}
        api.add("GET", "/2/tweets/search/recent", Reply(200, X_PAGE, headers))
        api.add(
            "GET", "/2/tweets/search/recent", Reply(200, {"meta": {"result_count": 0}}), repeat=True
        )
        api.add("GET", "/2/tweets", Reply(200, {"data": X_PAGE["data"]}), repeat=True)
        yield api


@pytest.fixture
def reddit_api() -> Iterator[RecordedAPI]:
    with RecordedAPI() as api:
        token = {"access_token": "t", "token_type": "bearer", "expires_in": 3600, "scope": "*"}
        api.add("POST", "/api/v1/access_token", Reply(200, token), repeat=True)
        api.add("GET", "/r/all/search/", Reply(200, listing(REDDIT_POST)), repeat=True)
        api.add("GET", "/r/AcmeUsers/comments/", Reply(200, listing(REDDIT_REPLY)), repeat=True)
        api.add("GET", "/user/AcmeSupport/comments", Reply(200, listing(REDDIT_REPLY)), repeat=True)
        karma = {"t2_jane_r": {"name": "jane_r", "link_karma": 10, "comment_karma": 90}}
        api.add("GET", "/api/user_data_by_account_ids", Reply(200, karma), repeat=True)
        api.add("GET", "/api/info/", Reply(200, listing(REDDIT_POST)), repeat=True)
        yield api


def test_run_once_stores_mentions_from_x_and_reddit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, x_api: RecordedAPI, reddit_api: RecordedAPI
) -> None:
    database = tmp_path / "brandmon.sqlite3"
    config = {
        "brands": [
            {
                "name": "Acme",
                "terms": ["Acme"],
                "handles": {"x": ["AcmeSupport"], "reddit": ["AcmeSupport"]},
            }
        ],
        "sources": {
            "x_main": {
                "type": "x",
                "bearer_token": "${X_BEARER_TOKEN}",
                "base_url": x_api.url,
            },
            "reddit_main": {
                "type": "reddit",
                "client_id": "${REDDIT_CLIENT_ID}",
                "client_secret": "${REDDIT_CLIENT_SECRET}",
                "oauth_url": reddit_api.url,
                "reddit_url": reddit_api.url,
                "comment_subreddits": ["AcmeUsers"],
            },
        },
        "storage": {"url": f"sqlite:///{database}"},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("X_BEARER_TOKEN", "e2e-bearer")
    monkeypatch.setenv("REDDIT_CLIENT_ID", "e2e-id")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "e2e-secret")

    assert main(["run", "--once", "--config", str(path)]) == 0

    assert x_api.requests[0].headers["Authorization"] == "Bearer e2e-bearer"
    engine = create_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        rows = {(m.network, m.native_id): m for m in session.scalars(select(Mention))}
        authors = {(a.network, a.handle): a for a in session.scalars(select(Author))}
        states = {s.source: s for s in session.scalars(select(SourceState))}
    engine.dispose()

    assert set(rows) == {
        ("x", COMPLAINT),
        ("x", REPLY),
        ("x", PRAISE),
        ("reddit", "t3_abc123"),
        ("reddit", "t1_def456"),
    }
    complaint = rows[("x", COMPLAINT)]
    assert complaint.text == "Acme kept me on hold for 2 hours & then hung up. Worst service"
    assert (complaint.brand, complaint.source, complaint.from_brand) == ("Acme", "x_main", False)
    assert complaint.url == f"https://x.com/jane_doe/status/{COMPLAINT}"
    assert (complaint.likes, complaint.reposts) == (40, 12)
    assert (rows[("x", REPLY)].from_brand, rows[("x", REPLY)].in_reply_to) == (True, COMPLAINT)
    assert (
        rows[("reddit", "t1_def456")].from_brand,
        rows[("reddit", "t1_def456")].in_reply_to,
    ) == (
        True,
        "t3_abc123",
    )
    assert rows[("reddit", "t3_abc123")].text == "Acme refund: 3 weeks & nothing"
    assert authors[("x", "bob_r")].followers == 3400
    assert authors[("reddit", "jane_r")].followers == 100
    assert states["x_main"].cursor
    assert states["reddit_main"].cursor
    assert states["x_main"].quota_remaining == 449
    assert states["x_main"].last_error is None
    assert states["reddit_main"].last_error is None
