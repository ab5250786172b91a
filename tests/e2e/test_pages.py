"""The web pages in a real browser against the real service: demo form -> queue -> article -> tuning.

Screenshots of every page land in test-artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORDS, WebService

BENIGN = "Thanks for the photos of the volunteers, it was lovely to see the whole town helping out."
TOXIC_SENTENCE = "You are a pathetic idiot and a nitwit, and nobody here wants to read you."
TOXIC = f"The cheese counter story made me laugh. {TOXIC_SENTENCE}"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def open_page(browser: Any, errors: list[str], viewport: dict[str, int] = DESKTOP) -> Page:
    """A fresh browser profile; console errors (CSP violations included) are collected."""
    page: Page = browser.new_context(viewport=viewport).new_page()
    page.on(
        "console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def post_comment(page: Page, name: str, text: str) -> None:
    page.get_by_label("Name").fill(name)
    page.get_by_label("Comment", exact=True).fill(text)
    page.get_by_role("button", name="Post comment").click()


def sign_in_with_keyboard(page: Page, name: str) -> None:
    """The name field has focus on arrival; Tab to the password; Enter submits."""
    expect(page.get_by_label("Name")).to_be_focused()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORDS[name])
    page.keyboard.press("Enter")


def queue_keys_ready(page: Page) -> None:
    """Wait until queue.js listens for its shortcuts: a key pressed before is lost."""
    expect(page.locator("body[data-keys=ready]")).to_have_count(1)


def test_a_comment_from_the_demo_through_the_queue_and_tuning(
    browser: Any, web: WebService, artifacts: Path
) -> None:
    errors: list[str] = []
    reader = open_page(browser, errors)
    reader.goto(f"{web.url}/demo")
    published = reader.get_by_role("list", name="Published comments")
    pending = reader.locator(".comment.pending")
    post_comment(reader, "June", BENIGN)
    expect(published).to_contain_text(BENIGN)
    post_comment(reader, "Rex", TOXIC)
    expect(pending).to_contain_text("Your comment is awaiting review.")
    expect(pending).to_contain_text(TOXIC_SENTENCE)
    expect(published).not_to_contain_text(TOXIC_SENTENCE)
    reader.screenshot(path=artifacts / "demo.png", full_page=True)

    # The moderator signs in and finds it at the top, its toxic sentence marked.
    mod = open_page(browser, errors)
    mod.goto(f"{web.url}/queue")
    expect(mod).to_have_url(re.compile(r"/signin\?next=/queue$"))
    mod.screenshot(path=artifacts / "signin.png")
    sign_in_with_keyboard(mod, "maria")
    expect(mod).to_have_url(f"{web.url}/queue")
    top = mod.locator(".card").first
    expect(top.locator(".text")).to_contain_text(TOXIC_SENTENCE)
    expect(top.locator("mark.trigger", has_text="pathetic idiot")).to_have_count(1)
    expect(top.locator("mark.trigger", has_text="cheese counter")).to_have_count(0)
    expect(top).to_contain_text("by you")
    expect(top.locator(".bar-row.over").first).to_be_visible()
    mod.screenshot(path=artifacts / "queue.png", full_page=True)
    card = mod.locator(f"#c-{top.get_attribute('data-id')}")
    toast = mod.locator("#toast")

    # a: approved, gone from the queue, published on the article.
    queue_keys_ready(mod)
    mod.keyboard.press("a")
    expect(card).to_have_count(0)
    expect(toast).to_contain_text("Approved the comment.")
    mod.screenshot(path=artifacts / "queue-approved.png")
    reader.reload()
    expect(published).to_contain_text(TOXIC_SENTENCE)
    expect(pending).to_have_count(0)

    # u: undone, back in the queue, off the article again.
    mod.keyboard.press("u")
    expect(card).to_have_count(1)
    expect(toast).to_contain_text("Undone")
    reader.reload()
    expect(published).not_to_contain_text(TOXIC_SENTENCE)
    expect(pending).to_contain_text("Your comment is awaiting review.")

    # o opens the comment page: full text, sentences, and every audit entry.
    mod.keyboard.press("o")
    expect(mod).to_have_url(re.compile(r"/comments/cmt_\w+$"))
    history = mod.get_by_role("region", name="History")
    for entry in ("Decided automatically", "Moderator decision", "Decision undone"):
        expect(history).to_contain_text(entry)
    mod.screenshot(path=artifacts / "comment.png", full_page=True)

    # r opens the reason picker; 2 picks "harassment"; Enter rejects.
    mod.go_back()
    expect(mod.locator(".card")).to_have_count(1)
    queue_keys_ready(mod)
    mod.keyboard.press("r")
    dialog = mod.get_by_role("dialog", name=re.compile("Reject"))
    expect(dialog).to_be_visible()
    mod.keyboard.press("2")
    expect(dialog.get_by_label(re.compile("Harassment"))).to_be_checked()
    mod.screenshot(path=artifacts / "queue-reject-dialog.png")
    mod.keyboard.press("Enter")
    expect(mod.locator(".card")).to_have_count(0)
    expect(toast).to_contain_text("Rejected the comment.")
    expect(mod.get_by_role("heading", name="Nothing is waiting")).to_be_visible()

    # The operator lowers the toxicity threshold and sees the hold rate rise, then saves.
    op = open_page(browser, errors)
    op.goto(f"{web.url}/signin")
    sign_in_with_keyboard(op, "omar")
    expect(op).to_have_url(f"{web.url}/sites/demo")
    hold_rate = op.locator('[data-metric="hold_rate"]')
    expect(hold_rate.locator("[data-now]")).to_have_text("50.0%")
    expect(op.locator('[data-metric="precision"] [data-now]')).to_have_text("100.0%")
    op.locator("#threshold-toxicity").focus()
    op.keyboard.press("Home")
    expect(op.locator("#out-toxicity")).to_have_text("0.00")
    expect(hold_rate.locator("[data-proposed]")).to_have_text("100.0%")
    expect(hold_rate).to_have_class(re.compile("changed"))
    expect(op.locator("#chart .proposed")).to_have_attribute("transform", "translate(40.0 0)")
    op.screenshot(path=artifacts / "settings.png", full_page=True)
    op.get_by_role("button", name="Save policy").click()
    expect(op.locator(".flash")).to_contain_text("Saved.")
    latest = op.locator("#audit > li").first
    expect(latest).to_contain_text("Policy saved")
    expect(latest).to_contain_text("omar")
    expect(latest).to_contain_text(re.compile(r"Toxicity threshold 0\.\d\d → 0\.00"))
    expect(op.locator("#threshold-toxicity")).to_have_value("0")
    op.screenshot(path=artifacts / "settings-saved.png", full_page=True)
    assert errors == []


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map((e) => e.outerHTML)"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def test_pages_fit_a_phone_and_label_every_field(
    browser: Any, web: WebService, artifacts: Path
) -> None:
    errors: list[str] = []
    page = open_page(browser, errors, PHONE)
    page.goto(f"{web.url}/demo")
    post_comment(
        page,
        "Kit",
        "Stop whining, you worthless moron. Nobody cares about your stupid nitwit market.",
    )
    expect(page.locator(".comment.pending")).to_contain_text("awaiting review")
    page.screenshot(path=artifacts / "demo-phone.png", full_page=True)
    checks = [("demo", "/demo")]
    page.goto(f"{web.url}/signin")
    sign_in_with_keyboard(page, "maria")
    expect(page.locator(".card")).not_to_have_count(0)
    page.screenshot(path=artifacts / "queue-phone.png", full_page=True)
    checks.append(("queue", "/queue"))
    comment = page.locator(".card a", has_text="Details").first.get_attribute("href")
    checks.append(("comment", str(comment)))
    operator = open_page(browser, errors, PHONE)
    operator.goto(f"{web.url}/signin")
    sign_in_with_keyboard(operator, "omar")
    expect(operator).to_have_url(f"{web.url}/sites/demo")
    operator.screenshot(path=artifacts / "settings-phone.png", full_page=True)
    for name, path in [*checks, ("settings", "/sites/demo")]:
        viewer = operator if name == "settings" else page
        viewer.goto(f"{web.url}{path}")
        if name == "comment":
            viewer.screenshot(path=artifacts / "comment-phone.png", full_page=True)
        assert viewer.evaluate(OVERFLOW) <= 0, f"{name} scrolls sideways at phone width"
        assert viewer.evaluate(UNLABELLED) == [], f"{name} has fields without labels"
    # Tab reaches the first queue action with a visible focus ring.
    page.goto(f"{web.url}/queue")
    approve = page.locator(".card").first.get_by_role("button", name=re.compile("Approve"))
    approve.focus()
    outline = approve.evaluate("(e) => getComputedStyle(e).outlineStyle")
    assert outline == "solid"
    assert errors == []


def test_bulk_decisions_undo_together_and_help_lists_the_keys(
    browser: Any, web: WebService, artifacts: Path
) -> None:
    errors: list[str] = []
    reader = open_page(browser, errors)
    reader.goto(f"{web.url}/demo")
    for text in (
        "You are a disgusting idiot and your opinion is garbage.",
        "Shut up, you stupid clown. Everyone thinks you are an idiot.",
    ):
        post_comment(reader, "Vic", text)
    expect(reader.locator(".comment.pending")).to_have_count(2)
    mod = open_page(browser, errors)
    mod.goto(f"{web.url}/signin")
    sign_in_with_keyboard(mod, "maria")
    cards = mod.locator(".card")
    expect(cards).not_to_have_count(0)
    before = cards.count()
    queue_keys_ready(mod)
    mod.keyboard.press("?")
    help_dialog = mod.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_contain_text("Undo the last decision")
    mod.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    mod.keyboard.press("x")
    mod.keyboard.press("j")
    mod.keyboard.press("x")
    expect(mod.locator("#bulkbar")).to_contain_text("2 selected")
    mod.screenshot(path=artifacts / "queue-bulk.png")
    mod.get_by_role("button", name="Approve selected").click()
    expect(cards).to_have_count(before - 2)
    expect(mod.locator("#toast")).to_contain_text("Approved 2 comments.")
    expect(mod.locator("#bulkbar")).to_be_hidden()
    mod.keyboard.press("u")
    expect(cards).to_have_count(before)
    expect(mod.locator("#toast")).to_contain_text("2 comments are back in the queue")
    assert errors == []


def boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two bounding boxes (Playwright's x, y, width, height) share any area."""
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_a_wrong_password_keeps_the_name_and_puts_the_cursor_in_the_password(
    browser: Any, web: WebService
) -> None:
    errors: list[str] = []
    page = open_page(browser, errors)
    page.goto(f"{web.url}/signin")
    # The page puts the cursor in the name box itself; type only once it has (on a busy
    # machine the first keys could otherwise arrive before the focus does).
    expect(page.get_by_label("Name")).to_be_focused()
    page.keyboard.type("maria")
    page.keyboard.press("Tab")
    page.keyboard.type("not the password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    expect(page.get_by_label("Name")).to_have_value("maria")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORDS["maria"])
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{web.url}/queue")
    # The one console error is the browser noting the refused sign-in's 401.
    assert [e for e in errors if "status of 401" not in e] == []


def test_a_rejection_waits_for_the_moderator_to_pick_a_reason(
    browser: Any, web: WebService
) -> None:
    errors: list[str] = []
    reader = open_page(browser, errors)
    reader.goto(f"{web.url}/demo")
    post_comment(reader, "Ivo", "You pathetic nitwit, nobody wants your stupid opinions here.")
    expect(reader.locator(".comment.pending")).to_contain_text("awaiting review")
    mod = open_page(browser, errors)
    mod.goto(f"{web.url}/signin")
    sign_in_with_keyboard(mod, "maria")
    card = mod.locator(".card", has_text="nobody wants your stupid opinions")
    expect(card).to_have_count(1)
    # The queue's picker: nothing chosen; Enter alone rejects nothing.
    card.focus()
    queue_keys_ready(mod)
    mod.keyboard.press("r")
    dialog = mod.get_by_role("dialog", name=re.compile("Reject"))
    expect(dialog).to_be_visible()
    expect(dialog.locator('input[name="reason"]:checked')).to_have_count(0)
    mod.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    mod.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(card).to_have_count(1)
    # The comment's page: the reason select starts empty and must be chosen.
    card.get_by_role("link", name="Details").click()
    reason = mod.get_by_label("Reason")
    expect(reason).to_have_value("")
    mod.get_by_role("button", name="Reject", exact=True).click()
    assert reason.evaluate("(e) => e.validity.valueMissing")
    expect(mod.locator(".status")).to_have_text("held")
    reason.select_option("spam")
    mod.get_by_role("button", name="Reject", exact=True).click()
    expect(mod).to_have_url(f"{web.url}/queue")
    expect(mod.locator(".flash")).to_contain_text("Rejected the comment.")
    assert errors == []


def test_the_chart_labels_stay_apart_and_inside_the_plot(browser: Any, web: WebService) -> None:
    errors: list[str] = []
    op = open_page(browser, errors)
    op.goto(f"{web.url}/signin")
    sign_in_with_keyboard(op, "omar")
    expect(op).to_have_url(f"{web.url}/sites/demo")
    # Measured once the stylesheet applies: a layout before it is not the page users see.
    op.wait_for_load_state("load")
    chart = op.locator("#chart")

    def check(state: str) -> None:
        # The three boxes in one frame, so a layout between two reads cannot mix them;
        # the first grid line spans the plot from left to right.
        boxes = chart.evaluate(
            """(c) => Object.fromEntries(
                [["now", ".current text"], ["proposed", ".proposed text"], ["plot", "line.grid"]]
                  .map(([key, sel]) => {
                    const r = c.querySelector(sel).getBoundingClientRect();
                    return [key, { x: r.x, y: r.y, width: r.width, height: r.height }];
                  }))"""
        )
        now, proposed, plot = boxes["now"], boxes["proposed"], boxes["plot"]
        assert now["width"] and proposed["width"] and plot["width"]
        assert not boxes_overlap(now, proposed), (state, now, proposed)
        for label in (now, proposed):
            assert plot["x"] - 0.5 <= label["x"], (state, label, plot)
            assert label["x"] + label["width"] <= plot["x"] + plot["width"] + 0.5, (state, label)

    select = op.get_by_label("Chart")
    for category in select.locator("option").evaluate_all("(os) => os.map((o) => o.value)"):
        select.select_option(category)  # now and proposed at the same threshold
        check(f"{category}, equal thresholds")
    op.locator("#threshold-toxicity").focus()
    for key in ("End", "Home"):  # proposed at either end, now where it was saved
        op.keyboard.press(key)
        check(f"toxicity after {key}")
    assert errors == []


def test_the_toast_never_covers_the_current_cards_scores(browser: Any, web: WebService) -> None:
    errors: list[str] = []
    reader = open_page(browser, errors)
    reader.goto(f"{web.url}/demo")
    for i in range(5):
        post_comment(reader, "Una", f"Shut up, you worthless nitwit number {i}. You are pathetic.")
    expect(reader.locator(".comment.pending")).to_have_count(5)
    # On a phone a card is taller than half the screen: its score bars are near its foot,
    # where the toast shows.
    mod = open_page(browser, errors, PHONE)
    mod.goto(f"{web.url}/signin")
    sign_in_with_keyboard(mod, "maria")
    expect(mod.locator(".card")).not_to_have_count(0)
    toast = mod.locator("#toast")
    queue_keys_ready(mod)
    for _ in range(2):
        decided = mod.locator(f"#c-{mod.locator('.card.current').get_attribute('data-id')}")
        mod.keyboard.press("a")
        expect(decided).to_have_count(0)
        expect(toast).to_be_visible()
        bars = mod.locator(".card.current .bars").bounding_box()
        shown = toast.bounding_box()
        assert bars and shown and not boxes_overlap(bars, shown), (bars, shown)
    assert errors == []
