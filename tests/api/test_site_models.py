"""Sites' adapted models through the API and the CLI (fake adapter and site model; both databases).

The real training and the real model are exercised in tests/e2e/test_site_models.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from api.adapting import InlineTraining
from api.services import services
from moderation.site_models import AdaptRequest, ModelSettings
from moderation.sites import Role
from tests.fakes import KeywordScorer


class SiteNorms(KeywordScorer):
    """The site's adapted model: the base fake, and 'rapscallion' is toxic on this site."""

    def __init__(self, name: str, version: str) -> None:
        super().__init__()
        self.name, self.version = name, version

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        out = super().score(texts)
        for text, scores in zip(texts, out, strict=True):
            if "rapscallion" in text.lower():
                scores["toxicity"] = 0.95
        return out


class FakeAdapter:
    """Records what it was asked to train on; answers metrics shaped like models.adapt's."""

    def __init__(self) -> None:
        self.requests: list[AdaptRequest] = []
        self.fail: Exception | None = None
        self.delta_low = 0.02

    def adapt(self, request: AdaptRequest, progress: Callable[[float], None]) -> Mapping[str, Any]:
        self.requests.append(request)
        progress(0.5)
        if self.fail:
            raise self.fail
        request.output.mkdir(parents=True)
        return {
            "roc_auc": {
                "base": {"value": 0.8, "low": 0.75, "high": 0.85},
                "candidate": {"value": 0.88, "low": 0.84, "high": 0.92},
                "delta": {"value": 0.08, "low": self.delta_low, "high": 0.12},
            },
            "recalibration": {"toxicity": {"current": 0.8, "proposed": 0.7}},
            "fairness": {"ok": True, "worse": []},
        }


@pytest.fixture
def adapter() -> FakeAdapter:
    return FakeAdapter()


@pytest.fixture
def app(
    database_url: str, scorer: KeywordScorer, tmp_path: Path, adapter: FakeAdapter
) -> Iterator[Any]:
    from api import create_app

    loaded: list[str] = []

    def load(key: str) -> SiteNorms:
        loaded.append(key)
        return SiteNorms(f"keyword-fake@{key.split('/')[0]}", key.split("/")[1])

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SCORER": scorer,
            "MODEL": str(tmp_path / "no-checkpoint"),
            "SECRET_KEY": "test-secret",
            "SCORING_TIMEOUT": 2.0,
            "LOG_REQUESTS": False,
            "ADAPTER": adapter,
            "JOBS": InlineTraining(),
            "SITE_MODEL_LOADER": load,
            "SITE_MODELS_DIR": str(tmp_path / "site-models"),
        }
    )
    app.config["LOADED_SITE_MODELS"] = loaded
    yield app
    services(app).store.engine.dispose()


@pytest.fixture
def op(app: Any, site_key: str) -> dict[str, str]:
    store = services(app).store
    bugle = store.sites.get("daily-bugle")
    _, token = store.users.create("op", Role.OPERATOR, [bugle.id])
    return {"Authorization": f"Bearer {token}"}


def csv_of(rows: list[tuple[str, int]]) -> str:
    lines = ["text,label"] + [f'"{t}",{y}' for t, y in rows]
    return "\n".join(lines) + "\n"


def labels(n: int) -> list[tuple[str, int]]:
    """n labels of our own: every third a rude one (a 'rapscallion' remark), the rest civil."""
    return [
        (
            f"You rapscallion number {i}." if i % 3 == 0 else f"Civil remark number {i}.",
            int(i % 3 == 0),
        )
        for i in range(n)
    ]


def post_csv(
    client: Any, headers: dict[str, str], body: str | bytes, site: str = "daily-bugle"
) -> Any:
    return client.post(
        f"/v1/sites/{site}/labels", data=body, headers={**headers, "Content-Type": "text/csv"}
    )


def test_import_labels_through_the_api(client: Any, op: dict[str, str]) -> None:
    r = post_csv(client, op, csv_of(labels(30)))
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {
        "imported": 30,
        "labels": {
            "total": 30,
            "toxic": 10,
            "acceptable": 20,
            "from_decisions": 0,
            "imported": 30,
            "minimum": 200,
        },
    }
    assert client.get("/v1/sites/daily-bugle/labels", headers=op).get_json()["total"] == 30
    audit = client.get("/v1/sites/daily-bugle/audit", headers=op).get_json()["entries"]
    assert audit[0]["action"] == "labels.import"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("text,label\nA remark,2\n", 422, "Line 2: the label must be 0 or 1"),
        ('text,label\nA remark,1\n"broken,0\n', 422, "not valid CSV"),
        ("comment,insult\nA remark,1\n", 422, "header"),
        (b"text,label\n\xff\xfe,1\n", 422, "UTF-8"),
    ],
)
def test_bad_label_files_store_nothing(
    client: Any, op: dict[str, str], body: str | bytes, status: int, message: str
) -> None:
    # A good row first: a bad one later must not leave it half-imported.
    r = post_csv(client, op, body)
    assert r.status_code == status
    error = r.get_json()["error"]
    assert set(error) == {"code", "status", "message", "details"} and message in error["message"]
    assert client.get("/v1/sites/daily-bugle/labels", headers=op).get_json()["total"] == 0


