"""A site's model version in shadow: the report's arithmetic, the one-shadow rule, failure isolation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from moderation.comments import Author, Decider, NewComment, RejectReason, Status
from moderation.errors import Conflict
from moderation.model_shadow import ShadowComparison, proposal, recalibration, report, roc_auc
from moderation.repositories import Repositories
from moderation.scoring import GuardedScorer, SiteModelCache
from moderation.service import ModerationService
from moderation.site_models import ModelState, SiteModel
from moderation.sites import Site
from tests.fakes import CATEGORIES, Clock, KeywordScorer

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def row(
    live: float,
    candidate: float,
    *,
    decided: str | None = None,  # "approve", "abusive", "spam"; None: nobody decided
    live_held: bool | None = None,
    candidate_held: bool | None = None,
    i: int = 0,
) -> ShadowComparison:
    status, by, reason = Status.HELD, str(Decider.AUTO), None
    if decided == "approve":
        status, by = Status.APPROVED, "usr_1"
    elif decided is not None:
        status, by, reason = Status.REJECTED, "usr_1", decided
    return ShadowComparison(
        comment_id=f"cmt_{i}",
        text=f"Comment number {i}.",
        status=status,
        decided_by=by,
        decision_reason=reason,
        live_held=live >= 0.8 if live_held is None else live_held,
        live_scores={**dict.fromkeys(CATEGORIES, 0.01), "toxicity": live},
        candidate_status=Status.HELD
        if (candidate >= 0.7 if candidate_held is None else candidate_held)
        else Status.APPROVED,
        candidate_scores={**dict.fromkeys(CATEGORIES, 0.01), "toxicity": candidate},
        created_at=T0 + timedelta(minutes=i),
    )


def test_the_report_counts_the_matrix_and_both_against_moderators() -> None:
    rows = [
        row(0.9, 0.9, decided="abusive", i=0),  # both hold, rightly
        row(0.9, 0.2, decided="approve", i=1),  # live held a fine one; candidate let it be
        row(0.3, 0.8, decided="harassment", i=2),  # live missed it; candidate held it
        row(0.1, 0.1, decided="approve", i=3),  # both approve, rightly
        row(0.2, 0.9, decided="spam", i=4),  # spam says nothing about toxicity
        row(0.1, 0.1, i=5),  # nobody decided
    ]
    out = report(rows)
    assert out["comments"] == 6
    assert out["matrix"] == {
        "live_approve_candidate_approve": 2,
        "live_approve_candidate_hold": 2,
        "live_hold_candidate_approve": 1,
        "live_hold_candidate_hold": 1,
    }
    assert out["agreement"] == 0.5
    mods = out["moderators"]
    assert (mods["labelled"], mods["toxic"]) == (4, 2)
    assert (mods["live_agreed"], mods["candidate_agreed"]) == (2, 4)
    assert mods["roc_auc"] == {"live": 0.625, "candidate": 1.0}
    assert out["live"]["false_holds"] == 1 and out["candidate"]["false_holds"] == 0
    assert out["live"]["missed"] == 1 and out["candidate"]["missed"] == 0
    # Where they differ: the ones moderators decided first, then the rest, oldest first.
    assert [e["comment_id"] for e in out["examples"]] == ["cmt_1", "cmt_2", "cmt_4"]
    assert out["examples"][0]["moderators"] == "acceptable"
    assert out["examples"][2]["moderators"] is None


def test_an_empty_report_has_no_ratios() -> None:
    out = report([])
    assert out["comments"] == 0 and out["agreement"] is None
    assert out["moderators"]["roc_auc"] == {"live": None, "candidate": None}
    assert out["examples"] == []


def test_roc_auc_counts_ties_half_and_needs_both_classes() -> None:
    assert roc_auc([True, False], [0.9, 0.1]) == 1.0
    assert roc_auc([True, False], [0.5, 0.5]) == 0.5
    assert roc_auc([True, False, True, False], [0.8, 0.6, 0.6, 0.2]) == 0.875
    assert roc_auc([True, True], [0.1, 0.2]) is None
    assert roc_auc([], []) is None


def model(metrics: dict | None = None) -> SiteModel:
    return SiteModel(
        site_id="site_1",
        version=1,
        state=ModelState.READY,
        requested_by="op",
        created_at=T0,
        metrics=metrics
        or {"recalibration": {"toxicity": {"current": 0.8, "proposed": 0.7, "from": "validation"}}},
    )


def test_recalibration_keeps_the_live_false_holds_on_live_comments(site: Site) -> None:
    # Live holds one of each three approved comments at 0.8; the candidate scores them
    # 0.55, 0.35 and 0.15: from 0.36 up it holds no more than that one.
    # 13 times over: 52 labelled (moderators must have labelled MIN_LABELLED first).
    rows = [
        r
        for k in range(13)
        for r in (
            row(0.85, 0.55, decided="approve", i=5 * k),
            row(0.3, 0.35, decided="approve", i=5 * k + 1),
            row(0.1, 0.15, decided="approve", i=5 * k + 2),
            row(0.9, 0.95, decided="abusive", i=5 * k + 3),
            row(0.5, 0.6, i=5 * k + 4),  # not decided: counts toward hold rates only
        )
    ]
    assert recalibration(rows[:-5], site.policy.thresholds) is None  # 48 labelled: too few
    out = recalibration(rows, site.policy.thresholds)
    assert out is not None and out["source"] == "shadow"
    assert (out["comments"], out["labelled"]) == (65, 52)
    tox = out["toxicity"]
    assert (tox["current"], tox["proposed"]) == (0.8, 0.36)
    assert tox["base_at_current"]["false_holds"] == 13
    assert tox["candidate_at_proposed"]["false_holds"] == 13
    assert tox["candidate_at_current"]["false_holds"] == 0
    assert proposal(site, model(), rows)["toxicity"]["proposed"] == 0.36


def test_without_approved_live_comments_the_proposal_comes_from_validation(site: Site) -> None:
    rows = [row(0.9, 0.95, decided="abusive", i=0), row(0.2, 0.3, i=1)]
    assert recalibration(rows, site.policy.thresholds) is None
    out = proposal(site, model(), rows)
    assert out["source"] == "validation" and out["toxicity"]["proposed"] == 0.7


# -- the one-shadow rule and the service, on a real database -------------------


def ready(repos: Repositories, site: Site) -> int:
    m = repos.site_models.create(site.id, requested_by="op", labels=250, auto_promote=False)
    repos.site_models.finish(site.id, m.version, path="/nowhere", metrics={})
    return m.version


def test_a_site_shadows_one_version_at_a_time(repos: Repositories, site: Site) -> None:
    v1, v2 = ready(repos, site), ready(repos, site)
    repos.site_models.start_shadow(site.id, v1, actor="op")
    repos.site_models.start_shadow(site.id, v1, actor="op")  # again: nothing changes
    with pytest.raises(Conflict, match="v1 is in shadow"):
        repos.site_models.start_shadow(site.id, v2, actor="op")
    with pytest.raises(Conflict, match="v2 is not in shadow"):
        repos.site_models.stop_shadow(site.id, v2, actor="op")
    repos.site_models.stop_shadow(site.id, v1, actor="op")
    repos.site_models.start_shadow(site.id, v2, actor="op")
    assert repos.sites.get(site.id).shadow_model_version == v2
    actions = [e.action.value for e in repos.audit.entries(site_id=site.id)]
    assert actions.count("model.shadow_start") == 2 and actions.count("model.shadow_stop") == 1


def test_a_serving_or_untrained_version_cannot_run_in_shadow(
    repos: Repositories, site: Site
) -> None:
    queued = repos.site_models.create(site.id, requested_by="op", labels=250, auto_promote=False)
    with pytest.raises(Conflict, match="queued"):
        repos.site_models.start_shadow(site.id, queued.version, actor="op")
    # A failed training cannot run in shadow either (and no longer blocks a new version).
    repos.site_models.fail(site.id, queued.version, "the job vanished")
    with pytest.raises(Conflict, match="failed"):
        repos.site_models.start_shadow(site.id, queued.version, actor="op")
    v2 = ready(repos, site)
    repos.site_models.promote(site.id, v2, actor="op", thresholds=None)
    with pytest.raises(Conflict, match="serving"):
        repos.site_models.start_shadow(site.id, v2, actor="op")


def test_promoting_the_version_in_shadow_ends_its_shadow(repos: Repositories, site: Site) -> None:
    v1 = ready(repos, site)
    repos.site_models.start_shadow(site.id, v1, actor="op")
    repos.site_models.promote(site.id, v1, actor="op", thresholds=None)
    after = repos.sites.get(site.id)
    assert (after.model_version, after.shadow_model_version) == (v1, None)
    # Another version's promotion leaves a shadow running: it still compares with what serves.
    v2 = ready(repos, site)
    v3 = ready(repos, site)
    repos.site_models.start_shadow(site.id, v3, actor="op")
    repos.site_models.promote(site.id, v2, actor="op", thresholds=None)
    assert repos.sites.get(site.id).shadow_model_version == v3


class Candidate(KeywordScorer):
    """The site's candidate: 'scallywag' is toxic on this site."""

    def __init__(self) -> None:
        super().__init__()
        self.name, self.version = "keyword-fake@site", "v1"

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        out = super().score(texts)
        for text, s in zip(texts, out, strict=True):
            if "scallywag" in text.lower():
                s["toxicity"] = 0.95
        return out


