"""The service layer: the verbs the API calls. No Flask, no torch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from moderation.audit import Actor, AuditAction, AuditEntry
from moderation.clock import utcnow
from moderation.comments import (
    Author,
    CommentEdit,
    Decider,
    Edit,
    Flag,
    ModelInfo,
    NewComment,
    Reason,
    ReasonCode,
    Rescore,
    Revision,
    ScoringState,
    Span,
    Status,
    StoredComment,
    Verdict,
    Withdrawal,
)
from moderation.errors import Conflict, NotFound, Stale
from moderation.events import EventName, NewEvent
from moderation.language import UNDETERMINED
from moderation.model_shadow import ShadowScore, candidate_policy
from moderation.policy import OtherLanguages, decide
from moderation.privacy import AddressPolicy
from moderation.reports import NewReport, Reported, ReportSummary, reporter_weight
from moderation.repositories import Repositories
from moderation.scoring import (
    AnyScorer,
    GuardedScorer,
    LanguageScorers,
    ScoringUnavailable,
    site_model_key,
)
from moderation.security import hash_email, new_id
from moderation.sites import Site
from moderation.spans import split_sentences
from moderation.standing import AuthorActionEntry, apply_standing
from moderation.text import normalize, scoring_forms
from moderation.webhooks import event_for

log = logging.getLogger(__name__)

# Beyond about one model window (256 tokens) a comment whose windows score at least
# DILUTION_GATE in some category is also scored sentence by sentence. Benign long
# comments score far below the gate and skip that second pass.
LONG_TEXT_CHARS = 1000
DILUTION_GATE = 0.15

# A comment readers' reports put in the queue sorts at least this high (a held
# comment over a threshold by half its headroom): readers saw something.
REPORTED_RISK = 0.5
# Tries at a change that lost a race with another writer before giving up (409).
RETRIES = 3
# Re-scoring: comments per model call, and how long a worker's claim on them lasts.
RESCORE_BATCH = 16
RESCORE_LEASE = timedelta(minutes=10)

# The model's scores of each text scored while handling one request: the sentence
# spans of a held long comment reuse what its dilution pass already scored. Keyed by
# the scorer too: one request (a batch) may read the same text in two languages.
_Memo = dict[tuple[int, str], dict[str, float]]


@dataclass(frozen=True)
class Submission:
    """A stored comment and whether this request created it (False: an external_id replay)."""

    comment: StoredComment
    created: bool


@dataclass(frozen=True)
class Analysis:
    """Scores, spans and the policy's verdict for a text that is not stored."""

    scores: dict[str, float] | None
    language: str | None
    spans: tuple[Span, ...]
    verdict: Verdict


@dataclass(frozen=True)
class _Scored:
    normalized: str
    language: str | None
    scores: dict[str, float] | None
    model: ModelInfo | None = None  # the model that scored it


def _whole_text_span(
    text: str, sentences: Sequence[tuple[int, int]], scores: Mapping[str, float]
) -> tuple[Span, ...]:
    """One span from the first sentence's start to the last one's end, with the text's scores."""
    b, e = (sentences[0][0], sentences[-1][1]) if sentences else (0, len(text))
    return (Span(b, e, scores),)


def _always_english(text: str) -> tuple[str, float]:
    return ("en", 1.0)


