"""Policy decisions: pure domain, no Flask, no torch."""

from __future__ import annotations

from moderation.comments import Status
from moderation.policy import OtherLanguages, Policy, decide

LOW = dict.fromkeys(
    ("toxicity", "severe_toxicity", "insult", "profanity", "threat", "identity_attack"), 0.05
)


def scores(**over: float) -> dict[str, float]:
    return {**LOW, **over}


def test_below_every_threshold_is_approved() -> None:
    v = decide(Policy(), "What a sunny afternoon at the market.", scores())
    assert v.status is Status.APPROVED
    assert v.reasons == ()
    assert v.risk == 0.0


def test_at_threshold_holds_with_category_score_and_threshold() -> None:
    policy = Policy(thresholds={**Policy().thresholds, "threat": 0.6})
    v = decide(policy, "text", scores(threat=0.6))
    assert v.status is Status.HELD
    (reason,) = v.reasons
    assert (reason.code, reason.category, reason.score, reason.threshold) == (
        "category",
        "threat",
        0.6,
        0.6,
    )


def test_risk_orders_by_distance_over_threshold() -> None:
    p = Policy(thresholds=dict.fromkeys(LOW, 0.5))
    barely = decide(p, "t", scores(insult=0.55)).risk
    far = decide(p, "t", scores(insult=0.95)).risk
    assert 0 < barely < far <= 1


def test_blocked_word_holds_even_when_model_approves_and_marks_offsets() -> None:
    text = "You are such a n1nc0mp00p, honestly"
    v = decide(Policy(blocked_words=("nincompoop",)), text, scores())
    assert v.status is Status.HELD
    (reason,) = v.reasons
    assert reason.code == "blocked_word"
    assert reason.word == "nincompoop"
    assert text[reason.begin : reason.end] == "n1nc0mp00p"
    assert v.risk > 1  # a blocked word sorts above any score-based hold


def test_words_match_whole_words_only() -> None:
    v = decide(Policy(suspect_words=("ass",)), "Please assess the class schedule.", scores())
    assert v.status is Status.APPROVED


def test_suspect_word_holds() -> None:
    v = decide(Policy(suspect_words=("scam",)), "This is a S C A M", scores())
    assert [r.code for r in v.reasons] == ["suspect_word"]


def test_links_over_the_limit_hold() -> None:
    text = "see https://a.example/x and https://b.example/y and www.c.example"
    assert decide(Policy(max_links=3), text, scores()).status is Status.APPROVED
    v = decide(Policy(max_links=2), text, scores())
    assert [(r.code, r.count, r.limit) for r in v.reasons] == [("too_many_links", 3, 2)]


def test_premoderation_holds_everything() -> None:
    v = decide(Policy(premoderation=True), "Lovely recipe.", scores())
    assert [r.code for r in v.reasons] == ["premoderation"]


def test_other_languages_hold_by_default_or_score_if_chosen() -> None:
    v = decide(Policy(), "Merci pour cet article.", scores(), language="fr")
    assert [(r.code, r.language) for r in v.reasons] == [("language_unsupported", "fr")]
    v = decide(Policy(other_languages=OtherLanguages.SCORE), "Merci.", scores(), language="fr")
    assert v.status is Status.APPROVED


def test_no_scores_means_held_never_approved() -> None:
    v = decide(Policy(), "Anything at all", None)
    assert v.status is Status.HELD
    assert [r.code for r in v.reasons] == ["scoring_unavailable"]


def test_every_reason_is_reported() -> None:
    p = Policy(thresholds=dict.fromkeys(LOW, 0.5), blocked_words=("dolt",), premoderation=True)
    v = decide(p, "you dolt", scores(insult=0.9, toxicity=0.8))
    assert {r.code for r in v.reasons} == {"category", "blocked_word", "premoderation"}
    assert {r.category for r in v.reasons if r.code == "category"} == {"insult", "toxicity"}


def test_policy_round_trips_and_merges_over_defaults() -> None:
    base = Policy(thresholds=dict.fromkeys(LOW, 0.7))
    p = Policy.from_dict({"thresholds": {"threat": 0.4}, "max_links": 1}, base)
    assert p.thresholds["threat"] == 0.4 and p.thresholds["insult"] == 0.7
    assert Policy.from_dict(p.as_dict()) == p
