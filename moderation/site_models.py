"""Site-adapted models: a site's labels, its model versions, training, promotion and rollback.

A site's moderators draw the line in their own place; their decisions (and labels an
operator imports) fine-tune the shipped model for that site alone. Training runs as a
job (`Jobs`), done by an `Adapter` the wiring supplies (models/adapt.py): the domain
never imports the model code.
"""

from __future__ import annotations

import csv
import enum
import io
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from moderation.audit import Actor
from moderation.categories import Category
from moderation.clock import utcnow
from moderation.comments import RejectReason, Status, StoredComment
from moderation.errors import Conflict, Invalid, NotFound
from moderation.privacy import Label
from moderation.sites import Site

log = logging.getLogger(__name__)

# A rejection for one of these reasons says the text is toxic; spam and off-topic
# comments can be perfectly civil, and "other" says nothing we can learn from.
TOXIC_REASONS = frozenset(
    {
        RejectReason.ABUSIVE,
        RejectReason.HARASSMENT,
        RejectReason.HATE_SPEECH,
        RejectReason.THREAT,
    }
)
MIN_LABELS = 200  # fewer labelled comments than this: nothing worth training
VALIDATION_SHARE = 0.2  # the newest fifth of the labels validates, the rest trains
IMPORT_SOURCE = "import"  # labels an operator imported (feedback rows' source)
IMPORTED_ATTRIBUTE = "TOXICITY"
MAX_IMPORT_ROWS = 100_000
MAX_IMPORT_TEXT_CHARS = 20_000
# A version still queued or training this long after it was requested has lost its job.
ABANDONED_AFTER = timedelta(hours=6)
# A site's periodic retraining waits for at least this many new labels: fewer would barely
# move the model, and each training takes minutes of CPU.
MIN_RETRAIN_AFTER = 50
MAX_RETRAIN_AFTER = 1_000_000


class LabelSource(enum.StrEnum):
    MODERATOR = "moderator"  # a moderator's decision on a stored comment
    IMPORTED = "imported"  # a label an operator imported, or a site suggested


@dataclass(frozen=True)
class LabelledText:
    """One training example of a site: a text and whether its moderators call it toxic."""

    text: str
    toxic: bool
    at: datetime  # when the comment was written (or the label arrived): orders the split
    source: LabelSource
    comment_id: str | None = None
    # When the label arrived (the moderator's decision, the import); None: `at`.
    labelled_at: datetime | None = None

    @property
    def arrived_at(self) -> datetime:
        return self.labelled_at or self.at


class Decided(Protocol):
    """Where a comment stands, who put it there and why (a StoredComment, or a report's row)."""

    @property
    def status(self) -> Status: ...
    @property
    def decided_by_moderator(self) -> bool: ...
    @property
    def decision_reason(self) -> str | None: ...


def decision_label(comment: Decided) -> bool | None:
    """What a moderator's decision says about toxicity: True, False, or None (nothing).

    Approvals are 0; rejections for abuse, harassment, hate or threats are 1, whether the
    comment was held or published and taken down later; spam, off-topic and other
    rejections are left out, as is anything the policy alone decided.
    """
    if not comment.decided_by_moderator:
        return None
    if comment.status is Status.APPROVED:
        return False
    if comment.status is Status.REJECTED:
        try:
            reason = RejectReason(comment.decision_reason or "")
        except ValueError:
            return None
        return True if reason in TOXIC_REASONS else None
    return None


def site_labels(decided: Iterable[StoredComment], imported: Iterable[Label]) -> list[LabelledText]:
    """A site's labelled texts, oldest first: its moderators' decisions and its imported labels."""
    out: list[LabelledText] = []
    for c in decided:
        toxic = decision_label(c)
        if toxic is not None and c.text:
            out.append(
                LabelledText(
                    c.text,
                    toxic,
                    c.created_at,
                    LabelSource.MODERATOR,
                    c.id,
                    labelled_at=c.decided_at or c.updated_at,
                )
            )
    for f in imported:
        if f.attribute.upper() == IMPORTED_ATTRIBUTE and f.text:
            out.append(
                LabelledText(
                    f.text,
                    f.score >= 0.5,
                    f.created_at,
                    LabelSource.IMPORTED,
                    f.comment_id,
                    labelled_at=f.created_at,
                )
            )
    # Stable: labels imported together keep their file order.
    out.sort(key=lambda x: x.at)
    return out


