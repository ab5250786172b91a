"""Readers' reports, authors' standing, edits, withdrawals and replies, in a real browser.

The demo's Report button up to the moderator's queue; ban and pre-moderate from the author
panel (reached with `b`); an edit's earlier text and a reply's parent on the comment page;
a withdrawn comment gone from the queue. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import WebService
from tests.e2e.test_pages import open_page, post_comment, queue_keys_ready, sign_in_with_keyboard

# Benign to the model (published at once), each with a marker the test can find it by.
REPORTED = "Stall 14 sells the best pears on the hill, ask for the late ones."
LATER = "The pears at stall 14 were gone by nine this morning."
PREMODERATED = "I walked up with my grandmother and she loved the lanterns."


def site_api(web: WebService, method: str, path: str, body: Any = None) -> Any:
    """Call the API as the demo site's backend (a key of its own, made for the test)."""
    if not hasattr(web, "_demo_key"):
        web._demo_key = json.loads(web.cli("keys", "create", "demo", "--json"))["api_key"]  # type: ignore[attr-defined]
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{web.url}{path}",
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {web._demo_key}",  # type: ignore[attr-defined]
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def report_from_a_new_reader(browser: Any, web: WebService, errors: list[str], text: str) -> None:
    """A reader of their own (a fresh browser profile) reports the published comment."""
    page = open_page(browser, errors)
    page.goto(f"{web.url}/demo")
    comment = page.get_by_role("list", name="Published comments").locator(".comment", has_text=text)
    comment.get_by_label("Report as").select_option("spam")
    comment.get_by_role("button", name="Report").click()
    expect(page.locator(".flashes")).to_contain_text("the moderators will see your report")
    page.context.close()


def signed_in_moderator(browser: Any, web: WebService, errors: list[str]) -> Page:
    mod = open_page(browser, errors)
    mod.goto(f"{web.url}/signin")
    sign_in_with_keyboard(mod, "maria")
    expect(mod).to_have_url(f"{web.url}/queue")
    return mod


def test_readers_reports_reach_the_queue_and_the_moderator_bans_the_author(
    browser: Any, web: WebService, artifacts: Path
) -> None:
    errors: list[str] = []
    author = open_page(browser, errors)
    author.goto(f"{web.url}/demo")
    post_comment(author, "Pim", REPORTED)
    published = author.get_by_role("list", name="Published comments")
    expect(published).to_contain_text(REPORTED)
    author.screenshot(path=artifacts / "demo-report.png", full_page=True)
    # Three readers report it (the default report_threshold is 3).
    for _ in range(3):
        report_from_a_new_reader(browser, web, errors, REPORTED)

    mod = signed_in_moderator(browser, web, errors)
    mod.goto(f"{web.url}/queue?reason=reported")
    card = mod.locator(".card", has_text=REPORTED)
    expect(card).to_have_count(1)
    expect(card.locator(".chip")).to_contain_text(["Reported by 3 readers"])
    expect(card.locator("[data-reports]")).to_contain_text("3 reports: spam ×3")
    mod.screenshot(path=artifacts / "queue-reported.png", full_page=True)

    # b opens the author panel; the moderator bans Pim with a note.
    queue_keys_ready(mod)
    card.click(position={"x": 5, "y": 5})
    mod.keyboard.press("b")
    expect(mod).to_have_url(re.compile(r"/comments/cmt_\w+#author$"))
    panel = mod.get_by_role("region", name="Author")
    panel.get_by_label("Action").select_option("ban")
    panel.get_by_label("Note").fill("Reported for spam again and again")
    panel.get_by_role("button", name="Apply").click()
    expect(panel.locator("[data-standing]")).to_have_text("Banned")
    expect(panel).to_contain_text("Reported for spam again and again")
    mod.screenshot(path=artifacts / "comment-author-banned.png", full_page=True)

    # Pim's next comment is rejected with the reason, and never published.
    post_comment(author, "Pim", LATER)
    expect(author.locator("body")).to_contain_text(
        "The service rejected your comment (Author banned)"
    )
    expect(published).not_to_contain_text(LATER)
    assert errors == []


