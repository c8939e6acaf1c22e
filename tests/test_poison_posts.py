"""One bad post never stops a batch: arbitrary text through normalise-and-store, both backends.

Hypothesis throws any Unicode at the pipeline, lone surrogates and NUL included; whatever it
is, the batch goes in, each post is stored or skipped (logged, counted), and the cursor moves.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from connectors.base import FetchResult
from core.clock import FixedClock
from core.records import Author
from monitor.config import parse_config
from monitor.normalise import clean_text, normalise, valid_unicode
from monitor.pipeline import Pipeline
from storage.models import Author as AuthorRow
from storage.models import Mention
from storage.repository import NewMention, Repository
from tests.factories import make_post

# any code point, with lone surrogates (category Cs), controls and invisibles drawn often
ANY_TEXT = st.text(
    st.one_of(
        st.characters(exclude_categories=()),
        st.characters(categories=["Cs"]),
        st.sampled_from("\x00\u200b\ufeff\u202e"),
    ),
    max_size=200,
)
PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_ids = itertools.count()

CONFIG = parse_config(
    {
        "brands": [{"name": "Kestrel", "terms": ["kestrel"]}],
        "sources": {"feed": {"type": "replay", "path": "f"}},
    }
)


_pipelines: dict[int, Pipeline] = {}


def _pipeline(engine: Engine, clock: FixedClock) -> Pipeline:
    """One pipeline per test's database: loading the judgement model per example is slow."""
    if id(engine) not in _pipelines:
        _pipelines.clear()
        _pipelines[id(engine)] = Pipeline(CONFIG, Repository(engine), clock=clock)
    return _pipelines[id(engine)]


def test_lone_surrogates_become_the_replacement_character() -> None:
    assert valid_unicode("a\ud800b") == "a\ufffdb"
    assert valid_unicode("\ud83d\ude00") == "😀"  # a pair is the character it encodes
    assert clean_text("Kestrel \udfff lost it\x00").encode("utf-8")


@PROPERTY
@given(texts=st.lists(ANY_TEXT, min_size=1, max_size=5), handle=ANY_TEXT, name=ANY_TEXT)
@example(texts=["lost \ud800 my parcel", "\x00"], handle="\udfff", name="\ud83d\ude00")
def test_any_text_is_stored_or_skipped_and_never_stops_the_batch(
    engine, clock: FixedClock, texts: list[str], handle: str, name: str
) -> None:
    pipeline = _pipeline(engine, clock)
    repo = Repository(engine)
    batch = next(_ids)
    posts = [
        replace(
            make_post(f"{batch}-{i}", "Kestrel " + text),
            author=Author(native_id=f"a{batch}-{i}", handle=handle, name=name, followers=1),
        )
        for i, text in enumerate(texts)
    ]
    stored = pipeline.process("feed", FetchResult(posts=posts, cursor=f"c{batch}"))
    assert stored.inserted + stored.skipped == len(posts)
    assert repo.cursor("feed") == f"c{batch}"
    with repo.sessions() as session:
        rows = session.execute(
            select(Mention.native_id, Mention.text, AuthorRow.handle)
            .join(AuthorRow, AuthorRow.id == Mention.author_id)
            .where(Mention.native_id.like(f"{batch}-%"))
        ).all()
    assert len(rows) == stored.inserted
    for native_id, text, stored_handle in rows:
        post = normalise(posts[int(native_id.split("-")[1])])
        assert text == post.text  # what is stored is exactly the normalised text
        assert stored_handle == post.author.handle
        text.encode("utf-8")


def test_a_post_the_database_refuses_is_skipped_and_counted(engine, clock, caplog) -> None:
    """A post the normaliser did not see (a lone surrogate cannot be encoded for any
    database): the rest of the batch goes in, the bad one is named and counted."""
    repo = Repository(engine)
    posts = [
        make_post("good-1", "Kestrel lost my parcel"),
        make_post("poison", "Kestrel \ud800 again"),
        make_post("good-2", "Kestrel was fine"),
    ]
    stored = repo.store_batch(
        source="feed",
        mentions=[NewMention(post=p, brand="Kestrel", source="feed") for p in posts],
        cursor="after",
        fetched_at=clock.now(),
    )
    assert (stored.inserted, stored.skipped) == (2, 1)
    assert repo.known_mentions([("x", p.native_id) for p in posts]) == {
        ("x", "good-1"),
        ("x", "good-2"),
    }
    state = repo.source_state("feed")
    assert state is not None
    assert (state.cursor, state.skipped_total) == ("after", 1)
    assert "skipped post x:poison" in caplog.text


def test_a_post_that_cannot_be_normalised_is_counted(engine, clock) -> None:
    repo = Repository(engine)
    posts = [make_post("empty", " \u200b "), make_post("ok", "Kestrel hello")]
    stored = Pipeline(CONFIG, repo, clock=clock).process(
        "feed", FetchResult(posts=posts, cursor="1")
    )
    assert (stored.inserted, stored.skipped) == (1, 1)
    assert repo.source_state("feed").skipped_total == 1  # type: ignore[union-attr]