def check_trainable(labels: Sequence[LabelledText]) -> None:
    """Raise Invalid (422) unless there are enough labels, of both kinds, to train on."""
    toxic = sum(x.toxic for x in labels)
    if len(labels) < MIN_LABELS:
        raise Invalid(
            f"The site has {len(labels)} labelled comments; adapting a model needs at least "
            f"{MIN_LABELS} (moderators' approvals and toxicity rejections, or imported labels)."
        )
    if toxic == 0 or toxic == len(labels):
        kind = "toxic" if toxic else "acceptable"
        raise Invalid(
            f"All {len(labels)} labelled comments are {kind}; adapting a model needs both "
            "approved and rejected examples."
        )


def split_by_time(
    labels: Sequence[LabelledText], share: float = VALIDATION_SHARE
) -> tuple[list[LabelledText], list[LabelledText]]:
    """Training (older) and validation (the newest `share`) labels, as a new model will meet them."""
    ordered = sorted(labels, key=lambda x: x.at)
    n_val = max(1, round(len(ordered) * share))
    return ordered[:-n_val], ordered[-n_val:]


@dataclass(frozen=True)
class ImportedLabel:
    text: str
    toxic: bool


def parse_labels_csv(content: str) -> list[ImportedLabel]:
    """Rows of a `text,label` CSV (header first, label 0 or 1); Invalid names the first bad line."""
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header] != ["text", "label"]:
            raise Invalid("The CSV must start with the header 'text,label'.")
        rows: list[ImportedLabel] = []
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != 2:
                raise Invalid(f"Line {line}: expected 2 fields (text,label), found {len(row)}.")
            text, label = row[0], row[1].strip()
            if label not in ("0", "1"):
                raise Invalid(f"Line {line}: the label must be 0 or 1, not {label[:20]!r}.")
            if not text.strip():
                raise Invalid(f"Line {line}: the text is empty.")
            if len(text) > MAX_IMPORT_TEXT_CHARS:
                raise Invalid(f"Line {line}: the text is over {MAX_IMPORT_TEXT_CHARS} characters.")
            if "\x00" in text:
                raise Invalid(f"Line {line}: the text holds a NUL character.")
            rows.append(ImportedLabel(text, label == "1"))
            if len(rows) > MAX_IMPORT_ROWS:
                raise Invalid(f"More than {MAX_IMPORT_ROWS} rows: split the file.")
    except csv.Error as exc:
        raise Invalid(f"Line {reader.line_num}: not valid CSV ({exc}).") from exc
    if not rows:
        raise Invalid("The CSV holds no labels.")
    return rows


# -- the registry -------------------------------------------------------------


class ModelState(enum.StrEnum):
    """Where a site's model version stands."""

    QUEUED = "queued"
    TRAINING = "training"
    READY = "ready"  # trained and validated: a candidate
    FAILED = "failed"
    SERVING = "serving"  # promoted: it scores the site's comments
    RETIRED = "retired"  # served once; replaced or rolled back (can be promoted again)


PROMOTABLE = (ModelState.READY, ModelState.RETIRED)


@dataclass(frozen=True)
class SiteModel:
    """One version of a site's adapted model."""

    site_id: str
    version: int
    state: ModelState
    requested_by: str
    created_at: datetime
    labels: int = 0  # labelled comments it was trained and validated on
    progress: float = 0.0  # 0..1 while training
    metrics: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    path: str | None = None  # the checkpoint folder (under the instance's model folder)
    auto_promote: bool = False
    started_at: datetime | None = None
    finished_at: datetime | None = None
    promoted_at: datetime | None = None
    previous_version: int | None = None  # what served before it was promoted (for rollback)

    @property
    def tag(self) -> str:
        return f"v{self.version}"


def parse_version(value: str) -> int:
    """'v3' or '3' as 3; NotFound for anything else (a version that cannot exist)."""
    raw = value[1:] if value[:1] in ("v", "V") else value
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound(f"No model version {value[:40]!r}.")
    return int(raw)


@dataclass(frozen=True)
class AdaptRequest:
    """What the adapter trains on and validates with."""

    site_id: str
    version: int
    train_texts: list[str]
    train_labels: list[bool]
    val_texts: list[str]
    val_labels: list[bool]
    thresholds: Mapping[str, float]  # the site's live thresholds
    output: Path


@dataclass(frozen=True)
class ModelSettings:
    """A site's standing choices about its model (no stored row: these defaults).

    `auto_promote`: a new version serves by itself when it wins (`wins`), unless the
    request that trained it said otherwise. `retrain_after_labels`: the periodic job
    requests training once the site has this many labels that arrived after its newest
    version read its labels (None: never; training only when asked).
    """

    auto_promote: bool = False
    retrain_after_labels: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "auto_promote": self.auto_promote,
            "retrain_after_labels": self.retrain_after_labels,
        }