def test_label_bodies_must_be_csv_and_within_the_limit(
    app: Any, client: Any, op: dict[str, str]
) -> None:
    r = client.post("/v1/sites/daily-bugle/labels", json={"text": "x", "label": 1}, headers=op)
    assert r.status_code == 415 and r.get_json()["error"]["status"] == 415
    r = client.post("/v1/sites/daily-bugle/labels", headers={**op, "Content-Type": "text/csv"})
    assert r.status_code == 422
    too_big = "text,label\n" + ("A long remark indeed," * 10 + "0\n") * 25_000
    assert len(too_big) > app.config["MAX_CONTENT_LENGTH"]
    r = post_csv(client, op, too_big)
    assert r.status_code == 413 and r.get_json()["error"]["status"] == 413
    assert client.get("/v1/sites/daily-bugle/labels", headers=op).get_json()["total"] == 0


def test_too_few_labels_is_a_clear_422(client: Any, op: dict[str, str]) -> None:
    post_csv(client, op, csv_of(labels(199)))
    r = client.post("/v1/sites/daily-bugle/models", headers=op)
    assert r.status_code == 422
    assert "199 labelled comments" in r.get_json()["error"]["message"]
    assert client.get("/v1/sites/daily-bugle/models", headers=op).get_json()["models"] == []


def test_one_class_only_is_a_clear_422(client: Any, op: dict[str, str]) -> None:
    post_csv(client, op, csv_of([(f"Civil remark {i}.", 0) for i in range(250)]))
    r = client.post("/v1/sites/daily-bugle/models", json={}, headers=op)
    assert r.status_code == 422 and "both approved and rejected" in r.get_json()["error"]["message"]


def test_moderators_decisions_become_labels(
    app: Any, client: Any, auth: dict[str, str], op: dict[str, str]
) -> None:
    store = services(app).store
    bugle = store.sites.get("daily-bugle")
    _, mod = store.users.create("mod", Role.MODERATOR, [bugle.id])
    mod_h = {"Authorization": f"Bearer {mod}"}
    held = [
        client.post("/v1/comments", json={"text": f"You nitwit {i}."}, headers=auth).get_json()
        for i in range(3)
    ]
    for c, (action, reason) in zip(
        held, [("approve", None), ("reject", "abusive"), ("reject", "spam")], strict=True
    ):
        body = {"action": action, "version": c["version"], **({"reason": reason} if reason else {})}
        assert (
            client.post(f"/v1/comments/{c['id']}/decision", json=body, headers=mod_h).status_code
            == 200
        )
    counts = client.get("/v1/sites/daily-bugle/labels", headers=op).get_json()
    # The spam rejection is no toxicity label; the approval and the abuse rejection are.
    assert (counts["total"], counts["toxic"], counts["from_decisions"]) == (2, 1, 2)


def test_adapt_promote_serve_and_roll_back(
    app: Any, client: Any, auth: dict[str, str], op: dict[str, str], adapter: FakeAdapter
) -> None:
    post_csv(client, op, csv_of(labels(250)))
    other_key = services(app).store.sites.create("other-paper")[1]

    r = client.post("/v1/sites/daily-bugle/models", json={"auto_promote": False}, headers=op)
    assert r.status_code == 202
    assert r.get_json()["version"] == "v1"
    (request,) = adapter.requests
    assert (len(request.train_texts), len(request.val_texts)) == (200, 50)
    assert request.val_texts[-1].endswith("number 249.")  # the newest validate
    model = client.get("/v1/sites/daily-bugle/models/v1", headers=op).get_json()
    assert model["state"] == "ready" and model["progress"] == 1.0
    assert model["metrics"]["wins"] is True and model["metrics"]["labels"] == {
        "train": 200,
        "validation": 50,
    }

    text = {"text": "What a rapscallion."}
    assert client.post("/v1/comments", json=text, headers=auth).get_json()["status"] == "approved"

    r = client.post("/v1/sites/daily-bugle/models/v1/promote", headers=op)
    assert r.status_code == 200 and r.get_json()["state"] == "serving"
    policy = client.get("/v1/sites/daily-bugle/policy", headers=op).get_json()
    assert policy["policy"]["thresholds"]["toxicity"] == 0.7  # recalibrated on promotion

    ours = client.post("/v1/comments", json=text, headers=auth).get_json()
    assert ours["status"] == "held"
    assert ours["model"] == {
        "name": f"keyword-fake@{services(app).store.sites.get('daily-bugle').id}",
        "version": "v1",
    }
    theirs = client.post(
        "/v1/comments", json=text, headers={"Authorization": f"Bearer {other_key}"}
    ).get_json()
    assert theirs["status"] == "approved" and theirs["model"]["name"] == "keyword-fake"
    assert app.config["LOADED_SITE_MODELS"] == [
        f"{services(app).store.sites.get('daily-bugle').id}/v1"
    ]

    assert client.post("/v1/sites/daily-bugle/models/v1/promote", headers=op).status_code == 409
    r = client.post("/v1/sites/daily-bugle/models/rollback", headers=op)
    assert r.status_code == 200 and r.get_json()["serving"] is None
    assert r.get_json()["models"][0]["state"] == "retired"
    policy = client.get("/v1/sites/daily-bugle/policy", headers=op).get_json()
    assert policy["policy"]["thresholds"]["toxicity"] == 0.8  # the promotion's change undone
    back = client.post("/v1/comments", json=text, headers=auth).get_json()
    assert back["status"] == "approved" and back["model"]["name"] == "keyword-fake"
    assert client.post("/v1/sites/daily-bugle/models/rollback", headers=op).status_code == 409
    actions = [
        e["action"]
        for e in client.get("/v1/sites/daily-bugle/audit", headers=op).get_json()["entries"]
    ]
    assert {"model.train", "model.promote", "model.rollback"} <= set(actions)


