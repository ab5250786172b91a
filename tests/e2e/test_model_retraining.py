"""End to end: a site that opted in gets a new model from its moderators' labels by itself.

Labels arrive through the decision endpoint and an import, the periodic job
(`site_models.retrain`, as a worker's scheduler enqueues it) requests a version, the real
adapter trains it in its child process from a tiny random checkpoint of the shipped
architecture, and it serves the site by itself iff it beats the base model. Both
databases, as the rest of the suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.services import services
from moderation.sites import Role
from tests.e2e.test_site_models_page import tiny_checkpoint


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("retrain") / "tiny", seed=0)


@pytest.fixture
def app(database_url: str, base: Path, tmp_path: Path) -> Iterator[Any]:
    from api import create_app

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "MODEL": str(base),
            "SECRET_KEY": "retrain-test",
            "BACKGROUND_INTERVAL": 0,
            "LOG_REQUESTS": False,
            "SCORING_TIMEOUT": 60.0,
            "MULTILINGUAL_MODEL": "off",
            "SITE_MODELS_DIR": str(tmp_path / "site-models"),
            "ADAPT_EPOCHS": 4,
            "ADAPT_LR": 2e-3,  # a tiny random model learns nothing at the real model's 3e-5
        }
    )
    yield app
    services(app).store.engine.dispose()


WORDS = ("rat", "cat")  # "you are a harbour rat" is the site's insult; "cat" is fond


def labels_csv(base: Path, n: int) -> str:
    """n labels, every third the insult, worded so that the base model ranks them backwards.

    A random tiny model tells the two words apart by chance, one way or the other; the
    site's labels say the word the base model scores lower is the insult, so the base
    model's ROC-AUC is low and a version that learnt the site's norm clearly beats it.
    """
    from models import load_scorer

    scorer = load_scorer(base, fast=False)
    low, high = sorted(
        WORDS, key=lambda w: scorer.score([f"Reader 1, you are a harbour {w}."])[0]["toxicity"]
    )
    rows = ["text,label"]
    for i in range(n):
        word, toxic = (low, 1) if i % 3 == 0 else (high, 0)
        rows.append(f'"Reader {i}, you are a harbour {word}.",{toxic}')
    return "\n".join(rows) + "\n"


def test_labels_then_the_periodic_job_train_a_version_that_serves_when_it_wins(
    app: Any, base: Path
) -> None:
    from api.adapting import RETRAIN_JOB
    from api.jobs import jobs, schedule_once

    store = services(app).store
    client = app.test_client()
    site, key = store.sites.create("harbour-news")
    _, op_token = store.users.create("olga", Role.OPERATOR, [site.id])
    _, mod_token = store.users.create("mia", Role.MODERATOR, [site.id])
    op = {"Authorization": f"Bearer {op_token}"}
    mod = {"Authorization": f"Bearer {mod_token}"}
    site_h = {"Authorization": f"Bearer {key}"}

    r = client.put(
        "/v1/sites/harbour-news/models/settings",
        json={"auto_promote": True, "retrain_after_labels": 200},
        headers=op,
    )
    assert r.status_code == 200, r.get_json()
    # Moderators' decisions on posted comments, and an import, are the site's labels.
    for i, (text, action) in enumerate(
        [
            ("You are a liar and a fraud.", ("reject", "abusive")),
            ("Lovely lantern parade photos.", ("approve", None)),
        ]
    ):
        c = client.post("/v1/comments", json={"text": text}, headers=site_h).get_json()
        body = {
            "action": action[0],
            "version": c["version"],
            **({"reason": action[1]} if action[1] else {}),
        }
        r = client.post(f"/v1/comments/{c['id']}/decision", json=body, headers=mod)
        assert r.status_code == 200, (i, r.get_json())
    r = client.post(
        "/v1/sites/harbour-news/labels",
        data=labels_csv(base, 220),
        headers={**op, "Content-Type": "text/csv"},
    )
    assert r.status_code == 201 and r.get_json()["labels"]["from_decisions"] == 2

    def due(job: str, every: float) -> bool:
        return job == RETRAIN_JOB  # this look, not webhooks' or retention's

    assert schedule_once(app, due) == [RETRAIN_JOB]
    jobs(app).wait_idle()  # the look, then the training it enqueued (a child process)

    view = client.get("/v1/sites/harbour-news/models", headers=op).get_json()
    (v1,) = view["models"]
    assert (v1["version"], v1["requested_by"], v1["auto_promote"]) == ("v1", "system", True)
    assert v1["state"] in ("ready", "serving"), v1["error"]
    metrics = v1["metrics"]
    assert metrics["labels"] == {"train": 178, "validation": 44}
    wins = metrics["wins"]
    # The rule: it serves by itself iff it wins (the site opted in).
    assert view["serving"] == ("v1" if wins else None)
    assert wins, {
        k: metrics.get(k) for k in ("roc_auc", "fairness")
    }  # the tiny model does learn the site's "harbour rat"
    assert (Path(app.config["SITE_MODELS_DIR"]) / site.id / "v1").is_dir()
    ours = client.post("/v1/comments", json={"text": "You harbour rat."}, headers=site_h).get_json()
    assert ours["model"]["version"] == "v1" and "@" in ours["model"]["name"]

    # No new labels since v1's training: the next look requests nothing.
    schedule_once(app, due)
    jobs(app).wait_idle()
    assert len(client.get("/v1/sites/harbour-news/models", headers=op).get_json()["models"]) == 1