def check_settings(settings: ModelSettings) -> None:
    """Raise Invalid (422) for a retraining threshold outside what makes sense."""
    n = settings.retrain_after_labels
    if n is not None and not MIN_RETRAIN_AFTER <= n <= MAX_RETRAIN_AFTER:
        raise Invalid(
            f"retrain_after_labels must be between {MIN_RETRAIN_AFTER} and "
            f"{MAX_RETRAIN_AFTER} new labels, or null (never)."
        )


def is_busy(model: SiteModel, now: datetime) -> bool:
    """Whether a version still holds the site's training slot (queued or training, not lost)."""
    return (
        model.state in (ModelState.QUEUED, ModelState.TRAINING)
        and now - model.created_at <= ABANDONED_AFTER
    )


def new_labels(labels: Sequence[LabelledText], versions: Sequence[SiteModel]) -> int:
    """How many labels arrived after the newest version read the site's labels (all: none yet).

    A version reads them when its training starts (or, still queued, when it was requested);
    a failed newest version counts too, so a failing training is not retried on every tick.
    """
    if not versions:
        return len(labels)
    newest = max(versions, key=lambda m: m.version)
    since = newest.started_at or newest.created_at
    return sum(1 for x in labels if x.arrived_at > since)


def retrain_due(
    settings: ModelSettings,
    labels: Sequence[LabelledText],
    versions: Sequence[SiteModel],
    now: datetime,
) -> bool:
    """Whether the periodic job should request a new version of a site's model now.

    Only with `retrain_after_labels` set, no version queued or training, at least that many
    new labels since the newest version's training, and enough labels overall (both kinds).
    """
    needed = settings.retrain_after_labels
    if needed is None or any(is_busy(m, now) for m in versions):
        return False
    if new_labels(labels, versions) < needed:
        return False
    try:
        check_trainable(labels)
    except Invalid:
        return False
    return True


class Adapter(Protocol):
    """Fine-tune the base model on a site's labels; write it to `request.output`; return metrics."""

    def adapt(
        self, request: AdaptRequest, progress: Callable[[float], None]
    ) -> Mapping[str, Any]: ...


class Jobs(Protocol):
    """Runs a version's training later, elsewhere: on a job queue's worker, or in this process.

    `train` is what to run (`SiteModels.train`); a queue whose workers have their own
    services runs their `SiteModels.train` by name instead.
    """

    def train_later(
        self, site_id: str, version: int, train: Callable[[str, int], None]
    ) -> None: ...


class SiteModelStore(Protocol):
    """The registry's persistence (moderation.repositories.site_models)."""

    def create(
        self, site_id: str, *, requested_by: str, labels: int, auto_promote: bool
    ) -> SiteModel: ...
    def get(self, site_id: str, version: int) -> SiteModel | None: ...
    def for_site(self, site_id: str) -> list[SiteModel]: ...
    def start(self, site_id: str, version: int) -> None: ...
    def set_progress(self, site_id: str, version: int, progress: float) -> None: ...
    def finish(
        self, site_id: str, version: int, *, path: str, metrics: Mapping[str, Any]
    ) -> None: ...
    def fail(self, site_id: str, version: int, error: str) -> None: ...
    def promote(
        self,
        site_id: str,
        version: int,
        *,
        actor: str,
        thresholds: Mapping[str, float] | None,
    ) -> SiteModel: ...
    def rollback(self, site_id: str, *, actor: str) -> SiteModel | None: ...
    def start_shadow(self, site_id: str, version: int, *, actor: str) -> SiteModel: ...
    def stop_shadow(self, site_id: str, version: int, *, actor: str) -> None: ...
    def settings(self, site_id: str) -> ModelSettings: ...
    def set_settings(self, site_id: str, settings: ModelSettings, *, actor: str) -> None: ...
    def retraining(self) -> dict[str, ModelSettings]: ...


def wins(metrics: Mapping[str, Any]) -> bool:
    """Whether a candidate beats the base model by its interval, with fairness no worse."""
    delta = (metrics.get("roc_auc") or {}).get("delta") or {}
    fairness = metrics.get("fairness") or {}
    return bool(delta.get("low") is not None and delta["low"] > 0 and fairness.get("ok", False))