def test_a_second_version_rolls_back_to_the_first(client: Any, op: dict[str, str]) -> None:
    post_csv(client, op, csv_of(labels(250)))
    for v in ("v1", "v2"):
        assert client.post("/v1/sites/daily-bugle/models", headers=op).get_json()["version"] == v
        assert (
            client.post(
                f"/v1/sites/daily-bugle/models/{v}/promote", json={"recalibrate": False}, headers=op
            ).status_code
            == 200
        )
    r = client.post("/v1/sites/daily-bugle/models/rollback", headers=op).get_json()
    assert r["serving"] == "v1"
    assert [(m["version"], m["state"]) for m in r["models"]] == [
        ("v2", "retired"),
        ("v1", "serving"),
    ]


def test_auto_promote_only_when_the_candidate_wins(
    client: Any, op: dict[str, str], adapter: FakeAdapter
) -> None:
    post_csv(client, op, csv_of(labels(250)))
    adapter.delta_low = -0.01  # the interval reaches below zero: no clear win
    client.post("/v1/sites/daily-bugle/models", json={"auto_promote": True}, headers=op)
    assert client.get("/v1/sites/daily-bugle/models", headers=op).get_json()["serving"] is None
    adapter.delta_low = 0.03
    client.post("/v1/sites/daily-bugle/models", json={"auto_promote": True}, headers=op)
    assert client.get("/v1/sites/daily-bugle/models", headers=op).get_json()["serving"] == "v2"


def test_a_failed_training_is_recorded(
    client: Any, op: dict[str, str], adapter: FakeAdapter
) -> None:
    post_csv(client, op, csv_of(labels(250)))
    adapter.fail = RuntimeError("out of memory")
    assert client.post("/v1/sites/daily-bugle/models", headers=op).status_code == 202
    model = client.get("/v1/sites/daily-bugle/models/v1", headers=op).get_json()
    assert model["state"] == "failed" and "out of memory" in model["error"]
    assert client.post("/v1/sites/daily-bugle/models/v1/promote", headers=op).status_code == 409


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/v1/sites/daily-bugle/models/latest", None, 404),
        ("GET", "/v1/sites/daily-bugle/models/v7", None, 404),
        ("POST", "/v1/sites/daily-bugle/models", {"auto_promote": "yes"}, 422),
        ("POST", "/v1/sites/daily-bugle/models", {"epochs": 3}, 422),
        ("POST", "/v1/sites/daily-bugle/models/v1/promote", {"recalibrate": 1}, 422),
        ("POST", "/v1/sites/daily-bugle/models/v1/promote", [], 422),
    ],
)
def test_bad_requests_answer_4xx_in_the_one_shape(
    client: Any, op: dict[str, str], method: str, path: str, body: Any, status: int
) -> None:
    r = client.open(path, method=method, json=body, headers=op)
    assert r.status_code == status
    assert set(r.get_json()["error"]) == {"code", "status", "message", "details"}