class ModerationService:
    """Submit comments, score them, decide, store; re-score the ones scoring missed."""

    def __init__(
        self,
        repos: Repositories,
        scorer: GuardedScorer,
        detect_language: Callable[[str], tuple[str, float]] = _always_english,
        email_pepper: str = "",
        clock: Callable[[], datetime] = utcnow,
        on_decision: Callable[[StoredComment], None] | None = None,
        addresses: AddressPolicy | None = None,
        language_scorers: Mapping[str, GuardedScorer] | None = None,
        on_shadow_failure: Callable[[Site], None] | None = None,
    ) -> None:
        self.repos = repos
        self.addresses = addresses or AddressPolicy(secret=email_pepper)
        self.scorer = scorer
        # Comments in these languages go to their own model; the rest to `scorer`.
        self.scorers = LanguageScorers(scorer, language_scorers)
        self.detect_language = detect_language
        self.email_pepper = email_pepper
        self.clock = clock
        self.on_decision = on_decision
        self.on_shadow_failure = on_shadow_failure

    # -- intake ---------------------------------------------------------------

    def submit(self, site: Site, comment: NewComment, language: str | None = None) -> Submission:
        """Score, decide and store one comment; a repeated external_id returns the stored one.

        `language`: what language_of(comment.text) answered, if the caller already asked.
        """
        return self.submit_batch(site, [comment], None if language is None else [language])[0]

    def submit_batch(
        self,
        site: Site,
        comments: Sequence[NewComment],
        languages: Sequence[str] | None = None,
    ) -> list[Submission]:
        """Submit many comments with one model call (for backfills); `languages` as for submit."""
        results: list[Submission | None] = [None] * len(comments)
        todo: list[int] = []
        for i, c in enumerate(comments):
            existing = (
                self.repos.comments.find_external(site.id, c.external_id) if c.external_id else None
            )
            if existing is not None:
                results[i] = Submission(existing, created=False)
            else:
                todo.append(i)
        memo: _Memo = {}
        known = None if languages is None else [languages[i] for i in todo]
        scored = self._score([comments[i].text for i in todo], memo, known, [site] * len(todo))
        standings = self._standings(site, [comments[i].author.id for i in todo])
        created: list[tuple[StoredComment, _Scored]] = []
        for i, s in zip(todo, scored, strict=True):
            standing = standings.get(comments[i].author.id or "")
            submission = self._store_new(site, comments[i], s, memo, standing)
            results[i] = submission
            if submission.created:
                created.append((submission.comment, s))
        if site.shadow_model_version is not None and created:
            self._score_in_shadow(site, site.shadow_model_version, created, memo)
        return [r for r in results if r is not None]

    def _score_in_shadow(
        self,
        site: Site,
        version: int,
        created: Sequence[tuple[StoredComment, _Scored]],
        memo: _Memo,
    ) -> None:
        """Score the site's new comments with its model version in shadow and store what the
        policy, with that version's proposed thresholds, would decide. Never acted on.

        Runs after the live decisions are stored; only comments the live English model (or
        the site's own) scored, since the candidate serves exactly where that one does. Any
        failure is logged and counted, never raised: the live answer stands.
        """
        todo = [
            (c, s)
            for c, s in created
            if s.scores is not None
            and self.scorers.for_language(s.language) is self.scorers.default
        ]
        if not todo:
            return
        try:
            model = self.repos.site_models.get(site.id, version)
            if model is None:
                return
            policy = candidate_policy(site, model)
            scorer = self.scorer.site_view(site_model_key(site.id, version))
            scores = self._model_scores([c.text for c, _ in todo], memo, scorer)
            now = self.clock()
            rows = []
            for (comment, _), candidate in zip(todo, scores, strict=True):
                verdict = decide(policy, comment.text, candidate, comment.language)
                rows.append(
                    ShadowScore(
                        comment.id,
                        site.id,
                        version,
                        candidate,
                        verdict.status,
                        verdict.reasons,
                        now,
                    )
                )
            self.repos.model_shadow.add_many(rows)
        except Exception:  # the candidate's trouble must never reach the live answer
            log.exception("site %s: model v%s in shadow failed", site.id, version)
            if self.on_shadow_failure is not None:
                self.on_shadow_failure(site)

    def _model_scores(
        self, texts: Sequence[str], memo: _Memo | None = None, scorer: AnyScorer | None = None
    ) -> list[dict[str, float]]:
        """Score texts with every reading that matters; each category takes the worst reading.

        Readings: the text's scoring forms (a disguised insult scores as the insult it
        spells), in one model call. Then, for a long text whose windowed scores look
        even faintly toxic, each sentence on its own in a second call: the model scores
        long text in overlapping windows, and a toxic sentence in a window of polite
        filler is diluted, but scored alone it is not. Raises ScoringUnavailable.
        `memo` keeps the scores of every reading for later calls on the same comment.
        `scorer`: the model of the texts' language (default: the English one).
        """
        memo = {} if memo is None else memo
        scorer = scorer or self.scorer
        readings = [list(scoring_forms(t)) for t in texts]
        scores = self._worst_of(readings, memo, scorer)
        dilutable = [
            i
            for i, (text, s) in enumerate(zip(texts, scores, strict=True))
            if len(text) > LONG_TEXT_CHARS and max(s.values(), default=0.0) >= DILUTION_GATE
        ]
        sentence_readings = []
        for i in dilutable:
            sentences = split_sentences(texts[i])
            sentence_readings.append([normalize(texts[i][b:e]) for b, e in sentences] or [""])
        for i, s in zip(dilutable, self._worst_of(sentence_readings, memo, scorer), strict=True):
            scores[i] = {c: max(scores[i][c], s[c]) for c in scores[i]}
        return scores

    def _worst_of(
        self, readings: list[list[str]], memo: _Memo, scorer: AnyScorer
    ) -> list[dict[str, float]]:
        """One model call for every reading not in `memo`; per text, each category's maximum."""
        key = id(scorer)
        todo = list(dict.fromkeys(r for rs in readings for r in rs if (key, r) not in memo))
        if todo:
            scored = scorer.score(todo)
            memo.update(((key, r), s) for r, s in zip(todo, scored, strict=True))
        out = []
        for rs in readings:
            per_reading = [memo[key, r] for r in rs]
            out.append({c: max(s[c] for s in per_reading) for c in per_reading[0]})
        return out

    def _scorer_for(self, site: Site | None, language: str | None) -> AnyScorer:
        """The model for a text: its language's, and the site's own where it adapted the English one.

        A site's adapted model is the default (English) model fine-tuned on its
        moderators' decisions, so it serves exactly the languages that one serves.
        """
        scorer = self.scorers.for_language(language)
        if site is not None and site.model_version is not None and scorer is self.scorers.default:
            return self.scorer.site_view(site_model_key(site.id, site.model_version))
        return scorer

    def language_of(self, text: str) -> str:
        """The language of a comment, as scoring records it ("und": nothing to read)."""
        return self._language(text, normalize(text))

    def _language(self, text: str, normalized: str) -> str:
        # From the text as written: spaced-out words keep their word gaps there.
        return self.detect_language(text)[0] if normalized.strip() else UNDETERMINED

    def _score(
        self,
        texts: Sequence[str],
        memo: _Memo | None = None,
        languages: Sequence[str] | None = None,
        sites: Sequence[Site | None] | None = None,
    ) -> list[_Scored]:
        """Normalize, identify the language (unless `languages` says it) and score each text.

        Each text goes to its language's model (its site's own, where the site has one;
        `sites`: each text's site): one model call per model, a failure of one model
        leaves only its texts unscored.
        """
        normalized = [normalize(t) for t in texts]
        if languages is None:
            languages = [self._language(t, n) for t, n in zip(texts, normalized, strict=True)]
        memo = {} if memo is None else memo
        scores: list[dict[str, float] | None] = [None] * len(texts)
        models: list[ModelInfo | None] = [None] * len(texts)
        groups: dict[int, tuple[AnyScorer, list[int]]] = {}
        for i, lang in enumerate(languages):
            chosen = self._scorer_for(sites[i] if sites else None, lang)
            groups.setdefault(id(chosen), (chosen, []))[1].append(i)
        for scorer, indices in groups.values():
            try:
                group = self._model_scores([texts[i] for i in indices], memo, scorer)
            except ScoringUnavailable:
                continue
            for i, s in zip(indices, group, strict=True):
                scores[i], models[i] = s, scorer.model
        return [
            _Scored(n, lang, s, m)
            for n, lang, s, m in zip(normalized, languages, scores, models, strict=True)
        ]

    def _spans(
        self,
        text: str,
        verdict: Verdict,
        scores: dict[str, float] | None,
        memo: _Memo | None = None,
        language: str | None = None,
        site: Site | None = None,
    ) -> tuple[Span, ...]:
        """Per-sentence scores where a category tripped the hold; else one span for the whole text.

        Scoring every sentence costs another model call, so it is spent only where
        a moderator will need to see which sentence triggered the hold.
        """
        if scores is None:
            return ()
        tripped = any(r.code == ReasonCode.CATEGORY for r in verdict.reasons)
        if not tripped:
            return _whole_text_span(text, split_sentences(text), scores)
        return self.sentence_spans(text, scores, memo, language, site)

    def sentence_spans(
        self,
        text: str,
        scores: Mapping[str, float],
        memo: _Memo | None = None,
        language: str | None = None,
        site: Site | None = None,
    ) -> tuple[Span, ...]:
        """Score each sentence (one batched model call); one sentence reuses the text's scores.

        Sentences a long comment's dilution pass already scored come from `memo`; the
        model is the one of the text's `language` (and `site`'s own, where it has one).
        """
        sentences = split_sentences(text)
        if len(sentences) <= 1:
            return _whole_text_span(text, sentences, scores)
        try:
            per_sentence = self._model_scores(
                [text[b:e] for b, e in sentences], memo, self._scorer_for(site, language)
            )
        except ScoringUnavailable:
            return _whole_text_span(text, sentences, scores)
        return tuple(Span(b, e, s) for (b, e), s in zip(sentences, per_sentence, strict=True))

    def _standings(
        self, site: Site, author_ids: Sequence[str | None]
    ) -> dict[str, AuthorActionEntry]:
        """The moderators' action in force on each of these authors, if any."""
        ids = [a for a in author_ids if a]
        return self.repos.author_actions.in_force(site.id, ids, self.clock()) if ids else {}

    def _store_new(
        self,
        site: Site,
        comment: NewComment,
        scored: _Scored,
        memo: _Memo,
        standing: AuthorActionEntry | None = None,
    ) -> Submission:
        verdict = apply_standing(
            decide(site.policy, comment.text, scored.scores, scored.language), standing
        )
        shadow = (
            decide(site.shadow_policy, comment.text, scored.scores, scored.language)
            if site.shadow_policy
            else None
        )
        spans = self._spans(comment.text, verdict, scored.scores, memo, scored.language, site)
        now = self.clock()
        model = scored.model
        author = comment.author
        scored_ok = scored.scores is not None
        new = StoredComment(
            id=new_id("cmt"),
            site_id=site.id,
            text=comment.text,
            status=verdict.status,
            scores=scored.scores or {},
            reasons=verdict.reasons,
            spans=spans,
            model=model if scored_ok else None,
            language=scored.language,
            risk=verdict.risk,
            version=1,
            created_at=now,
            updated_at=now,
            external_id=comment.external_id,
            parent_id=comment.parent_id,
            author=Author(author.id, author.name, None, self.addresses.stored(author.ip, site.id)),
            article=comment.article,
            scoring_state=ScoringState.SCORED if scored_ok else ScoringState.PENDING,
            decided_by=Decider.AUTO,
            shadow_status=shadow.status if shadow else None,
            author_email_hash=hash_email(author.email, self.email_pepper) if author.email else None,
            shadow_reasons=shadow.reasons if shadow else None,
        )
        audit = AuditEntry(
            AuditAction.COMMENT_AUTO_DECISION,
            Actor.SYSTEM,
            site_id=site.id,
            comment_id=new.id,
            after={
                "status": verdict.status.value,
                "reasons": [r.as_dict() for r in verdict.reasons],
            },
        )
        event = (
            self._event(
                site,
                EventName.for_status(verdict.status),
                new.id,
                comment.external_id,
                verdict.status,
                verdict.reasons,
            )
            if verdict.status is not Status.APPROVED  # held, or rejected (a banned author)
            else None
        )
        try:
            stored = self.repos.comments.add(new, audit, event)
        except Conflict:
            # Another request stored the same external_id between our check and our insert.
            assert comment.external_id is not None
            existing = self.repos.comments.find_external(site.id, comment.external_id)
            if existing is None:
                raise
            return Submission(existing, created=False)
        if self.on_decision is not None:
            self.on_decision(stored)
        return Submission(stored, created=True)

    def _event(
        self,
        site: Site,
        event: EventName,
        comment_id: str,
        external_id: str | None,
        status: Status,
        reasons: Sequence[Reason],
    ) -> NewEvent | None:
        return event_for(site, event, comment_id, external_id, status, reasons, self.clock())

    def analyze(
        self, site: Site, text: str, sentence_spans: bool = False, language: str | None = None
    ) -> Analysis:
        """Score and decide a text without storing anything (Perspective's doNotStore).

        `language`: what language_of(text) answered, if the caller already asked.
        """
        memo: _Memo = {}
        scored = self._score([text], memo, None if language is None else [language], [site])[0]
        verdict = decide(site.policy, text, scored.scores, scored.language)
        if sentence_spans and scored.scores is not None:
            spans = self.sentence_spans(text, scored.scores, memo, scored.language, site)
        else:
            spans = self._spans(text, verdict, scored.scores, memo, scored.language, site)
        return Analysis(scored.scores, scored.language, spans, verdict)

    # -- reading --------------------------------------------------------------

    def get(self, site: Site, comment_id: str) -> StoredComment:
        """A comment of this site; another site's id is NotFound."""
        found = self.repos.comments.get(comment_id, site_id=site.id)
        if found is None:
            raise NotFound("No such comment.")
        return found

    def _verdict(self, site: Site, comment: StoredComment, text: str, scored: _Scored) -> Verdict:
        """The policy's verdict on a stored comment's (new) text, with its author's standing
        and any readers' reports that put it in the queue."""
        standing = self._standings(site, [comment.author.id]).get(comment.author.id or "")
        verdict = apply_standing(
            decide(site.policy, text, scored.scores, scored.language), standing
        )
        if comment.flagged_at is None or verdict.status is Status.REJECTED:
            return verdict
        reported = tuple(r for r in comment.reasons if r.code == ReasonCode.REPORTED)
        status = Status.HELD if site.policy.hide_on_reports else verdict.status
        return Verdict(status, (*verdict.reasons, *reported), max(verdict.risk, REPORTED_RISK))

    # -- after submission: readers' reports, the author's edits and withdrawal -

    def report(self, site: Site, comment_id: str, new: NewReport) -> Reported:
        """Record a reader's report (once per reader); enough of them put the comment in the queue.

        Reports count since a moderator last decided the comment, each with its
        reporter's weight (reporter_weight). When they reach the policy's
        report_threshold the comment gets the reason `reported`, joins the queue,
        is held too if the policy says hide_on_reports, and `comment.reported` is sent.
        """
        comment = self.get(site, comment_id)
        existing = self.repos.reports.find(comment.id, new.reporter_id)
        if existing is not None:
            return Reported(existing, False, comment, self._report_summary(comment))
        if comment.status in (Status.WITHDRAWN, Status.REJECTED):
            raise Conflict(f"The comment is {comment.status.value}: there is nothing to report.")
        weight = reporter_weight(self.repos.reports.reporter_record(site.id, new.reporter_id))
        report, created = self.repos.reports.add(
            site.id, comment.id, new.reporter_id, new.reason, new.note, weight, self.clock()
        )
        comment = self._flag_if_reported(site, comment.id)
        return Reported(report, created, comment, self._report_summary(comment))

    def _report_summary(self, comment: StoredComment) -> ReportSummary:
        since = comment.decided_at if comment.decided_by_moderator else None
        return self.repos.reports.summaries([(comment.id, since)])[comment.id]

    def _flag_if_reported(self, site: Site, comment_id: str) -> StoredComment:
        for _ in range(RETRIES):
            comment = self.repos.comments.get(comment_id)
            assert comment is not None
            if comment.flagged_at is not None or comment.status not in (
                Status.APPROVED,
                Status.HELD,
            ):
                return comment
            summary = self._report_summary(comment)
            if summary.weight < site.policy.report_threshold:
                return comment
            now = self.clock()
            reasons = (*comment.reasons, Reason(code=ReasonCode.REPORTED, count=summary.count))
            status = Status.HELD if site.policy.hide_on_reports else comment.status
            flag = Flag(status, reasons, max(comment.risk, REPORTED_RISK), now)
            audit = AuditEntry(
                AuditAction.COMMENT_REPORTED,
                Actor.SYSTEM,
                site_id=site.id,
                comment_id=comment.id,
                before={"status": comment.status.value},
                after={
                    "status": status.value,
                    "reports": summary.count,
                    "weight": summary.weight,
                    "reasons": dict(summary.reasons),
                },
            )
            event = self._event(
                site, EventName.COMMENT_REPORTED, comment.id, comment.external_id, status, reasons
            )
            if self.repos.comments.apply(comment.id, comment.version, flag, audit, event):
                break
        found = self.repos.comments.get(comment_id)
        assert found is not None
        return found

    def edit(self, site: Site, comment_id: str, edit: CommentEdit) -> StoredComment:
        """Replace a comment's text at the version its author saw: re-scored and re-decided.

        The earlier text is kept for moderators. A moderator's rejection stands (the
        new text is stored, the comment stays rejected); anything else is decided
        again by the policy, so an approved comment edited into abuse is held.
        """
        comment = self.get(site, comment_id)
        if comment.status is Status.WITHDRAWN:
            raise Conflict("The author withdrew this comment; it cannot be edited.")
        if comment.redacted_at is not None:
            raise Conflict("This comment's text was removed by the retention policy.")
        if edit.version != comment.version:
            raise Stale(
                f"The comment changed since version {edit.version} (now {comment.version}); "
                "reload it."
            )
        memo: _Memo = {}
        scored = self._score([edit.text], memo, sites=[site])[0]
        verdict = self._verdict(site, comment, edit.text, scored)
        status, decided_by = verdict.status, str(Decider.AUTO)
        if comment.decided_by_moderator and comment.status is Status.REJECTED:
            status, decided_by = Status.REJECTED, comment.decided_by
        now = self.clock()
        scored_ok = scored.scores is not None
        change = Edit(
            text=edit.text,
            scores=scored.scores or {},
            language=scored.language,
            model=scored.model if scored_ok else None,
            status=status,
            decided_by=decided_by,
            reasons=verdict.reasons,
            spans=self._spans(edit.text, verdict, scored.scores, memo, scored.language, site),
            risk=verdict.risk,
            scoring_state=ScoringState.SCORED if scored_ok else ScoringState.PENDING,
            at=now,
        )
        revision = Revision(
            comment_id=comment.id,
            version=comment.version,
            text=comment.text,
            status=comment.status,
            reasons=comment.reasons,
            scores=comment.scores,
            written_at=comment.edited_at or comment.created_at,
            replaced_at=now,
        )
        audit = AuditEntry(
            AuditAction.COMMENT_EDITED,
            Actor.SYSTEM,
            site_id=site.id,
            comment_id=comment.id,
            before={"status": comment.status.value, "version": comment.version},
            after={
                "status": status.value,
                "version": comment.version + 1,
                "reasons": [r.as_dict() for r in verdict.reasons],
            },
        )
        event = self._event(
            site, EventName.COMMENT_EDITED, comment.id, comment.external_id, status, verdict.reasons
        )
        if not self.repos.comments.apply(
            comment.id, comment.version, change, audit, event, revision=revision
        ):
            raise Stale("The comment changed while the edit was scored; reload it.")
        return self.get(site, comment.id)

    def withdraw(self, site: Site, comment_id: str) -> StoredComment:
        """The author withdrew the comment: status `withdrawn`, out of the queue (idempotent)."""
        for _ in range(RETRIES):
            comment = self.get(site, comment_id)
            if comment.status is Status.WITHDRAWN:
                return comment
            now = self.clock()
            audit = AuditEntry(
                AuditAction.COMMENT_WITHDRAWN,
                Actor.SYSTEM,
                site_id=site.id,
                comment_id=comment.id,
                before={"status": comment.status.value},
                after={"status": Status.WITHDRAWN.value},
            )
            event = self._event(
                site,
                EventName.COMMENT_WITHDRAWN,
                comment.id,
                comment.external_id,
                Status.WITHDRAWN,
                (),
            )
            if self.repos.comments.apply(
                comment.id, comment.version, Withdrawal(now), audit, event
            ):
                return self.get(site, comment.id)
        raise Stale("The comment kept changing; try again.")

    # -- recovery -------------------------------------------------------------

    def rescore_pending(self, limit: int = 100, batch: int = RESCORE_BATCH) -> int:
        """Score comments whose scoring failed; never override a moderator's decision.

        Returns how many were re-scored. Comments are claimed before they are scored
        (`claim_pending_scoring`), so two workers never score one comment twice, and
        scored `batch` at a time in one model call. A comment a moderator already
        decided gets its scores filled in, but keeps its status.
        """
        done = 0
        unscored: list[str] = []
        while done < limit:
            claimed = self.repos.comments.claim_pending_scoring(
                self.clock(), min(batch, limit - done), RESCORE_LEASE
            )
            if not claimed:
                break
            memo: _Memo = {}
            sites = {i: self.repos.sites.get(i) for i in {c.site_id for c in claimed}}
            scored = self._score(
                [c.text for c in claimed], memo, sites=[sites[c.site_id] for c in claimed]
            )
            failed = [c.id for c, one in zip(claimed, scored, strict=True) if one.scores is None]
            unscored += failed
            if len(failed) == len(claimed):
                break  # still down
            stale = []
            for comment, one in zip(claimed, scored, strict=True):
                if one.scores is None:
                    continue  # its model is down (another language's may not be)
                if self._apply_rescore(comment, one, memo):
                    done += 1
                else:
                    stale.append(comment.id)  # changed meanwhile: the next run reads it anew
            self.repos.comments.release_scoring_claims(stale)
        # Kept claimed until here, so this run does not take them again; then let go at once
        # for the next run (and any other worker).
        if unscored:
            self.repos.comments.release_scoring_claims(unscored)
        return done

    @property
    def model(self) -> ModelInfo | None:
        """The model scoring now (None until it loaded)."""
        return self.scorer.model

    def rescore_texts(
        self, comments: list[StoredComment]
    ) -> list[tuple[dict[str, float], str | None, ModelInfo | None]] | None:
        """New scores, language and scoring model per stored comment; None if a model is down."""
        # The stored language when known: a Perspective request may have named it.
        languages = [c.language or self.language_of(c.text) for c in comments]
        # Each comment by its site's model (its adapted one, where it has one).
        sites = {i: self.repos.sites.get(i) for i in {c.site_id for c in comments}}
        scored = self._score(
            [c.text for c in comments],
            languages=languages,
            sites=[sites[c.site_id] for c in comments],
        )
        if any(s.scores is None for s in scored):
            return None
        return [(s.scores or {}, s.language, s.model) for s in scored]

    def _apply_rescore(self, comment: StoredComment, scored: _Scored, memo: _Memo) -> bool:
        """Store one comment's new scores (and, unless a moderator decided it, its verdict)."""
        site = self.repos.sites.get(comment.site_id)
        if site is None or scored.scores is None:
            return False
        change = Rescore(scored.scores, scored.language, scored.model, self.clock())
        event = None
        if comment.decided_by_moderator or comment.status is Status.WITHDRAWN:
            audit = AuditEntry(
                AuditAction.COMMENT_RESCORED,
                Actor.SYSTEM,
                site_id=site.id,
                comment_id=comment.id,
                after={"scores": scored.scores, "status_kept": comment.status.value},
            )
        else:
            verdict = self._verdict(site, comment, comment.text, scored)
            spans = self._spans(comment.text, verdict, scored.scores, memo, scored.language, site)
            change = replace(change, verdict=verdict, spans=spans)
            audit = AuditEntry(
                AuditAction.COMMENT_RESCORED,
                Actor.SYSTEM,
                site_id=site.id,
                comment_id=comment.id,
                before={
                    "status": comment.status.value,
                    "reasons": [r.as_dict() for r in comment.reasons],
                },
                after={
                    "status": verdict.status.value,
                    "reasons": [r.as_dict() for r in verdict.reasons],
                },
            )
            if verdict.status is Status.APPROVED:
                event = self._event(
                    site,
                    EventName.COMMENT_APPROVED,
                    comment.id,
                    comment.external_id,
                    verdict.status,
                    verdict.reasons,
                )
        return self.repos.comments.apply(comment.id, comment.version, change, audit, event)


__all__ = ["ModerationService", "NotFound", "OtherLanguages", "Submission"]
