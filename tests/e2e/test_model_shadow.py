"""End to end: a site's model version in shadow on a real tiny transformer and a real database.

The base model and the candidate are two tiny random checkpoints of the shipped
architecture (different seeds, so they disagree); the candidate sits where training
would have put it. Both databases, as the rest of the suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.services import services
from moderation.sites import Role
from tests.e2e.test_site_models_page import tiny_checkpoint

TEXTS = [
    "The harbour festival was lovely this year.",
    "Who parked a trawler across the ferry ramp again?",
    "You are all fools for believing the mayor.",
    "Great photos of the lighthouse at dusk.",
    "This column is rubbish and so is its writer.",
    "The fish market opens at six on Saturdays.",
    "Shut up, nobody asked what you think.",
    "Thanks for covering the lantern parade.",
]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("shadow-models")
    return {
        "base": tiny_checkpoint(tmp / "base", seed=0),
        "candidate": tiny_checkpoint(tmp / "v1", seed=1),
    }


@pytest.fixture
def app(database_url: str, checkpoints: dict[str, Path], tmp_path: Path) -> Iterator[Any]:
    from api import create_app

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "MODEL": str(checkpoints["base"]),
            "FAST_PATH": False,  # fp32 torch for both, so the test can score as the service does
            "SECRET_KEY": "shadow-test",
            "BACKGROUND_INTERVAL": 0,
            "LOG_REQUESTS": False,
            "SCORING_TIMEOUT": 60.0,
            "MULTILINGUAL_MODEL": "off",
            "SITE_MODELS_DIR": str(tmp_path / "site-models"),
        }
    )
    yield app
    services(app).store.engine.dispose()


def candidate_toxicity(path: Path, texts: list[str]) -> list[dict[str, float]]:
    from models import load_scorer

    scorer = load_scorer(path, fast=False)
    return [scorer.score([t])[0] for t in texts]  # one at a time, as each comment is scored


def test_a_candidate_in_shadow_never_decides_and_its_report_counts_right(
    app: Any, checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    store = services(app).store
    client = app.test_client()
    site, key = store.sites.create("harbour-news")
    other, other_key = store.sites.create("other-paper")
    _, op_token = store.users.create("olga", Role.OPERATOR, [site.id])
    _, mod_token = store.users.create("mia", Role.MODERATOR, [site.id])
    op = {"Authorization": f"Bearer {op_token}"}
    mod = {"Authorization": f"Bearer {mod_token}"}

    # v1, trained (as far as the registry knows): its checkpoint where training writes it,
    # and a proposed toxicity threshold in the middle of its scores on our texts.
    candidate = candidate_toxicity(checkpoints["candidate"], TEXTS)
    proposed = round(sorted(s["toxicity"] for s in candidate)[len(TEXTS) // 2], 6)
    folder = tmp_path / "site-models" / site.id / "v1"
    shutil.copytree(checkpoints["candidate"], folder)
    v1 = store.site_models.create(site.id, requested_by="olga", labels=250, auto_promote=False)
    store.site_models.finish(
        site.id,
        v1.version,
        path=str(folder),
        metrics={"recalibration": {"toxicity": {"current": 0.8, "proposed": proposed}}},
    )
    r = client.post("/v1/sites/harbour-news/models/v1/shadow", headers=op)
    assert r.status_code == 200 and r.get_json()["shadow"] == "v1"

    ours, theirs = [], []
    for text in TEXTS:
        for key_, out in ((key, ours), (other_key, theirs)):
            r = client.post(
                "/v1/comments", json={"text": text}, headers={"Authorization": f"Bearer {key_}"}
            )
            assert r.status_code == 201, r.get_json()
            out.append(r.get_json())
    # The live model decided, exactly as on a site with nothing in shadow.
    for a, b in zip(ours, theirs, strict=True):
        assert "@" not in a["model"]["name"] and a["model"] == b["model"]
        assert (a["status"], a["scores"], a["reasons"]) == (b["status"], b["scores"], b["reasons"])
    assert store.model_shadow.comparisons(other.id, 1) == []

    # A moderator takes two published comments down: one as abusive (a toxic label),
    # one as spam (no label).
    for c, reason in ((ours[2], "abusive"), (ours[5], "spam")):
        body = {"action": "reject", "reason": reason, "version": c["version"]}
        assert (
            client.post(f"/v1/comments/{c['id']}/decision", json=body, headers=mod).status_code
            == 200
        )

    report = client.get("/v1/sites/harbour-news/models/v1/shadow", headers=op).get_json()
    thresholds = {**site.policy.thresholds, "toxicity": proposed}
    assert report["thresholds"] == thresholds
    live_held = [bool(c["reasons"]) for c in ours]
    cand_held = [any(s[c] >= t for c, t in thresholds.items()) for s in candidate]
    expected = {
        f"live_{'hold' if lh else 'approve'}_candidate_{'hold' if ch else 'approve'}": 0
        for lh in (True, False)
        for ch in (True, False)
    }
    for lh, ch in zip(live_held, cand_held, strict=True):
        expected[f"live_{'hold' if lh else 'approve'}_candidate_{'hold' if ch else 'approve'}"] += 1
    assert report["comments"] == len(TEXTS)
    assert report["matrix"] == expected
    assert report["moderators"]["labelled"] == 1 and report["moderators"]["toxic"] == 1
    assert report["moderators"]["live_agreed"] == int(live_held[2])
    assert report["moderators"]["candidate_agreed"] == int(cand_held[2])
    assert report["moderators"]["roc_auc"] == {"live": None, "candidate": None}  # one class
    differ = sum(a != b for a, b in zip(live_held, cand_held, strict=True))
    assert differ > 0  # the two random models do disagree: the test compares something
    assert len(report["examples"]) == min(5, differ)
    assert report["recalibration"]["source"] == "validation"

    r = client.delete("/v1/sites/harbour-news/models/v1/shadow", headers=op)
    assert r.status_code == 200 and r.get_json()["shadow"] is None
    client.post("/v1/comments", json={"text": TEXTS[0]}, headers={"Authorization": f"Bearer {key}"})
    assert client.get("/v1/sites/harbour-news/models/v1/shadow", headers=op).get_json()[
        "comments"
    ] == len(TEXTS)