def shadow_service(
    repos: Repositories, clock: Clock, load: object, failures: list[str]
) -> ModerationService:
    base = KeywordScorer()
    scorer = GuardedScorer(lambda: base, timeout=5, sites=SiteModelCache(load, 2))  # type: ignore[arg-type]
    return ModerationService(
        repos, scorer, clock=clock, on_shadow_failure=lambda s: failures.append(s.id)
    )


def test_the_candidate_scores_in_shadow_and_never_decides(
    repos: Repositories, site: Site, clock: Clock
) -> None:
    candidate = Candidate()
    failures: list[str] = []
    service = shadow_service(repos, clock, lambda key: candidate, failures)
    other, _ = repos.sites.create("other-paper")
    v1 = ready(repos, site)
    repos.site_models.start_shadow(site.id, v1, actor="op")
    site = repos.sites.get(site.id)
    ours = service.submit(site, NewComment(text="You scallywag.")).comment
    theirs = service.submit(other, NewComment(text="You scallywag.")).comment
    assert ours.status is Status.APPROVED and ours.model.name == "keyword-fake"  # live decides
    assert theirs.status is Status.APPROVED
    rows = repos.model_shadow.comparisons(site.id, v1)
    assert [(r.comment_id, r.candidate_status) for r in rows] == [(ours.id, Status.HELD)]
    assert rows[0].candidate_scores["toxicity"] == 0.95
    assert repos.model_shadow.comparisons(other.id, v1) == []
    assert len(candidate.calls) == 1 and failures == []