def test_cli_imports_adapts_promotes_and_rolls_back(
    app: Any, site_key: str, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nA remark,7\n")
    r = runner.invoke(args=["models", "import-labels", "daily-bugle", str(bad)])
    assert r.exit_code == 1 and "Line 2: the label must be 0 or 1" in r.output
    good = tmp_path / "labels.csv"
    good.write_text(csv_of(labels(250)))
    r = runner.invoke(args=["models", "import-labels", "daily-bugle", str(good), "--json"])
    assert r.exit_code == 0 and json.loads(r.output) == {"imported": 250}

    r = runner.invoke(args=["models", "adapt", "daily-bugle", "--wait", "--json"])
    assert r.exit_code == 0, r.output
    last = json.loads(r.stdout.strip().splitlines()[-1])
    assert last["version"] == "v1" and last["state"] == "ready" and last["metrics"]["wins"] is True

    r = runner.invoke(args=["models", "promote", "daily-bugle", "v1"])
    assert r.exit_code == 0 and "v1 serves daily-bugle" in r.output
    assert services(app).store.sites.get("daily-bugle").model_version == 1
    r = runner.invoke(args=["models", "rollback", "daily-bugle"])
    assert r.exit_code == 0 and "the base model serves daily-bugle" in r.output
    r = runner.invoke(args=["models", "rollback", "daily-bugle"])
    assert r.exit_code == 1 and "nothing to roll back" in r.output


def test_cli_adapt_with_too_few_labels_fails_clearly(app: Any, site_key: str) -> None:
    r = app.test_cli_runner().invoke(args=["models", "adapt", "daily-bugle", "--wait", "--json"])
    assert r.exit_code == 1 and "has 0 labelled comments" in r.output


def _on_the_job_queue(
    database_url: str, tmp_path: Path, adapter: FakeAdapter
) -> tuple[Any, Any, dict[str, str]]:
    """An app without JOBS injected (training is the job queue's job), daily-bugle's operator, 250 labels."""
    from api import create_app

    app = create_app(_bare_config(database_url, tmp_path, ADAPTER=adapter))
    store = services(app).store
    site, _ = store.sites.create("daily-bugle")
    _, token = store.users.create("op", Role.OPERATOR, [site.id])
    op = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    post_csv(client, op, csv_of(labels(250)))
    return app, client, op


def test_training_runs_as_the_job_queues_job(
    database_url: str, tmp_path: Path, adapter: FakeAdapter
) -> None:
    """Without JOBS injected, training is the job `site_models.train` (here: no broker, a thread)."""
    from api.jobs import jobs

    app, client, op = _on_the_job_queue(database_url, tmp_path, adapter)
    store = services(app).store
    assert "site_models.train" in jobs(app).functions
    r = client.post("/v1/sites/daily-bugle/models", headers=op)
    assert r.status_code == 202
    jobs(app).shutdown()  # the local pool finishes what it runs
    model = client.get("/v1/sites/daily-bugle/models/v1", headers=op).get_json()
    assert model["state"] == "ready" and len(adapter.requests) == 1
    store.engine.dispose()


def test_a_version_whose_job_vanished_stops_blocking_after_six_hours(
    app: Any, client: Any, op: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from moderation.clock import utcnow

    post_csv(client, op, csv_of(labels(250)))
    site = services(app).store.sites.get("daily-bugle")
    # v1 queued, and its job never ran (its worker restarted).
    services(app).store.site_models.create(site.id, requested_by="x", labels=0, auto_promote=False)
    r = client.post("/v1/sites/daily-bugle/models", headers=op)
    assert r.status_code == 409 and "v1" in r.get_json()["error"]["message"]
    later = utcnow() + timedelta(hours=7)
    monkeypatch.setattr(services(app).site_models, "clock", lambda: later)
    r = client.post("/v1/sites/daily-bugle/models", headers=op)
    assert r.status_code == 202 and r.get_json()["version"] == "v2"
    v1 = client.get("/v1/sites/daily-bugle/models/v1", headers=op).get_json()
    assert v1["state"] == "failed" and "abandoned" in v1["error"]


def _bare_config(database_url: str, tmp_path: Path, **settings: Any) -> dict[str, Any]:
    """An app's settings with no JOBS, ADAPTER or loader injected, unless `settings` adds them."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SCORER": KeywordScorer(),
        "MODEL": str(tmp_path / "no-checkpoint"),
        "SECRET_KEY": "test-secret",
        "LOG_REQUESTS": False,
        "SITE_MODELS_DIR": str(tmp_path / "site-models"),
        **settings,
    }


def _adapter_of(database_url: str, tmp_path: Path, **settings: Any) -> Any:
    from api import create_app

    app = create_app(_bare_config(database_url, tmp_path, **settings))
    services(app).store.engine.dispose()
    return services(app).site_models.adapter


def test_training_yields_to_serving_by_default(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real adapter trains at the lowest priority with half the cores (one of two)."""
    from api import config

    monkeypatch.setattr(config.cpus, "available_cores", lambda: 2)
    adapter = _adapter_of(database_url, tmp_path)
    assert (adapter.nice, adapter.threads) == (19, 1)
    monkeypatch.setattr(config.cpus, "available_cores", lambda: 8)
    assert _adapter_of(database_url, tmp_path).threads == 4


def test_training_priority_and_threads_come_from_the_environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODERATION_ADAPT_NICE", "5")
    monkeypatch.setenv("MODERATION_ADAPT_THREADS", "3")
    adapter = _adapter_of(database_url, tmp_path)
    assert (adapter.nice, adapter.threads) == (5, 3)


@pytest.mark.parametrize("nice", ["-1", "20"])
def test_a_training_priority_out_of_range_stops_the_start(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nice: str
) -> None:
    monkeypatch.setenv("MODERATION_ADAPT_NICE", nice)
    with pytest.raises(SystemExit, match="ADAPT_NICE"):
        _adapter_of(database_url, tmp_path)


# -- a version in shadow --------------------------------------------------------


def test_a_version_in_shadow_scores_live_comments_and_reports(
    app: Any,
    client: Any,
    auth: dict[str, str],
    op: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = services(app).store
    bugle = store.sites.get("daily-bugle")
    _, mod = store.users.create("mod", Role.MODERATOR, [bugle.id])
    mod_h = {"Authorization": f"Bearer {mod}"}
    other_key = store.sites.create("other-paper")[1]
    post_csv(client, op, csv_of(labels(250)))
    client.post("/v1/sites/daily-bugle/models", headers=op)  # v1: proposes toxicity 0.7

    r = client.post("/v1/sites/daily-bugle/models/v1/shadow", headers=op)
    assert r.status_code == 200 and (r.get_json()["shadow"], r.get_json()["serving"]) == (
        "v1",
        None,
    )

    def post(text: str, key: dict[str, str] = auth) -> dict[str, Any]:
        return client.post("/v1/comments", json={"text": text}, headers=key).get_json()

    rude = post("What a rapscallion.")  # the live model approves; v1 would hold it
    nitwit = post("You nitwit.")  # both hold
    calm = post("A calm remark.")  # both approve
    assert (rude["status"], nitwit["status"], calm["status"]) == ("approved", "held", "approved")
    assert rude["model"]["name"] == "keyword-fake"  # the live model answered
    theirs = post("What a rapscallion.", {"Authorization": f"Bearer {other_key}"})
    assert theirs["status"] == "approved"
    # A moderator approves the held one and takes the published rude one down.
    for c, body in [
        (nitwit, {"action": "approve"}),
        (rude, {"action": "reject", "reason": "abusive"}),
    ]:
        r = client.post(
            f"/v1/comments/{c['id']}/decision",
            json={**body, "version": c["version"]},
            headers=mod_h,
        )
        assert r.status_code == 200, r.get_json()

    report = client.get("/v1/sites/daily-bugle/models/v1/shadow", headers=op).get_json()
    assert report["version"] == "v1" and report["in_shadow"] is True
    assert report["thresholds"]["toxicity"] == 0.7
    assert report["comments"] == 3
    assert report["matrix"] == {
        "live_approve_candidate_approve": 1,
        "live_approve_candidate_hold": 1,
        "live_hold_candidate_approve": 0,
        "live_hold_candidate_hold": 1,
    }
    mods = report["moderators"]
    assert (mods["labelled"], mods["toxic"], mods["live_agreed"], mods["candidate_agreed"]) == (
        2,
        1,
        0,
        1,
    )
    # The approved nitwit scores 0.97 on both; the rude one lower: both rank them wrongly.
    assert mods["roc_auc"] == {"live": 0.0, "candidate": 0.0}
    assert [e["text"] for e in report["examples"]] == ["What a rapscallion."]
    # Too few labelled live comments: the proposal is still validation's.
    assert report["recalibration"]["source"] == "validation"
    assert report["recalibration"]["toxicity"]["proposed"] == 0.7

    # With enough of them (here: any), the live comments propose the threshold, and the
    # promotion applies what the report showed.
    monkeypatch.setattr("moderation.model_shadow.MIN_LABELLED", 2)
    report = client.get("/v1/sites/daily-bugle/models/v1/shadow", headers=op).get_json()
    rec = report["recalibration"]
    assert rec["source"] == "shadow" and rec["labelled"] == 2
    proposed = rec["toxicity"]["proposed"]
    r = client.post("/v1/sites/daily-bugle/models/v1/promote", headers=op)
    assert r.status_code == 200
    policy = client.get("/v1/sites/daily-bugle/policy", headers=op).get_json()["policy"]
    assert policy["thresholds"]["toxicity"] == proposed
    # It serves now: its shadow ended, its report stays.
    models = client.get("/v1/sites/daily-bugle/models", headers=op).get_json()
    assert (models["serving"], models["shadow"]) == ("v1", None)
    assert (
        client.get("/v1/sites/daily-bugle/models/v1/shadow", headers=op).get_json()["comments"] == 3
    )
    actions = [
        e["action"]
        for e in client.get("/v1/sites/daily-bugle/audit", headers=op).get_json()["entries"]
    ]
    assert {"model.shadow_start", "model.shadow_stop"} <= set(actions)


def test_shadow_start_and_stop_refusals(client: Any, op: dict[str, str]) -> None:
    post_csv(client, op, csv_of(labels(250)))
    for _ in range(2):
        client.post("/v1/sites/daily-bugle/models", headers=op)
    assert client.post("/v1/sites/daily-bugle/models/v1/shadow", headers=op).status_code == 200
    assert client.post("/v1/sites/daily-bugle/models/v1/shadow", headers=op).status_code == 200
    for method, path, status, message in [
        ("POST", "v2/shadow", 409, "v1 is in shadow"),
        ("DELETE", "v2/shadow", 409, "v2 is not in shadow"),
        ("POST", "v9/shadow", 404, "no model version v9"),
        ("GET", "v9/shadow", 404, "no model version v9"),
        ("POST", "latest/shadow", 404, "No model version"),
    ]:
        r = client.open(f"/v1/sites/daily-bugle/models/{path}", method=method, headers=op)
        assert r.status_code == status, (path, r.get_json())
        error = r.get_json()["error"]
        assert set(error) == {"code", "status", "message", "details"}
        assert message in error["message"]
    r = client.delete("/v1/sites/daily-bugle/models/v1/shadow", headers=op)
    assert r.status_code == 200 and r.get_json()["shadow"] is None
    assert client.post("/v1/sites/daily-bugle/models/v2/shadow", headers=op).status_code == 200


def test_cli_runs_a_version_in_shadow_and_reports(
    app: Any, client: Any, auth: dict[str, str], op: dict[str, str]
) -> None:
    post_csv(client, op, csv_of(labels(250)))
    client.post("/v1/sites/daily-bugle/models", headers=op)
    runner = app.test_cli_runner()
    r = runner.invoke(args=["models", "shadow", "daily-bugle", "v1"])
    assert r.exit_code == 0 and "v1 in shadow on daily-bugle" in r.output
    client.post("/v1/comments", json={"text": "What a rapscallion."}, headers=auth)
    r = runner.invoke(args=["models", "shadow-report", "daily-bugle", "v1", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["matrix"]["live_approve_candidate_hold"] == 1
    r = runner.invoke(args=["models", "shadow-report", "daily-bugle", "v1"])
    assert r.exit_code == 0 and "1 comment(s)" in r.output and "rapscallion" in r.output
    r = runner.invoke(args=["models", "shadow", "daily-bugle", "v1", "--stop"])
    assert r.exit_code == 0 and "no longer in shadow" in r.output
    r = runner.invoke(args=["models", "shadow", "daily-bugle", "v1", "--stop"])
    assert r.exit_code == 1 and "v1 is not in shadow" in r.output


# -- a site's stored opt-in: auto-promotion and retraining on new labels -------------


def settings_of(client: Any, op: dict[str, str]) -> dict[str, Any]:
    r = client.get("/v1/sites/daily-bugle/models/settings", headers=op)
    assert r.status_code == 200
    return dict(r.get_json())


def put_settings(client: Any, op: dict[str, str], body: Any) -> Any:
    return client.put("/v1/sites/daily-bugle/models/settings", json=body, headers=op)


def test_model_settings_are_stored_changed_in_part_and_audited(
    client: Any, op: dict[str, str]
) -> None:
    assert settings_of(client, op) == {"auto_promote": False, "retrain_after_labels": None}
    r = put_settings(client, op, {"auto_promote": True})
    assert r.status_code == 200
    assert r.get_json() == {"auto_promote": True, "retrain_after_labels": None}
    r = put_settings(client, op, {"retrain_after_labels": 500})
    assert r.get_json() == {"auto_promote": True, "retrain_after_labels": 500}
    assert settings_of(client, op) == {"auto_promote": True, "retrain_after_labels": 500}
    r = put_settings(client, op, {"retrain_after_labels": None, "auto_promote": False})
    assert r.get_json() == {"auto_promote": False, "retrain_after_labels": None}
    put_settings(client, op, {})  # nothing changes: nothing audited
    entries = client.get("/v1/sites/daily-bugle/audit", headers=op).get_json()["entries"]
    changes = [(e["before"], e["after"]) for e in entries if e["action"] == "model.settings"]
    assert changes[::-1] == [
        (
            {"auto_promote": False, "retrain_after_labels": None},
            {"auto_promote": True, "retrain_after_labels": None},
        ),
        (
            {"auto_promote": True, "retrain_after_labels": None},
            {"auto_promote": True, "retrain_after_labels": 500},
        ),
        (
            {"auto_promote": True, "retrain_after_labels": 500},
            {"auto_promote": False, "retrain_after_labels": None},
        ),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"auto_promote": "yes"}, "auto_promote"),
        ({"auto_promote": 1}, "auto_promote"),
        ({"auto_promote": None}, "auto_promote"),
        ({"retrain_after_labels": "500"}, "retrain_after_labels"),
        ({"retrain_after_labels": 500.5}, "retrain_after_labels"),
        ({"retrain_after_labels": True}, "retrain_after_labels"),
        ({"retrain_after_labels": 49}, "retrain_after_labels"),
        ({"retrain_after_labels": 0}, "retrain_after_labels"),
        ({"retrain_after_labels": -100}, "retrain_after_labels"),
        ({"retrain_after_labels": 10**12}, "retrain_after_labels"),
        ({"epochs": 3}, "epochs"),
        ([], "_schema"),
        ("on", "_schema"),
    ],
)
def test_bad_model_settings_answer_422_and_change_nothing(
    client: Any, op: dict[str, str], body: Any, field: str
) -> None:
    put_settings(client, op, {"auto_promote": True, "retrain_after_labels": 300})
    # A valid change beside the bad field must not be applied either.
    if isinstance(body, dict) and "auto_promote" not in body:
        body = {**body, "auto_promote": False}
    r = put_settings(client, op, body)
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert set(error) == {"code", "status", "message", "details"}
    assert field in str(error["details"])
    assert settings_of(client, op) == {"auto_promote": True, "retrain_after_labels": 300}


def test_model_settings_need_a_json_body(client: Any, op: dict[str, str]) -> None:
    path = "/v1/sites/daily-bugle/models/settings"
    for r, status in (
        (client.put(path, headers=op), 422),
        (
            client.put(path, data="auto_promote=1", headers={**op, "Content-Type": "text/plain"}),
            415,
        ),
        (
            client.put(path, data="{not json", headers={**op, "Content-Type": "application/json"}),
            400,
        ),
        (client.post(path, json={"auto_promote": True}, headers=op), 405),
    ):
        assert r.status_code == status, r.get_json()
        assert set(r.get_json()["error"]) == {"code", "status", "message", "details"}
    assert settings_of(client, op)["auto_promote"] is False


def test_a_request_without_auto_promote_takes_the_sites_setting(
    client: Any, op: dict[str, str]
) -> None:
    post_csv(client, op, csv_of(labels(250)))
    put_settings(client, op, {"auto_promote": True})
    r = client.post("/v1/sites/daily-bugle/models", headers=op)  # no body: the site's setting
    assert r.status_code == 202 and r.get_json()["auto_promote"] is True
    assert client.get("/v1/sites/daily-bugle/models", headers=op).get_json()["serving"] == "v1"
    # An explicit choice wins over the setting, either way.
    r = client.post("/v1/sites/daily-bugle/models", json={"auto_promote": False}, headers=op)
    assert r.get_json()["auto_promote"] is False
    assert client.get("/v1/sites/daily-bugle/models", headers=op).get_json()["serving"] == "v1"
    put_settings(client, op, {"auto_promote": False})
    r = client.post("/v1/sites/daily-bugle/models", json={}, headers=op)
    assert r.get_json()["auto_promote"] is False
    r = client.post("/v1/sites/daily-bugle/models", json={"auto_promote": True}, headers=op)
    assert r.get_json()["version"] == "v4"
    assert client.get("/v1/sites/daily-bugle/models", headers=op).get_json()["serving"] == "v4"


def retrain_tick(app: Any) -> None:
    """The periodic job, as a worker's scheduler enqueues it (run here, now)."""
    from api.adapting import RETRAIN_JOB
    from api.jobs import jobs

    assert RETRAIN_JOB in [p.job for p in jobs(app).periodic]
    jobs(app).run(RETRAIN_JOB)


def test_the_periodic_job_retrains_on_new_labels_and_promotes_when_opted_in(
    app: Any, client: Any, op: dict[str, str], adapter: FakeAdapter
) -> None:
    post_csv(client, op, csv_of(labels(250)))
    retrain_tick(app)  # the site has not opted in: nothing
    assert client.get("/v1/sites/daily-bugle/models", headers=op).get_json()["models"] == []

    put_settings(client, op, {"auto_promote": True, "retrain_after_labels": 100})
    retrain_tick(app)
    view = client.get("/v1/sites/daily-bugle/models", headers=op).get_json()
    assert [(m["version"], m["state"], m["requested_by"]) for m in view["models"]] == [
        ("v1", "serving", "system")
    ]
    assert view["serving"] == "v1" and len(adapter.requests) == 1
    retrain_tick(app)  # no new labels since v1's training
    assert len(adapter.requests) == 1

    post_csv(client, op, csv_of(labels(99)))
    retrain_tick(app)
    assert len(adapter.requests) == 1  # 99 new labels: one short
    post_csv(client, op, csv_of(labels(1)))
    adapter.delta_low = -0.01  # v2 does not beat the base clearly: it trains, nothing serves it
    retrain_tick(app)
    view = client.get("/v1/sites/daily-bugle/models", headers=op).get_json()
    assert [(m["version"], m["state"]) for m in view["models"]] == [
        ("v2", "ready"),
        ("v1", "serving"),
    ]
    assert len(adapter.requests[1].train_texts) + len(adapter.requests[1].val_texts) == 350

    put_settings(client, op, {"auto_promote": False})
    adapter.delta_low = 0.05  # v3 wins, but the site no longer opts in
    post_csv(client, op, csv_of(labels(100)))
    retrain_tick(app)
    view = client.get("/v1/sites/daily-bugle/models", headers=op).get_json()
    assert (view["models"][0]["version"], view["models"][0]["state"]) == ("v3", "ready")
    assert view["serving"] == "v1"
    entries = client.get("/v1/sites/daily-bugle/audit", headers=op).get_json()["entries"]
    trained = [e for e in entries if e["action"] == "model.train"]
    assert [e["actor"] for e in trained] == ["system"] * 3


def test_the_periodic_job_skips_a_site_whose_version_is_training(
    app: Any, client: Any, op: dict[str, str], adapter: FakeAdapter
) -> None:
    post_csv(client, op, csv_of(labels(250)))
    put_settings(client, op, {"retrain_after_labels": 50})
    site = services(app).store.sites.get("daily-bugle")
    services(app).store.site_models.create(
        site.id, requested_by="op", labels=250, auto_promote=False
    )
    retrain_tick(app)
    assert adapter.requests == []
    # Nor can a second request slip past the first while it is queued (the check is in the
    # transaction that numbers the version).
    from moderation.errors import Conflict

    with pytest.raises(Conflict, match="v1 of the site's model is still queued"):
        services(app).store.site_models.create(
            site.id, requested_by="op", labels=250, auto_promote=False
        )


def test_the_retrain_job_is_scheduled_once_across_workers(
    database_url: str, tmp_path: Path, adapter: FakeAdapter
) -> None:
    """Without JOBS injected: the worker's scheduler enqueues it, training is the queue's job."""
    from api.adapting import RETRAIN_JOB
    from api.jobs import jobs, schedule_once
    from moderation.clock import utcnow

    app, client, op = _on_the_job_queue(database_url, tmp_path, adapter)
    store = services(app).store
    put_settings(client, op, {"auto_promote": True, "retrain_after_labels": 200})

    def due(job: str, every: float) -> bool:
        return job == RETRAIN_JOB and store.schedule.take(job, utcnow(), every)

    assert schedule_once(app, due) == [RETRAIN_JOB]
    assert schedule_once(app, due) == []  # another worker's scheduler, the same second
    jobs(app).wait_idle()  # the local pool runs the look, then the training it enqueued
    assert len(adapter.requests) == 1
    assert client.get("/v1/sites/daily-bugle/models", headers=op).get_json()["serving"] == "v1"
    store.engine.dispose()


def test_cli_shows_and_changes_model_settings(app: Any, site_key: str) -> None:
    runner = app.test_cli_runner()
    r = runner.invoke(args=["models", "settings", "daily-bugle"])
    assert r.exit_code == 0 and "auto-promote off; retrain only when asked" in r.output
    r = runner.invoke(
        args=[
            "models",
            "settings",
            "daily-bugle",
            "--auto-promote",
            "--retrain-after-labels",
            "300",
        ]
    )
    assert r.exit_code == 0 and "auto-promote on; retrain after 300 new labels" in r.output
    r = runner.invoke(args=["models", "settings", "daily-bugle", "--never", "--json"])
    assert r.exit_code == 0
    assert json.loads(r.output) == {"auto_promote": True, "retrain_after_labels": None}
    r = runner.invoke(args=["models", "settings", "daily-bugle", "--no-auto-promote"])
    assert r.exit_code == 0 and "auto-promote off" in r.output
    for bad in (
        ["--retrain-after-labels", "10"],
        ["--retrain-after-labels", "many"],
        ["--retrain-after-labels", "100", "--never"],
    ):
        r = runner.invoke(args=["models", "settings", "daily-bugle", *bad])
        assert r.exit_code == 2, (bad, r.output)
    r = runner.invoke(args=["models", "settings", "no-such-site"])
    assert r.exit_code == 1 and "no site" in r.output
    site = services(app).store.sites.get("daily-bugle")
    assert services(app).site_models.settings(site).as_dict() == {
        "auto_promote": False,
        "retrain_after_labels": None,
    }
    actions = [e.action for e in services(app).store.audit.entries(site_id=site.id)]
    assert actions.count("model.settings") == 3


def test_without_a_broker_the_web_workers_background_thread_looks(
    app: Any, client: Any, op: dict[str, str], adapter: FakeAdapter
) -> None:
    import threading

    from api import start_background
    from api.jobs import jobs

    post_csv(client, op, csv_of(labels(250)))
    put_settings(client, op, {"auto_promote": True, "retrain_after_labels": 200})
    svc = services(app).site_models
    looked = threading.Event()
    original = svc.retrain

    def retrain() -> Any:
        try:
            return original()
        finally:
            looked.set()

    svc.retrain = retrain  # type: ignore[method-assign]
    app.config.update(BACKGROUND_INTERVAL=0.01, RETRAIN_INTERVAL=3600)
    thread = start_background(app)
    try:
        assert thread is not None and looked.wait(10)
    finally:
        app.extensions["moderation.background_stop"].set()
        thread.join(10)
    jobs(app).wait_idle()
    assert client.get("/v1/sites/daily-bugle/models", headers=op).get_json()["serving"] == "v1"
    # The schedule row moved an hour on: another worker's thread would not look again now.
    from api.adapting import RETRAIN_JOB
    from moderation.clock import utcnow

    assert services(app).store.schedule.take(RETRAIN_JOB, utcnow(), 3600) is False


@pytest.mark.parametrize(
    ("form", "flash"),
    [
        ({"retrain": "on", "retrain_after_labels": "10"}, "between 50 and"),
        ({"retrain": "on", "retrain_after_labels": "ten"}, "a whole number from 50"),
        ({"retrain": "on", "retrain_after_labels": "-60"}, "a whole number from 50"),
        ({"retrain": "on", "retrain_after_labels": "9" * 40}, "a whole number from 50"),
        ({"retrain": "on"}, "a whole number from 50"),
    ],
)
def test_the_page_refuses_bad_settings_with_a_message_and_keeps_them(
    app: Any, client: Any, site_key: str, form: dict[str, str], flash: str
) -> None:
    from tests.api.fixtures import PASSWORDS, page_token, sign_in

    store = services(app).store
    bugle = store.sites.get("daily-bugle")
    store.users.create("op", Role.OPERATOR, [bugle.id])
    store.users.set_password("op", PASSWORDS["op"])
    assert sign_in(client, "op").status_code == 302
    token = page_token(client, "/sites/daily-bugle/models")
    store.site_models.set_settings(
        bugle.id, ModelSettings(auto_promote=False, retrain_after_labels=400), actor="test"
    )
    r = client.post(
        "/sites/daily-bugle/models/settings",
        data={"csrf_token": token, "auto_promote": "on", **form},
        follow_redirects=True,
    )
    assert r.status_code == 200 and flash in r.get_data(as_text=True)
    assert services(app).site_models.settings(bugle) == ModelSettings(False, 400)
    # Without the CSRF token nothing is saved either.
    r = client.post("/sites/daily-bugle/models/settings", data={"auto_promote": "on"})
    assert r.status_code == 400
    assert services(app).site_models.settings(bugle) == ModelSettings(False, 400)


def test_opting_out_while_the_periodic_version_trains_stops_its_promotion(
    app: Any, client: Any, op: dict[str, str], adapter: FakeAdapter
) -> None:
    post_csv(client, op, csv_of(labels(250)))
    put_settings(client, op, {"auto_promote": True, "retrain_after_labels": 200})
    original = adapter.adapt

    def adapt_while_the_operator_opts_out(request: AdaptRequest, progress: Any) -> Any:
        assert put_settings(client, op, {"auto_promote": False}).status_code == 200
        return original(request, progress)

    adapter.adapt = adapt_while_the_operator_opts_out  # type: ignore[method-assign]
    retrain_tick(app)
    view = client.get("/v1/sites/daily-bugle/models", headers=op).get_json()
    assert view["models"][0]["metrics"]["wins"] is True
    assert (view["models"][0]["state"], view["serving"]) == ("ready", None)
