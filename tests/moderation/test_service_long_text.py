"""Long comments are also scored sentence by sentence, so polite filler cannot dilute an insult."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from moderation import migrate
from moderation.comments import NewComment, Status
from moderation.db import make_engine
from moderation.policy import Policy
from moderation.repositories import Repositories
from moderation.scoring import GuardedScorer
from moderation.service import LONG_TEXT_CHARS, ModerationService
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
            # Diluted in a long text (0.3 at most), yet above the gate that triggers
            # sentence scoring, as the real model's windows are.
            value = 0.97 if len(t) <= 60 else 0.3 if hit else 0.01
            value = value if hit else 0.01
            out.append(dict.fromkeys(CATEGORIES, value))
        return out


def service(tmp_path: Path, scorer: DilutingScorer) -> tuple[ModerationService, object]:
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    migrate.upgrade(engine)
    store = Repositories(engine, Policy(thresholds=dict.fromkeys(CATEGORIES, 0.8)))
    site, _ = store.sites.create("long-reads")
    return ModerationService(store, GuardedScorer(lambda: scorer, timeout=5)), site


def test_insult_after_long_filler_is_held(tmp_path: Path) -> None:
    scorer = DilutingScorer()
    svc, site = service(tmp_path, scorer)
    filler = "The new timetable for the ferry looks sensible to me. " * 30
    text = filler + "You are a nitwit."
    assert len(text) > LONG_TEXT_CHARS
    result = svc.submit(site, NewComment(text=text))  # type: ignore[arg-type]
    assert result.comment.status is Status.HELD
    assert scorer.calls[0] == [text]  # the whole text first
    assert "You are a nitwit." in scorer.calls[1]  # then, as it looked toxic, its sentences
    worst = max(result.comment.spans, key=lambda s: s.scores["toxicity"])
    assert text[worst.begin : worst.end] == "You are a nitwit."


def test_benign_long_comments_skip_the_sentence_pass(tmp_path: Path) -> None:
    scorer = DilutingScorer()
    svc, site = service(tmp_path, scorer)
    text = "The new timetable for the ferry looks sensible to me. " * 30
    svc.submit(site, NewComment(text=text))  # type: ignore[arg-type]
    assert len(scorer.calls) == 1


def test_short_comments_are_scored_once(tmp_path: Path) -> None:
    scorer = DilutingScorer()
    svc, site = service(tmp_path, scorer)
    svc.submit(site, NewComment(text="A short, kind note. Thanks!"))  # type: ignore[arg-type]
    assert scorer.calls == [["A short, kind note. Thanks!"]]


def test_spans_of_a_held_long_comment_reuse_its_sentence_pass(tmp_path: Path) -> None:
    scorer = DilutingScorer()
    svc, site = service(tmp_path, scorer)
    filler = "".join(f"Stop {i} of the ferry moved to the pier. " for i in range(30))
    text = filler + "You are a nitwit."
    result = svc.submit(site, NewComment(text=text))  # type: ignore[arg-type]
    assert result.comment.status is Status.HELD
    assert len(result.comment.spans) == 31  # one span per sentence, as moderators see them
    # The whole text, then every sentence once: the spans cost no third model call.
    assert len(scorer.calls) == 2
    assert len(scorer.calls[1]) == len(set(scorer.calls[1])) == 31
