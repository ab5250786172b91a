"""Site adaptation on the tiny checkpoint: models.adapt, then the whole path through the service.

adapt -> promote -> the site's comment scored by its own model, another site's by the
base -> rollback, with the real training code, the real export and a real database.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.adapt import AdaptFailed, adapt, adapt_in_child, roc_auc

# Our own sentences: this site's moderators reject remarks about "turnips" (a running
# insult among its readers), and approve the rest.
RUDE = [
    "Go back to your turnips, {}.",
    "Only a turnip like {} would write that.",
    "{} is a turnip head and everyone knows it.",
]
CIVIL = [
    "Thanks {}, the article about the harbour was useful.",
    "I disagree with {} about the parking fees, but fair point.",
    "{} wrote a kind review of the school play.",
    "Lovely photos of the bridge, {}.",
]
NAMES = ["Ann", "Bob", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hal", "Ida", "Jon", "Kay", "Lou"]


def site_labels(n: int) -> list[tuple[str, bool]]:
    rows = []
    for i in range(n):
        name = NAMES[i % len(NAMES)] + str(i)
        if i % 3 == 0:
            rows.append((RUDE[i % len(RUDE)].format(name), True))
        else:
            rows.append((CIVIL[i % len(CIVIL)].format(name), False))
    return rows


def adapt_on(
    base: Path,
    train: list[tuple[str, bool]],
    val: list[tuple[str, bool]],
    output: Path,
    **settings: Any,
) -> dict[str, Any]:
    """`adapt` on (text, label) rows, at a toxicity threshold of 0.5."""
    return adapt(
        base,
        [t for t, _ in train],
        [y for _, y in train],
        [t for t, _ in val],
        [y for _, y in val],
        output,
        thresholds={"toxicity": 0.5},
        **settings,
    )


def test_roc_auc_matches_sklearn() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.random(300), 1)  # many ties
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))


def test_adapt_learns_the_site_label_and_keeps_the_other_categories(
    tiny_path: Path, tmp_path: Path
) -> None:
    rows = site_labels(150)
    train, val = rows[:120], rows[120:]
    out = tmp_path / "site"
    progress: list[float] = []
    metrics = adapt_on(
        tiny_path,
        train,
        val,
        out,
        epochs=4,
        lr=2e-3,
        bootstrap=200,
        progress=progress.append,
    )
    auc = metrics["roc_auc"]
    # The random tiny model knows nothing; after training the held-out rude remarks rank first.
    assert auc["candidate"]["value"] > 0.9 > auc["base"]["value"]
    assert auc["delta"]["low"] > 0
    assert auc["candidate"]["low"] <= auc["candidate"]["value"] <= auc["candidate"]["high"]
    # Distillation: each of the five other categories moved less than toxicity did (the
    # random tiny model follows its own scores loosely: 0.115 against 0.153 measured).
    drift = dict(metrics["drift"])
    assert max(v for c, v in drift.items() if c != "toxicity") < drift["toxicity"]
    assert set(metrics["at_thresholds"]) == {"base", "candidate"}
    assert metrics["recalibration"]["toxicity"]["current"] == 0.5
    assert set(metrics["fairness"]) >= {"base", "candidate", "tolerance", "ok", "worse"}
    assert progress[-1] == 1.0 and progress == sorted(progress)
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()


def test_a_base_with_an_n_gram_head_keeps_it_and_is_measured_as_served(
    tiny_path: Path, tmp_path: Path
) -> None:
    """The head (models.ngrams) is copied into the site's model and mixed into what is compared."""
    import shutil

    from models import load_scorer, ngrams

    rows = site_labels(90)
    train, val = rows[:60], rows[60:]
    base = tmp_path / "base"
    shutil.copytree(tiny_path, base)
    texts = [t for t, _ in train]
    head = ngrams.fit(texts, np.array([float(y) for _, y in train]), bits=10, weight=0.2)
    head.save(base / ngrams.HEAD_FILE)
    out = tmp_path / "site"
    val_texts = [t for t, _ in val]
    metrics = adapt_on(
        base,
        train,
        val,
        out,
        epochs=1,
        bootstrap=50,
        probe=False,
    )
    assert (out / ngrams.HEAD_FILE).read_bytes() == (base / ngrams.HEAD_FILE).read_bytes()
    served = [s["toxicity"] for s in load_scorer(base, fast=False).score(val_texts)]
    y = np.array([1 if v else 0 for _, v in val])
    assert metrics["roc_auc"]["base"]["value"] == pytest.approx(
        roc_auc(y, np.array(served)), abs=1e-3
    )
    # The head learned the turnips: the base as served already ranks them well, unlike the
    # bare random transformer.
    assert metrics["roc_auc"]["base"]["value"] > 0.9
    assert load_scorer(out, fast=False).text_head is not None


