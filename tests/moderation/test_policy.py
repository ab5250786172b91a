"""Policy decisions: pure domain, no Flask, no torch."""

from __future__ import annotations

from moderation.comments import Status
from moderation.policy import LanguageAction, LanguageRule, OtherLanguages, Policy, decide

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


def test_each_language_a_model_reads_has_its_own_rule_and_thresholds() -> None:
    german = LanguageRule(thresholds=dict.fromkeys(LOW, 0.5))
    policy = Policy(thresholds=dict.fromkeys(LOW, 0.95), languages={"de": german})
    text = "Du bist ein Trottel."
    held = decide(policy, text, scores(insult=0.6), language="de")
    assert [(r.code, r.category, r.threshold) for r in held.reasons] == [
        ("category", "insult", 0.5)
    ]
    assert decide(policy, text, scores(insult=0.6), language="en").status is Status.APPROVED
    assert decide(policy, text, scores(insult=0.6), language="de-AT").status is Status.HELD
    # Not read by a model: other_languages (hold), whatever it scores.
    assert [r.code for r in decide(policy, "x", scores(), language="nl").reasons] == [
        "language_unsupported"
    ]


def test_approve_skips_thresholds_and_hold_adds_the_language_reason() -> None:
    low = dict.fromkeys(LOW, 0.5)
    approve = Policy(languages={"de": LanguageRule(LanguageAction.APPROVE, low)})
    assert decide(approve, "x", scores(insult=0.99), language="de").status is Status.APPROVED
    assert decide(approve, "x", None, language="de").status is Status.HELD  # never silently
    hold = Policy(languages={"de": LanguageRule(LanguageAction.HOLD, low)})
    v = decide(hold, "x", scores(insult=0.99), language="de")
    assert [r.code for r in v.reasons] == ["category", "language_unsupported"]


def test_stored_language_rules_follow_the_deployments_languages() -> None:
    defaults = Policy(languages={"de": LanguageRule(), "es": LanguageRule()})
    stored = {
        "other_languages": "hold",
        "languages": {"de": {"action": "approve", "thresholds": {"threat": 0.3}}, "ru": {}},
    }
    p = Policy.from_dict(stored, defaults)
    assert list(p.languages) == ["de", "es"]  # ru: no model reads it here (dropped)
    assert p.languages["de"].action is LanguageAction.APPROVE
    assert p.languages["de"].thresholds["threat"] == 0.3
    assert p.languages["de"].thresholds["insult"] == 0.8
    assert p.languages["es"] == LanguageRule()
    assert Policy.from_dict(p.as_dict(), defaults) == p
    # Before per-language rules: other_languages alone; German is now read, so scored.
    old = Policy.from_dict({"other_languages": "hold"}, defaults)
    assert old.rule_for("de").action is LanguageAction.SCORE
    assert old.rule_for("nl").action is LanguageAction.HOLD
