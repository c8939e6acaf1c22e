"""Synthetic but varied brand mentions for benchmarks (seeded, so runs are comparable)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from core.records import Author, Engagement, Post

OPENERS = ["@KestrelHelp", "Kestrel", "Hey @Kestrel", "So Kestrel", "kestrel fibre", "#kestrel"]
MIDDLES = [
    "my order never arrived and I've been on hold for 2 hours",
    "thanks for the quick delivery, really happy with the new headphones",
    "is the app down for anyone else? can't log in since this morning",
    "charged me twice for the same router and no one answers emails",
    "what time does the Leeds store open on Sunday?",
    "the laptop arrived with a cracked screen, third time I ask for a replacement",
    "great price on the TV, delivered a day early",
    "cancelled my engineer appointment again without telling me",
    "still waiting for the refund you promised two weeks ago",
    "just ordered a kettle, let's see how it goes",
    "your staff in the Bristol store were brilliant today",
    "broadband keeps dropping every evening, fix it please",
]
CLOSERS = ["", "!", " 😡", " 🙂", " #fail", " never again.", " thanks", " ...", " wow"]
# Second sentences bring the mean length to about 100 characters, like real posts to brands
# (the airline tweets in ../shared average 104), so VADER's baseline rate is realistic too.
ASIDES = [
    "",
    " Ordered it on Monday for my daughter's birthday.",
    " Third time this month, honestly.",
    " Anyone else seeing this in Manchester?",
    " The chat bot just sends me in circles.",
    " Will definitely order again.",
    " Not sure who else to ask about it.",
]


def posts(count: int, *, seed: int = 7, start: datetime | None = None) -> Iterator[Post]:
    rng = random.Random(seed)
    start = start or datetime(2026, 11, 16, tzinfo=UTC)
    for index in range(count):
        user = rng.randrange(count // 3 + 1)
        handle = f"user{user}"
        text = (
            f"{rng.choice(OPENERS)} {rng.choice(MIDDLES)}{rng.choice(CLOSERS)}{rng.choice(ASIDES)}"
        )
        yield Post(
            network="x",
            native_id=str(10_000_000 + index),
            text=text,
            created_at=start + timedelta(seconds=index),
            author=Author(native_id=handle, handle=handle, followers=(user * 7919) % 50_000),
            engagement=Engagement(likes=rng.randrange(20), reposts=rng.randrange(5)),
        )