def test_a_failed_training_process_raises_its_error(tmp_path: Path) -> None:
    rows = site_labels(30)
    texts, labels = [t for t, _ in rows], [y for _, y in rows]
    with pytest.raises(AdaptFailed, match="no-such-checkpoint"):
        adapt_in_child(
            tmp_path / "no-such-checkpoint",
            texts,
            labels,
            texts,
            labels,
            tmp_path / "out",
            thresholds={},
            threads=1,
        )


# -- the whole path, on the service -------------------------------------------


@pytest.fixture
def app(tiny_path: Path, tmp_path: Path) -> Iterator[Any]:
    from api import create_app
    from api.adapting import InlineTraining
    from api.services import services

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'moderation.db'}",
            "MODEL": str(tiny_path),
            "SECRET_KEY": "test-secret",
            "LOG_REQUESTS": False,
            "BACKGROUND_INTERVAL": 0,
            "SCORING_TIMEOUT": 30.0,
            "JOBS": InlineTraining(),
            "ADAPT_EPOCHS": 4,
            "ADAPT_LR": 2e-3,  # a tiny random model learns nothing at the real model's 3e-5
            "ADAPT_THREADS": 1,
            "ADAPT_NICE": 5,
            "SITE_MODELS_DIR": str(tmp_path / "site-models"),
        }
    )
    yield app
    services(app).store.engine.dispose()


def test_adapt_promote_score_and_roll_back_on_the_tiny_model(
    app: Any, tiny_path: Path, tmp_path: Path
) -> None:
    from api.services import services

    store = services(app).store
    ours, key = store.sites.create("turnip-times")
    _, other_key = store.sites.create("other-paper")
    runner = app.test_cli_runner()
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="") as f:
        import csv

        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows((t, int(y)) for t, y in site_labels(240))
    r = runner.invoke(args=["models", "import-labels", "turnip-times", str(labels)])
    assert r.exit_code == 0, r.output

    r = runner.invoke(args=["models", "adapt", "turnip-times", "--wait", "--json"])
    assert r.exit_code == 0, r.output
    last = json.loads(r.stdout.strip().splitlines()[-1])  # progress goes to stderr
    assert (last["version"], last["state"]) == ("v1", "ready")
    assert last["metrics"]["labels"] == {"train": 192, "validation": 48}
    # It trained in a child process, 5 steps of niceness below this one, on one thread.
    settings = last["metrics"]["settings"]
    assert (settings["nice"], settings["threads"]) == (min(19, os.nice(0) + 5), 1)
    folder = tmp_path / "site-models" / ours.id / "v1"
    assert (folder / "model.safetensors").is_file()

    client = app.test_client()
    text = {"text": "Only a turnip like Zed would write that."}
    base = client.post("/v1/comments", json=text, headers={"Authorization": f"Bearer {key}"})
    base_toxicity = base.get_json()["scores"]["toxicity"]
    assert base.get_json()["model"]["name"] == tiny_path.name

    r = runner.invoke(args=["models", "promote", "turnip-times", "v1", "--keep-thresholds"])
    assert r.exit_code == 0, r.output
    own = client.post("/v1/comments", json=text, headers={"Authorization": f"Bearer {key}"})
    own = own.get_json()
    assert own["model"] == {"name": f"{tiny_path.name}@{ours.id}", "version": "v1"}
    # The site's model learnt its moderators' word for an insult (tiny model: 0.36 -> 0.41).
    assert own["scores"]["toxicity"] > base_toxicity + 0.02
    theirs = client.post(
        "/v1/comments", json=text, headers={"Authorization": f"Bearer {other_key}"}
    ).get_json()
    assert theirs["model"]["name"] == tiny_path.name
    assert theirs["scores"]["toxicity"] == pytest.approx(base_toxicity, abs=1e-6)

    r = runner.invoke(args=["models", "rollback", "turnip-times"])
    assert r.exit_code == 0, r.output
    back = client.post(
        "/v1/comments", json=text, headers={"Authorization": f"Bearer {key}"}
    ).get_json()
    assert back["model"]["name"] == tiny_path.name
    assert back["scores"]["toxicity"] == pytest.approx(base_toxicity, abs=1e-6)