def recalibrated(site: Site, metrics: Mapping[str, Any]) -> dict[str, float] | None:
    """The site's thresholds with the toxicity threshold the candidate needs to keep false holds."""
    proposed = ((metrics.get("recalibration") or {}).get("toxicity") or {}).get("proposed")
    if proposed is None:
        return None
    return {**site.policy.thresholds, Category.TOXICITY.value: float(proposed)}


class SiteModels:
    """Labels, training, promotion and rollback of sites' adapted models."""

    def __init__(
        self,
        repos: Any,  # moderation.repositories.Repositories (comments, labels, site_models)
        adapter: Adapter,
        jobs: Jobs,
        root: Path,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.repos = repos
        self.adapter = adapter
        self.jobs = jobs
        self.root = Path(root)
        self.clock = clock

    @property
    def store(self) -> SiteModelStore:
        return self.repos.site_models

    def labels(self, site: Site) -> list[LabelledText]:
        """The site's labelled comments, oldest first."""
        return site_labels(
            self.repos.comments.moderator_decided(site.id), self.repos.labels.for_site(site.id)
        )

    def import_labels(self, site: Site, rows: Sequence[ImportedLabel], actor: str) -> int:
        """Store imported labels (all or none); return how many."""
        self.repos.labels.add_many(
            site.id,
            [(r.text, IMPORTED_ATTRIBUTE, 1.0 if r.toxic else 0.0) for r in rows],
            source=IMPORT_SOURCE,
            actor=actor,
        )
        return len(rows)

    def request(self, site: Site, actor: str, auto_promote: bool | None = None) -> SiteModel:
        """Queue training of a new version on the site's labels (Invalid: too few, one class).

        `auto_promote` None: the site's stored setting says whether it serves by itself
        when it wins.
        """
        labels = self.labels(site)
        check_trainable(labels)
        busy = []
        now = self.clock()
        for m in self.store.for_site(site.id):
            if m.state not in (ModelState.QUEUED, ModelState.TRAINING):
                continue
            if not is_busy(m, now):
                # Its worker ended without a word (a restart, a crash): free the site.
                self.store.fail(site.id, m.version, "abandoned: its job never finished")
                continue
            busy.append(m)
        if busy:
            raise Conflict(f"Version {busy[0].tag} of the site's model is still {busy[0].state}.")
        if auto_promote is None:
            auto_promote = self.store.settings(site.id).auto_promote
        model = self.store.create(
            site.id, requested_by=actor, labels=len(labels), auto_promote=auto_promote
        )
        try:
            self.jobs.train_later(site.id, model.version, self.train)
        except Exception as exc:
            # No job will ever train it: do not leave it queued, blocking the site for hours.
            self.store.fail(site.id, model.version, f"could not start: {exc}"[:2000])
            raise
        return model

    def settings(self, site: Site) -> ModelSettings:
        """The site's stored model settings (the defaults if it never changed them)."""
        return self.store.settings(site.id)

    def change_settings(self, site: Site, changes: Mapping[str, Any], actor: str) -> ModelSettings:
        """Change some of the site's model settings (the rest keep their value); audited."""
        current = self.store.settings(site.id)
        unknown = set(changes) - set(current.as_dict())
        if unknown:
            raise Invalid(f"Unknown model settings: {', '.join(sorted(unknown))}.")
        updated = ModelSettings(**{**current.as_dict(), **changes})
        check_settings(updated)
        if updated != current:
            self.store.set_settings(site.id, updated, actor=actor)
        return updated

    def retrain(self) -> list[SiteModel]:
        """The periodic job: request a new version for each site whose new labels call for one.

        See `retrain_due`; the version serves by itself iff the site opted in and it wins.
        A site refused meanwhile (an operator's request got there first) is skipped.
        """
        requested = []
        now = self.clock()
        for site_id, settings in self.store.retraining().items():
            site = self.repos.sites.get(site_id)
            if site is None:
                continue
            try:
                if not retrain_due(settings, self.labels(site), self.store.for_site(site.id), now):
                    continue
                model = self.request(site, Actor.SYSTEM, auto_promote=settings.auto_promote)
            except (Conflict, Invalid) as exc:
                log.info("retraining %s skipped: %s", site.name, exc)
                continue
            except Exception:  # one site's trouble must not stop the others'
                log.exception("retraining %s failed to start", site.name)
                continue
            log.info("retraining %s: %s requested on %d labels", site.name, model.tag, model.labels)
            requested.append(model)
        return requested

    def train(self, site_id: str, version: int) -> None:
        """The job: train, validate and export one version; a failure is recorded, not raised."""
        try:
            self._train(site_id, version)
        except Exception as exc:  # the job's outcome is the row's state
            log.exception("adapting %s v%s failed", site_id, version)
            self.store.fail(site_id, version, f"{type(exc).__name__}: {exc}"[:2000])

    def _train(self, site_id: str, version: int) -> None:
        site = self.repos.sites.get(site_id)
        if site is None:
            raise NotFound("The site is gone.")
        self.store.start(site_id, version)
        labels = self.labels(site)
        check_trainable(labels)
        train, val = split_by_time(labels)
        output = self.root / site.id / f"v{version}"
        request = AdaptRequest(
            site_id=site.id,
            version=version,
            train_texts=[x.text for x in train],
            train_labels=[x.toxic for x in train],
            val_texts=[x.text for x in val],
            val_labels=[x.toxic for x in val],
            thresholds=dict(site.policy.thresholds),
            output=output,
        )

        def progress(p: float) -> None:
            self.store.set_progress(site_id, version, min(1.0, max(0.0, p)))

        metrics = dict(self.adapter.adapt(request, progress))
        metrics["wins"] = wins(metrics)
        metrics["labels"] = {"train": len(train), "validation": len(val)}
        self.store.finish(site_id, version, path=str(output), metrics=metrics)
        model = self.store.get(site_id, version)
        if (
            model is not None
            and model.auto_promote
            and metrics["wins"]
            and self._still_opted_in(model)
        ):
            self.promote(site, version, actor=Actor.SYSTEM)

    def _still_opted_in(self, model: SiteModel) -> bool:
        """What the periodic job requested serves only if the site still opts in: an operator
        may have turned auto-promotion off while the version trained."""
        return model.requested_by != Actor.SYSTEM or self.store.settings(model.site_id).auto_promote

    def versions(self, site: Site) -> list[SiteModel]:
        """The site's model versions, newest first."""
        return self.store.for_site(site.id)

    def version(self, site: Site, version: int) -> SiteModel:
        found = self.store.get(site.id, version)
        if found is None:
            raise NotFound(f"The site has no model version v{version}.")
        return found

    def promote(self, site: Site, version: int, actor: str, recalibrate: bool = True) -> SiteModel:
        """Serve `version` for the site; with `recalibrate`, apply the thresholds validation proposed."""
        model = self.version(site, version)
        if model.state is ModelState.SERVING:
            raise Conflict(f"{model.tag} already serves the site.")
        if model.state not in PROMOTABLE:
            raise Conflict(f"{model.tag} is {model.state}: only a trained version can serve.")
        thresholds = (
            recalibrated(site, {"recalibration": self.proposal(site, model)})
            if recalibrate
            else None
        )
        return self.store.promote(site.id, version, actor=actor, thresholds=thresholds)

    def proposal(self, site: Site, model: SiteModel) -> dict[str, Any]:
        """The toxicity threshold a promotion would apply, with its figures and their source:
        the candidate's scores of live comments in shadow when they allow it, else validation."""
        from moderation import model_shadow

        rows = self.repos.model_shadow.comparisons(site.id, model.version)
        return model_shadow.proposal(site, model, rows)

    def shadow(self, site: Site, version: int, actor: str) -> SiteModel:
        """Run `version` in shadow: it scores the site's new comments too, never acted on."""
        return self.store.start_shadow(site.id, version, actor=actor)

    def stop_shadow(self, site: Site, version: int, actor: str) -> None:
        """Stop running `version` in shadow (what it scored is kept for its report)."""
        self.version(site, version)
        self.store.stop_shadow(site.id, version, actor=actor)

    def shadow_report(self, site: Site, version: int) -> dict[str, Any]:
        """Live against `version` on the comments it scored in shadow, and both against moderators."""
        from moderation import model_shadow

        model = self.version(site, version)
        rows = self.repos.model_shadow.comparisons(site.id, version)
        return {
            "version": model.tag,
            "in_shadow": site.shadow_model_version == version,
            "thresholds": dict(model_shadow.candidate_policy(site, model).thresholds),
            **model_shadow.report(rows),
            "recalibration": model_shadow.proposal(site, model, rows),
        }

    def rollback(self, site: Site, actor: str) -> SiteModel | None:
        """Serve what served before the current version (None: the base model)."""
        serving = [m for m in self.store.for_site(site.id) if m.state is ModelState.SERVING]
        if not serving:
            raise Conflict("No adapted model serves the site: nothing to roll back.")
        return self.store.rollback(site.id, actor=actor)