def test_a_premoderated_author_is_held_and_the_card_says_why(
    browser: Any, web: WebService, artifacts: Path
) -> None:
    errors: list[str] = []
    first = site_api(
        web,
        "POST",
        "/v1/comments",
        {
            "text": "You are a pathetic idiot and a nitwit.",
            "author": {"id": "reader-ines", "name": "Ines"},
        },
    )
    assert first["status"] == "held"
    mod = signed_in_moderator(browser, web, errors)
    mod.goto(f"{web.url}/comments/{first['id']}#author")
    panel = mod.get_by_role("region", name="Author")
    panel.get_by_label("Action").select_option("premoderate")
    panel.get_by_label("For").select_option("7")
    panel.get_by_label("Note").fill("Rude twice this week")
    panel.get_by_role("button", name="Apply").click()
    expect(panel.locator("[data-standing]")).to_contain_text("Pre-moderated until")

    # Even a kind comment of hers now waits, and the queue card shows why and her standing.
    kind = site_api(
        web,
        "POST",
        "/v1/comments",
        {"text": PREMODERATED, "author": {"id": "reader-ines", "name": "Ines"}},
    )
    assert kind["status"] == "held"
    mod.goto(f"{web.url}/queue?reason=author_premoderated")
    card = mod.locator(".card", has_text=PREMODERATED)
    expect(card.locator(".chip")).to_contain_text(["Author pre-moderated"])
    expect(card.locator("[data-standing]")).to_contain_text("Pre-moderated")
    mod.screenshot(path=artifacts / "queue-premoderated.png", full_page=True)
    assert errors == []


def test_an_edit_keeps_the_earlier_text_a_reply_shows_its_parent_and_a_withdrawal_leaves(
    browser: Any, web: WebService, artifacts: Path
) -> None:
    errors: list[str] = []
    parent = site_api(
        web,
        "POST",
        "/v1/comments",
        {"text": "The lantern walk starts at the old bridge at eight.", "external_id": "p-1"},
    )
    reply = site_api(
        web,
        "POST",
        "/v1/comments",
        {"text": "Thanks, see you at the bridge.", "parent_id": "p-1"},
    )
    assert reply["status"] == "approved"
    edited = site_api(
        web,
        "PUT",
        f"/v1/comments/{reply['id']}",
        {
            "text": "See you at the bridge, you pathetic idiot and nitwit.",
            "version": reply["version"],
        },
    )
    assert edited["status"] == "held" and edited["version"] == reply["version"] + 1

    mod = signed_in_moderator(browser, web, errors)
    mod.goto(f"{web.url}/queue")
    card = mod.locator(".card", has_text="you pathetic idiot and nitwit")
    expect(card.locator("[data-parent]")).to_contain_text(
        "The lantern walk starts at the old bridge"
    )
    mod.goto(f"{web.url}/comments/{reply['id']}")
    text = mod.get_by_role("region", name="Text")
    expect(text.locator("[data-parent]")).to_contain_text(parent["text"])
    text.get_by_text("Edited 1 time").click()
    expect(text.locator(".revisions")).to_contain_text("Thanks, see you at the bridge.")
    expect(mod.get_by_role("region", name="History")).to_contain_text("Edited by the author")
    mod.screenshot(path=artifacts / "comment-edited-reply.png", full_page=True)

    # The author withdraws it: gone from the queue.
    site_api(web, "DELETE", f"/v1/comments/{reply['id']}")
    mod.goto(f"{web.url}/queue")
    expect(mod.locator(".card", has_text="you pathetic idiot and nitwit")).to_have_count(0)
    mod.goto(f"{web.url}/comments/{reply['id']}")
    expect(mod.locator("h1 .status")).to_have_text("withdrawn")
    expect(mod.get_by_role("region", name="History")).to_contain_text("Withdrawn by the author")
    assert errors == []
