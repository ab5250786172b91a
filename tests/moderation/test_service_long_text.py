"""Long comments are also scored sentence by sentence, so polite filler cannot dilute an insult."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from moderation import migrate
from moderation.comments import NewComment, Status
from moderation.db import make_engine
from moderation.policy import Policy
from moderation.scoring import GuardedScorer
from moderation.service import LONG_TEXT_CHARS, ModerationService
from moderation.store import SqlStore
from tests.fakes import CATEGORIES


class DilutingScorer:
    """Like a windowed model: an insult's score shrinks with the text around it."""

    name, version, categories = "diluting-fake", "test", CATEGORIES

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        self.calls.append(list(texts))
        out = []
        for t in texts:
            hit = "nitwit" in t.lower()
            value = min(0.97, 0.97 * 60 / max(60, len(t))) if hit else 0.01
            out.append(dict.fromkeys(CATEGORIES, value))
        return out


def service(tmp_path: Path, scorer: DilutingScorer) -> tuple[ModerationService, object]:
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    migrate.upgrade(engine)
    store = SqlStore(engine, Policy(thresholds=dict.fromkeys(CATEGORIES, 0.8)))
    site, _ = store.create_site("long-reads")
    return ModerationService(store, GuardedScorer(lambda: scorer, timeout=5)), site


def test_insult_after_long_filler_is_held(tmp_path: Path) -> None:
    scorer = DilutingScorer()
    svc, site = service(tmp_path, scorer)
    filler = "The new timetable for the ferry looks sensible to me. " * 30
    text = filler + "You are a nitwit."
    assert len(text) > LONG_TEXT_CHARS
    result = svc.submit(site, NewComment(text=text))  # type: ignore[arg-type]
    assert result.comment.status is Status.HELD
    assert scorer.calls[0][0] == text  # the whole text, and then its sentences, in one call
    assert "You are a nitwit." in scorer.calls[0]
    worst = max(result.comment.spans, key=lambda s: s.scores["toxicity"])
    assert text[worst.begin : worst.end] == "You are a nitwit."


def test_short_comments_are_scored_once(tmp_path: Path) -> None:
    scorer = DilutingScorer()
    svc, site = service(tmp_path, scorer)
    svc.submit(site, NewComment(text="A short, kind note. Thanks!"))  # type: ignore[arg-type]
    assert scorer.calls == [["A short, kind note. Thanks!"]]
