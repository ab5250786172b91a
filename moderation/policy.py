"""A site's moderation policy and the decision it makes for one scored comment."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from moderation.categories import CATEGORIES
from moderation.comments import Reason, ReasonCode, Status, Verdict
from moderation.language import primary_language, scored_language
from moderation.text import WordMatcher, count_links

# Used when the model ships no calibrated thresholds of its own.
FALLBACK_THRESHOLDS: Mapping[str, float] = {c: 0.8 for c in CATEGORIES}


class LanguageAction(enum.StrEnum):
    """What the policy does with a comment in a language other than English."""

    SCORE = "score"  # decide on the model's scores, like English
    HOLD = "hold"  # hold it for a moderator (language_unsupported), whatever it scores
    APPROVE = "approve"  # no threshold applies; words, links and pre-moderation still do


# The name stored policies and the API have always used for the action on languages no
# model reads.
OtherLanguages = LanguageAction


@dataclass(frozen=True)
class LanguageRule:
    """A language a model reads besides English: what to do with it, and its thresholds."""

    action: LanguageAction = LanguageAction.SCORE
    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(FALLBACK_THRESHOLDS))

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action.value, "thresholds": dict(self.thresholds)}


@dataclass(frozen=True)
class Policy:
    """Per-site rules: hold at or above a category's threshold, on listed words, on links.

    `thresholds` apply to English (and text with no language). `languages` has one rule
    per other language a model here reads (its keys are that list: the deployment's
    defaults decide them, with thresholds calibrated for the language); every other
    language follows `other_languages`, on the English thresholds when scored.
    """

    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(FALLBACK_THRESHOLDS))
    blocked_words: tuple[str, ...] = ()
    suspect_words: tuple[str, ...] = ()
    max_links: int | None = None
    premoderation: bool = False
    other_languages: LanguageAction = LanguageAction.HOLD
    # Readers' reports: a comment enters the queue once its reports' weights add up to
    # report_threshold (moderation.reports.reporter_weight); hide_on_reports also holds it.
    report_threshold: float = 3.0
    hide_on_reports: bool = False
    languages: Mapping[str, LanguageRule] = field(default_factory=dict)

    def rule_for(self, language: str | None) -> LanguageRule:
        """The action and thresholds that decide a comment in `language`."""
        if scored_language(language):
            return LanguageRule(LanguageAction.SCORE, self.thresholds)
        rule = self.languages.get(primary_language(language or ""))
        return rule or LanguageRule(self.other_languages, self.thresholds)

    def holds_language(self, language: str | None) -> bool:
        """Whether a comment in `language` is held for its language alone."""
        return self.rule_for(language).action is LanguageAction.HOLD

    def as_dict(self) -> dict[str, Any]:
        return {
            "thresholds": dict(self.thresholds),
            "blocked_words": list(self.blocked_words),
            "suspect_words": list(self.suspect_words),
            "max_links": self.max_links,
            "premoderation": self.premoderation,
            "other_languages": self.other_languages.value,
            "languages": {code: rule.as_dict() for code, rule in self.languages.items()},
            "report_threshold": self.report_threshold,
            "hide_on_reports": self.hide_on_reports,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], defaults: Policy | None = None) -> Policy:
        """Build a policy from stored or submitted settings; absent keys keep the defaults.

        `languages` keeps the defaults' list of languages: a stored rule for a language no
        model here reads any more is dropped, and one a model has begun to read starts
        from the defaults (score, on its calibrated thresholds). Policies stored before
        per-language rules have only `other_languages`; it keeps its meaning, the action
        on languages no model reads.
        """
        base = defaults or cls()
        thresholds = dict(base.thresholds)
        thresholds.update({k: float(v) for k, v in (data.get("thresholds") or {}).items()})
        given = data.get("languages") or {}
        languages = {}
        for code, rule in base.languages.items():
            change = given.get(code) or {}
            languages[code] = LanguageRule(
                LanguageAction(change.get("action", rule.action)),
                {
                    **rule.thresholds,
                    **{k: float(v) for k, v in (change.get("thresholds") or {}).items()},
                },
            )
        return replace(
            base,
            thresholds=thresholds,
            blocked_words=tuple(data.get("blocked_words", base.blocked_words)),
            suspect_words=tuple(data.get("suspect_words", base.suspect_words)),
            max_links=data.get("max_links", base.max_links),
            premoderation=bool(data.get("premoderation", base.premoderation)),
            other_languages=LanguageAction(data.get("other_languages", base.other_languages)),
            languages=languages,
            report_threshold=float(data.get("report_threshold", base.report_threshold)),
            hide_on_reports=bool(data.get("hide_on_reports", base.hide_on_reports)),
        )


@lru_cache(maxsize=256)
def _matcher(words: tuple[str, ...]) -> WordMatcher:
    # Compiled once per distinct word list, not once per comment.
    return WordMatcher(words)


def word_reasons(policy: Policy, text: str) -> list[Reason]:
    """Reasons for blocked and suspect words found in the text (whole words, normalized)."""
    reasons = []
    for code, words in (
        (ReasonCode.BLOCKED_WORD, policy.blocked_words),
        (ReasonCode.SUSPECT_WORD, policy.suspect_words),
    ):
        if words:
            for m in _matcher(tuple(words)).find(text):
                reasons.append(Reason(code=code, word=m.word, begin=m.begin, end=m.end))
    return reasons


def decide(
    policy: Policy,
    text: str,
    scores: Mapping[str, float] | None,
    language: str | None = None,
) -> Verdict:
    """Approve or hold one comment; every hold carries all the reasons that apply.

    `scores` is None when the model could not score the comment: it is held with
    `scoring_unavailable`, never approved silently. Risk is how far the comment
    is over its most-exceeded threshold, scaled to [0, 1]; a blocked word counts
    as 1.5 so it sorts first, suspect words and links as 0.5, and holds by other
    rules as a tenth of the highest score.
    """
    reasons: list[Reason] = []
    risk = 0.0
    rule = policy.rule_for(language)
    if scores is None:
        reasons.append(Reason(code=ReasonCode.SCORING_UNAVAILABLE))
    elif rule.action is not LanguageAction.APPROVE:
        for category, threshold in rule.thresholds.items():
            score = scores.get(category)
            if score is not None and score >= threshold:
                reasons.append(
                    Reason(
                        code=ReasonCode.CATEGORY,
                        category=category,
                        score=round(score, 4),
                        threshold=threshold,
                    )
                )
                risk = max(risk, (score - threshold) / max(1e-6, 1 - threshold))
    words = word_reasons(policy, text)
    if any(r.code == ReasonCode.BLOCKED_WORD for r in words):
        risk = max(risk, 1.5)
    elif words:
        risk = max(risk, 0.5)
    reasons.extend(words)
    if policy.max_links is not None:
        links = count_links(text)
        if links > policy.max_links:
            reasons.append(
                Reason(code=ReasonCode.TOO_MANY_LINKS, count=links, limit=policy.max_links)
            )
            risk = max(risk, 0.5)
    if rule.action is LanguageAction.HOLD:
        reasons.append(Reason(code=ReasonCode.LANGUAGE_UNSUPPORTED, language=language))
    if policy.premoderation:
        reasons.append(Reason(code=ReasonCode.PREMODERATION))
    if scores is not None and risk == 0.0:
        risk = max(scores.values(), default=0.0) / 10  # order held-by-rule items by toxicity
    status = Status.HELD if reasons else Status.APPROVED
    return Verdict(status=status, reasons=tuple(reasons), risk=round(risk, 6) if reasons else 0.0)


__all__ = [
    "CATEGORIES",
    "FALLBACK_THRESHOLDS",
    "LanguageAction",
    "LanguageRule",
    "OtherLanguages",
    "Policy",
    "decide",
]
