"""The moderator's pages: the queue (a moderator's view claims a batch) and one comment in full."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import marshmallow as ma
from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from api.review_schemas import DecisionSchema, QueueArgsSchema
from api.services import services
from api.web import present
from api.web.common import MODERATORS, blueprint, local_path, signed_in, user
from moderation.categories import CATEGORIES
from moderation.clock import utcnow
from moderation.errors import DomainError
from moderation.review import LEASE, Action, DecisionIn
from moderation.sites import Role
from moderation.standing import AuthorAction, NewAuthorAction

# The author panel's expiry choices: days from now (None: until cleared).
EXPIRY_DAYS = {"": None, "1": 1, "7": 7, "30": 30}

bp = blueprint("web_queue")

FILTERS = ("site", "category", "reason", "sort")


@bp.get("/queue")
@signed_in(*MODERATORS)
def queue() -> ResponseReturnValue:
    """Held comments, riskiest first; a moderator opening the page claims the next batch.

    Operators and admins see the queue without claiming: their look at it must not keep
    a batch from the moderators for as long as the page stays open.
    """
    person = user()
    claims = person.role is Role.MODERATOR
    try:
        args: dict[str, Any] = QueueArgsSchema().load(
            {k: v for k in FILTERS if (v := request.args.get(k, "").strip())}
        )
    except ma.ValidationError as exc:
        raise BadRequest(f"Those filters are not valid: {exc.messages}") from exc
    if claims:
        services().review.claim(person, current_app.config["QUEUE_CLAIM"], args.get("site"))
    page = services().review.queue(person, **args)

    sites = {s.id: s for s in services().store.sites.all() if person.can_access(s.id)}
    now = utcnow()
    holders = {h for i in page.items if (h := present.holder(i.comment, now))}
    cards = present.cards(
        page.items, sites, services().store.users.names(sorted(holders)), person.id, now
    )
    return render_template(
        "web/queue.html",
        cards=cards,
        more=page.next_cursor is not None,
        mine=sum(c.mine for c in cards),
        claims=claims,
        filters=args,
        sites=list(sites.values()),
        categories=[(c, present.label(c)) for c in CATEGORIES],
        reason_codes=present.REASON_CODES,
        reject_labels=present.REJECT_LABELS,
        lease_minutes=int(LEASE.total_seconds() // 60),
    )


@bp.get("/comments/<string:comment_id>")
@signed_in(*MODERATORS)
def comment(comment_id: str) -> ResponseReturnValue:
    """One comment: full text, highlights, scores, sentence spans, and every audit entry."""
    person = user()
    item = services().review.item(person, comment_id)
    c = item.comment
    entries = services().review.audit(person, comment_id)

    site = services().store.sites.get(c.site_id)
    assert site is not None
    people = {e.actor for e in entries} | {c.decided_by, c.claimed_by or ""}
    names = services().store.users.names(sorted(p for p in people if p))
    history = (
        services().store.comments.author_history(site.id, [c.author.id]).get(c.author.id)
        if c.author.id
        else None
    )
    sentences = [
        {
            "text": c.text[s.begin : s.end],
            "top": max(((v, k) for k, v in s.scores.items()), default=(0.0, "")),
            "bars": present.bars(s.scores, site.policy.thresholds),
            "over": any(b.over for b in present.bars(s.scores, site.policy.thresholds)),
        }
        for s in sorted(c.spans, key=lambda s: s.begin)
    ]
    return render_template(
        "web/comment.html",
        c=c,
        site=site,
        segments=present.highlight(c.text, c.spans, c.reasons),
        bars=present.bars(c.scores, site.policy.thresholds),
        reasons=[present.reason_text(r) for r in c.reasons],
        sentences=sentences,
        audit=[present.audit_line(e, names) for e in entries],
        names=names,
        history=present.history_text(history) if history else None,
        article_url=present.safe_url(c.article.url),
        reject_labels=present.REJECT_LABELS,
        held=c.queued,
        reports=present.reports_text(item.reports),
        standing=present.standing_text(item.author_standing),
        standing_note=item.author_standing.note if item.author_standing else None,
        parent=item.parent,
        revisions=item.revisions,
        author_actions=present.AUTHOR_ACTION_LABELS,
    )


@bp.post("/comments/<string:comment_id>/author")
@signed_in(*MODERATORS)
def author(comment_id: str) -> ResponseReturnValue:
    """Ban, premoderate, trust or clear the comment's author (the author panel's form)."""
    person = user()
    c = services().review.comment(person, comment_id)
    back = url_for("web_queue.comment", comment_id=comment_id) + "#author"
    action, note = request.form.get("action", ""), request.form.get("note", "").strip()
    days = request.form.get("expires", "")
    if not c.author.id:
        flash("This comment has no author id: there is no one to act on.", "error")
        return redirect(back)
    if action not in {a.value for a in AuthorAction} or not note or days not in EXPIRY_DAYS:
        flash("Choose an action and say why in the note.", "error")
        return redirect(back)
    n = EXPIRY_DAYS[days]
    expires = utcnow() + timedelta(days=n) if n else None
    try:
        services().standings.act(
            c.site_id, c.author.id, NewAuthorAction(AuthorAction(action), note, expires), person.id
        )
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(back)
    flash(f"{present.STANDING_LABELS[action]}: {c.author.name or c.author.id}.", "ok")
    return redirect(back)


@bp.post("/comments/<string:comment_id>/decide")
@signed_in(*MODERATORS)
def decide(comment_id: str) -> ResponseReturnValue:
    """Approve or reject from a form (the pages' scripts use the JSON API instead)."""
    back = local_path(request.form.get("next"), url_for("web_queue.queue"))
    fields: dict[str, Any] = {
        k: v for k in ("action", "version", "reason", "note") if (v := request.form.get(k))
    }
    if str(fields.get("version", "")).isdigit():
        fields["version"] = int(fields["version"])  # forms send text; the schema wants a number
    try:
        args = DecisionSchema().load(fields)
        services().review.decide(user(), DecisionIn(comment_id=comment_id, **args))
    except ma.ValidationError:
        flash("Choose approve or reject (a rejection needs a reason).", "error")
        return redirect(back)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(back)
    done = "Approved" if args["action"] is Action.APPROVE else "Rejected"
    flash(f"{done} the comment.", f"undo:{comment_id}")
    return redirect(back)


@bp.post("/comments/<string:comment_id>/undo")
@signed_in(*MODERATORS)
def undo(comment_id: str) -> ResponseReturnValue:
    """Revert the comment's last decision."""
    back = local_path(request.form.get("next"), url_for("web_queue.queue"))
    try:
        c = services().review.undo(user(), comment_id)
        flash(f"Undone: the comment is {c.status.value} again.", "ok")
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(back)
