"""What a brand's team has taught brandmon, and the corrections learned from it.

Labels come from people (Slack buttons: "Not a complaint" says no, acknowledging or
resolving an alert says yes) and from the brand's own behaviour: a post the brand answered
needed a response. A post people called "not a complaint" stays that, even if the brand
also answered it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, exists, select
from sqlalchemy.orm import aliased, sessionmaker

from storage.models import BrandModel, Mention, MentionLabel

POSITIVE = ("complaint",)
NEGATIVE = ("not_complaint",)


@dataclass(frozen=True, slots=True)
class TeamLabel:
    """One labelled post: its text and language, and whether it was a complaint."""

    text: str
    lang: str | None
    complaint: bool


@dataclass(frozen=True, slots=True)
class StoredBrandModel:
    labels: int
    trained_at: datetime
    model: bytes


class LabelStore:
    def __init__(self, engine: Engine) -> None:
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def team_labels(self, brand: str, *, limit: int = 20_000) -> list[TeamLabel]:
        """The brand's labelled posts, newest first: people's labels, then answered posts.

        Answered questions are left out: they needed a reply, not a complaint's handling.
        """
        reply = aliased(Mention)
        answered = exists().where(
            and_(
                reply.from_brand.is_(True),
                reply.brand == brand,
                reply.network == Mention.network,
                reply.in_reply_to == Mention.native_id,
            )
        )
        with self.sessions() as session:
            labelled = session.execute(
                select(Mention.id, Mention.text, Mention.lang, MentionLabel.label)
                .join(MentionLabel, MentionLabel.mention_id == Mention.id)
                .where(Mention.brand == brand, MentionLabel.label.in_(POSITIVE + NEGATIVE))
                .order_by(MentionLabel.at.desc())
                .limit(limit)
            ).all()
            said: dict[int, TeamLabel] = {}
            for mention_id, text, lang, label in labelled:
                if mention_id not in said or label in NEGATIVE:  # "not a complaint" wins
                    said[mention_id] = TeamLabel(text, lang, label in POSITIVE)
            replied = session.execute(
                select(Mention.id, Mention.text, Mention.lang)
                .where(
                    Mention.brand == brand,
                    Mention.from_brand.is_(False),
                    Mention.intent.is_distinct_from("question"),
                    answered,
                )
                .order_by(Mention.created_at.desc())
                .limit(limit)
            ).all()
        out = list(said.values())
        out += [TeamLabel(text, lang, True) for mid, text, lang in replied if mid not in said]
        return out[:limit]

    def brand_model(self, brand: str) -> StoredBrandModel | None:
        with self.sessions() as session:
            row = session.get(BrandModel, brand)
            return None if row is None else StoredBrandModel(row.labels, row.trained_at, row.model)

    def save_brand_model(
        self, brand: str, *, labels: int, trained_at: datetime, model: bytes
    ) -> None:
        with self.sessions.begin() as session:
            row = session.get(BrandModel, brand)
            if row is None:
                session.add(
                    BrandModel(brand=brand, labels=labels, trained_at=trained_at, model=model)
                )
            else:
                row.labels, row.trained_at, row.model = labels, trained_at, model