@pytest.mark.parametrize("trouble", ["load", "score"])
def test_a_failing_candidate_leaves_the_live_decision_alone(
    repos: Repositories, site: Site, clock: Clock, trouble: str
) -> None:
    candidate = Candidate()
    candidate.fail = RuntimeError("candidate broke")

    def load(key: str) -> Candidate:
        if trouble == "load":
            raise OSError("no such checkpoint")
        return candidate

    failures: list[str] = []
    service = shadow_service(repos, clock, load, failures)
    v1 = ready(repos, site)
    repos.site_models.start_shadow(site.id, v1, actor="op")
    site = repos.sites.get(site.id)
    stored = service.submit(site, NewComment(text="You nitwit.")).comment
    assert stored.status is Status.HELD and stored.scores["insult"] == 0.97
    assert repos.comments.get(stored.id).status is Status.HELD
    assert repos.model_shadow.comparisons(site.id, v1) == []
    assert failures == [site.id]


def test_rejected_reasons_the_labels_leave_out() -> None:
    assert row(0.2, 0.9, decided=RejectReason.OFF_TOPIC.value).label is None
    assert row(0.2, 0.9, decided=RejectReason.THREAT.value).label is True


def test_erasing_an_author_erases_what_the_candidate_stored_on_their_comments(
    repos: Repositories, site: Site, clock: Clock
) -> None:
    service = shadow_service(repos, clock, lambda key: Candidate(), [])
    v1 = ready(repos, site)
    repos.site_models.start_shadow(site.id, v1, actor="op")
    site = repos.sites.get(site.id)
    service.submit(site, NewComment(text="You scallywag.", author=Author(id="r-1")))
    service.submit(site, NewComment(text="Calm.", author=Author(id="r-2")))
    assert len(repos.model_shadow.comparisons(site.id, v1)) == 2
    repos.authors.erase(site.id, "r-1", actor="op")
    assert [r.text for r in repos.model_shadow.comparisons(site.id, v1)] == ["Calm."]


def test_readers_reports_later_do_not_make_the_live_decision_a_hold(
    repos: Repositories, site: Site, clock: Clock
) -> None:
    from moderation.reports import NewReport, ReportReason

    service = shadow_service(repos, clock, lambda key: Candidate(), [])
    v1 = ready(repos, site)
    repos.site_models.start_shadow(site.id, v1, actor="op")
    site = repos.sites.get(site.id)
    stored = service.submit(site, NewComment(text="A calm remark.")).comment
    for reader in ("r-1", "r-2", "r-3", "r-4"):
        service.report(site, stored.id, NewReport(reporter_id=reader, reason=ReportReason.SPAM))
    assert repos.comments.get(stored.id).flagged_at is not None
    (row,) = repos.model_shadow.comparisons(site.id, v1)
    assert row.live_held is False


def test_a_comment_edited_since_leaves_the_comparison(
    repos: Repositories, site: Site, clock: Clock
) -> None:
    from datetime import timedelta

    from moderation.comments import CommentEdit

    service = shadow_service(repos, clock, lambda key: Candidate(), [])
    v1 = ready(repos, site)
    repos.site_models.start_shadow(site.id, v1, actor="op")
    site = repos.sites.get(site.id)
    kept = service.submit(site, NewComment(text="A calm remark.")).comment
    edited = service.submit(site, NewComment(text="Another calm remark.")).comment
    clock.advance(timedelta(minutes=1))
    service.edit(site, edited.id, CommentEdit(text="You nitwit.", version=edited.version))
    assert [r.comment_id for r in repos.model_shadow.comparisons(site.id, v1)] == [kept.id]
