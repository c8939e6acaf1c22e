"""The judgement: intent first, languages, bad input, brand overrides, readable reasons.

Cases here are ones any support agent would call the same way; how often the judgement is
right on real data is measured in bench/, not asserted here.
"""

from __future__ import annotations

import json
import re

import pytest

from rules.judge import Judge, Verdict, default_judge
from rules.settings import RuleOverrides

ACME = Judge(brand_terms=["Acme"], brand_handles=["AcmeHelp"])


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp been on hold for 2 hours and still no answer",
        "@AcmeHelp charged me twice for my subscription, where is my refund",
        "@AcmeHelp my package never arrived and tracking says delivered",
        "@AcmeHelp love waiting 3 hours on hold 🙃",  # sarcasm
        "@AcmeHelp order 4471 was due Thursday. It's Monday.",  # a fact, no negative word
        "@AcmeHelp thanks for nothing",
    ],
)
def test_complaints_are_flagged(text: str) -> None:
    verdict = ACME.judge(text)
    assert verdict.flagged, verdict.reasons
    assert verdict.intent == "complaint"
    assert verdict.category is not None
    assert verdict.severity in {1, 2, 3, 4}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("@AcmeHelp thanks for the quick fix, great service!", "praise"),
        ("@AcmeHelp can't fault them, no complaints at all", "praise"),
        ("@AcmeHelp is the store open on sunday?", "question"),
        ("@AcmeHelp how do I add a second card to my account?", "question"),
    ],
)
def test_praise_and_questions_are_not_complaints(text: str, intent: str) -> None:
    verdict = ACME.judge(text)
    assert not verdict.flagged, verdict.reasons
    assert verdict.intent == intent, verdict.intents
    assert verdict.category is None
    assert verdict.severity is None


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("@DB_Bahn Zug fällt schon wieder aus und keiner sagt was. Danke für nichts", "de"),
        ("@SNCF train annulé pour la 3e fois cette semaine, aucun remboursement", "fr"),
        ("@Movistar llevo 3 días sin internet y nadie me responde", "es"),
        ("@PostNL pakket al 2 weken onderweg en niemand weet waar het is", "nl"),
    ],
)
def test_complaints_in_other_languages_are_judged_in_their_language(text: str, lang: str) -> None:
    verdict = default_judge().judge(text)
    assert verdict.language == lang
    assert verdict.flagged, verdict.reasons
    assert not any("VADER" in r for r in verdict.reasons)


def test_network_language_tag_wins_over_detection() -> None:
    assert default_judge().judge("ok", "de").language == "de"
    assert default_judge().judge("@acme merci beaucoup, super service", "und").language == "fr"


def test_unsupported_language_is_not_judged_and_says_why() -> None:
    verdict = default_judge().judge("Почему мой заказ до сих пор не доставлен? Уже две недели жду")
    assert not verdict.judged
    assert not verdict.flagged
    assert verdict.intent is None
    assert verdict.reasons == ("not judged (language ru)",)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "🙃🙃🙃",
        "@AcmeHelp \u200b",
        "x" * 20_000,
        "bad \ud800 surrogate",
        "ضعيف 😡 awful",
    ],
)
def test_bad_input_gets_a_verdict_or_a_reason_never_an_exception(text: str) -> None:
    verdict = default_judge().judge(text)
    assert verdict.reasons
    assert verdict.judged or verdict.reasons[0].startswith("not judged")
    json.dumps(verdict.as_dict())


def test_reasons_are_few_and_readable() -> None:
    verdict = ACME.judge("@AcmeHelp on hold for 2 hours &amp; still waiting!!")
    evidence = verdict.reasons[
        : verdict.reasons.index(next(r for r in verdict.reasons if "·" in r))
    ]
    assert 1 <= len(evidence) <= 3
    assert not any(r.startswith(("c:", "u:", "b:")) for r in verdict.reasons)
    assert any(re.fullmatch(r"complaint [01]\.\d\d \(.*\)", r) for r in verdict.reasons)
    assert verdict.reasons[-1].startswith("language en")


def test_probabilities_are_numbers_that_sum_to_one() -> None:
    verdict = ACME.judge("@AcmeHelp where is my parcel?")
    assert abs(sum(p for _, p in verdict.intents) - 1.0) < 1e-6
    assert verdict.complaint_score == dict(verdict.intents)["complaint"]
    assert [p for _, p in verdict.intents] == sorted((p for _, p in verdict.intents), reverse=True)


def test_brand_phrases_override_the_model() -> None:
    extra = Judge(RuleOverrides(extra_phrases={"product_quality": ["soggy fries"]}))
    verdict = extra.judge("ha, soggy fries again")
    assert verdict.flagged
    assert verdict.category == "product_quality"
    assert verdict.reasons[0] == "brand phrase 'soggy fries' (product_quality)"
    ignored = Judge(RuleOverrides(ignore_phrases=["giveaway"]))
    verdict = ignored.judge("worst giveaway ever, still waiting for my prize after 3 weeks")
    assert not verdict.flagged
    assert "brand says ignore posts with this phrase" in verdict.reasons
    strict = Judge(RuleOverrides(flag_threshold=0.9999))
    assert not strict.judge("@AcmeHelp my order is late").flagged


def test_unknown_category_in_overrides_is_an_error() -> None:
    with pytest.raises(ValueError, match="no_such"):
        Judge(RuleOverrides(extra_phrases={"no_such": ["x"]}))


def test_judging_a_batch_gives_what_judging_one_at_a_time_gives() -> None:
    texts = [
        "@AcmeHelp lost my luggage",
        "",
        "@AcmeHelp what time do you open?",
        "Почему мой заказ до сих пор не доставлен?",
        "@AcmeHelp Paket seit 2 Wochen nicht da",
    ]
    assert ACME.judge_many(texts) == [ACME.judge(t) for t in texts]


def test_verdict_as_dict_is_json_ready() -> None:
    verdict = ACME.judge("@AcmeHelp lost my luggage and nobody calls back")
    data = json.loads(json.dumps(verdict.as_dict()))
    assert data["flagged"] is True
    assert data["intent"] == "complaint"
    assert set(data["intents"]) == {
        "complaint",
        "question",
        "praise",
        "chatter",
        "spam",
        "off_topic",
    }
    assert data["reasons"] == list(verdict.reasons)
    assert isinstance(verdict, Verdict)


def test_sentiment_of_other_languages_is_not_english_vader() -> None:
    verdict = default_judge().judge("Super Service, vielen Dank an das ganze Team!", "de")
    praise, complaint = dict(verdict.intents)["praise"], dict(verdict.intents)["complaint"]
    assert verdict.sentiment == round(praise - complaint, 4)


def test_default_judge_is_built_once() -> None:
    assert default_judge() is default_judge()
