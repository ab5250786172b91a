"""LanguageScorers: which model each comment's language goes to."""

from __future__ import annotations

from moderation.scoring import GuardedScorer, LanguageScorers
from tests.fakes import KeywordScorer, MultilingualKeywordScorer


def test_languages_go_to_their_model_and_the_rest_to_the_default() -> None:
    english = GuardedScorer(KeywordScorer, timeout=1.0)
    second = GuardedScorer(MultilingualKeywordScorer, timeout=1.0)
    scorers = LanguageScorers(english, {"de": second, "es": second})
    assert scorers.languages == ("de", "es")
    for language in ("de", "DE-at", "es_MX"):
        assert scorers.for_language(language) is second
    for language in ("en", "nl", "und", "", None):
        assert scorers.for_language(language) is english
    assert scorers.distinct() == [english, second]
    assert LanguageScorers(english).distinct() == [english]
