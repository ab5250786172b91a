"""Comments in German, Spanish, French, Italian and Portuguese: routed to a second model, with a
policy rule and thresholds per language. Both models are keyword fakes (tests.fakes); the real
models are tested end to end in tests/e2e/test_multilingual_model.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api import create_app
from api.services import services
from moderation.policy import LanguageAction, Policy
from moderation.sites import Role
from tests.api.fixtures import assert_error
from tests.fakes import KeywordScorer, MultilingualKeywordScorer

# Our own sentences, long enough for language identification to be sure of them.
GERMAN_TOXIC = "Du bist ein elender Trottel, und niemand hier will deine Meinung noch lesen."
GERMAN_BENIGN = "Vielen Dank für den Artikel, die Fotos vom Hafen am Morgen sind wunderschön."
SPANISH_TOXIC = "Eres un imbécil y deberías callarte de una vez, nadie quiere leer tus tonterías."
SPANISH_BENIGN = (
    "Muchas gracias por el artículo, me ha gustado mucho leer sobre el mercado del barrio."
)
ENGLISH_BENIGN = "Thanks for the article, the photos of the harbour at dawn are lovely."
DUTCH_BENIGN = "Bedankt voor het artikel, de foto's van de haven in de ochtend zijn erg mooi."

# What the multilingual model's calibration says (thresholds.json beside its weights).
CALIBRATION = {
    "thresholds": dict.fromkeys(
        ("toxicity", "severe_toxicity", "insult", "profanity", "threat", "identity_attack"), 0.7
    ),
    "languages": {
        "de": {"thresholds": {"toxicity": 0.61, "insult": 0.62}},
        "es": {"thresholds": {"toxicity": 0.65}},
        "fr": {"thresholds": {}},
        "it": {"thresholds": {"threat": 0.4}},
        "pt": {"thresholds": {"insult": 0.55}},
    },
}


@pytest.fixture
def multilingual_scorer() -> MultilingualKeywordScorer:
    return MultilingualKeywordScorer()


@pytest.fixture
def app(
    database_url: str,
    scorer: KeywordScorer,
    multilingual_scorer: MultilingualKeywordScorer,
    tmp_path: Path,
) -> Iterator[Any]:
    """The app with a second model for de/es/fr/it/pt, calibrated as CALIBRATION says."""
    folder = tmp_path / "multilingual-toxicity"
    folder.mkdir()
    (folder / "thresholds.json").write_text(json.dumps(CALIBRATION))
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SCORER": scorer,
            "SCORER_MULTILINGUAL": multilingual_scorer,
            "MODEL": str(tmp_path / "no-checkpoint"),
            "MULTILINGUAL_MODEL": str(folder),
            "SECRET_KEY": "test-secret",
            "SCORING_TIMEOUT": 2.0,
            "LOG_REQUESTS": False,
        }
    )
    yield app
    services(app).store.engine.dispose()


@pytest.fixture
def op(app: Any, site_key: str) -> dict[str, str]:
    store = services(app).store
    _, token = store.users.create("olga", Role.OPERATOR, [store.sites.get("daily-bugle").id])
    return {"Authorization": f"Bearer {token}"}


def post(client: Any, auth: dict[str, str], text: str) -> dict[str, Any]:
    r = client.post("/v1/comments", json={"text": text}, headers=auth)
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def put_policy(client: Any, op: dict[str, str], **fields: Any) -> Any:
    return client.put("/v1/sites/daily-bugle/policy", headers=op, json=fields)


def codes(comment: dict[str, Any]) -> list[str]:
    return [r["code"] for r in comment["reasons"]]


# -- routing --------------------------------------------------------------------


def test_a_german_comment_is_scored_by_the_multilingual_model(
    client: Any,
    auth: dict[str, str],
    scorer: KeywordScorer,
    multilingual_scorer: MultilingualKeywordScorer,
) -> None:
    toxic = post(client, auth, GERMAN_TOXIC)
    assert toxic["language"] == "de"
    assert toxic["model"] == {"name": "keyword-multilingual-fake", "version": "test-ml"}
    assert toxic["status"] == "held" and "category" in codes(toxic)
    assert toxic["scores"]["insult"] == pytest.approx(0.9)
    benign = post(client, auth, GERMAN_BENIGN)
    assert (benign["status"], benign["model"]["name"]) == ("approved", "keyword-multilingual-fake")
    # The English model never saw the German text.
    assert not any("Trottel" in t for call in scorer.calls for t in call)
    assert any("Trottel" in t for call in multilingual_scorer.calls for t in call)


def test_an_english_comment_is_scored_by_the_english_model(
    client: Any,
    auth: dict[str, str],
    multilingual_scorer: MultilingualKeywordScorer,
) -> None:
    out = post(client, auth, ENGLISH_BENIGN)
    assert (out["language"], out["status"]) == ("en", "approved")
    assert out["model"] == {"name": "keyword-fake", "version": "test"}
    held = post(client, auth, "Only a nitwit would write an article this badly, honestly.")
    assert held["model"]["name"] == "keyword-fake" and "category" in codes(held)
    assert multilingual_scorer.calls == []


def test_an_unsupported_language_is_held_as_before(client: Any, auth: dict[str, str]) -> None:
    out = post(client, auth, DUTCH_BENIGN)
    assert out["language"] == "nl"
    assert out["status"] == "held"
    assert [(r["code"], r.get("language")) for r in out["reasons"]] == [
        ("language_unsupported", "nl")
    ]
    assert out["model"]["name"] == "keyword-fake"  # scored by the English model, as today


def test_a_batch_of_mixed_languages_goes_to_each_model_once(
    client: Any,
    auth: dict[str, str],
    scorer: KeywordScorer,
    multilingual_scorer: MultilingualKeywordScorer,
) -> None:
    body = {
        "comments": [
            {"text": GERMAN_TOXIC},
            {"text": ENGLISH_BENIGN},
            {"text": SPANISH_TOXIC},
            {"text": SPANISH_BENIGN},
        ]
    }
    r = client.post("/v1/comments/batch", json=body, headers=auth)
    assert r.status_code == 201, r.get_json()
    out = [item["comment"] for item in r.get_json()["results"]]
    assert [c["model"]["name"] for c in out] == [
        "keyword-multilingual-fake",
        "keyword-fake",
        "keyword-multilingual-fake",
        "keyword-multilingual-fake",
    ]
    assert [c["status"] for c in out] == ["held", "approved", "held", "approved"]
    assert len(multilingual_scorer.calls) == 1 and len(scorer.calls) == 1


def test_a_failing_multilingual_model_holds_only_its_comments(
    client: Any, auth: dict[str, str], multilingual_scorer: MultilingualKeywordScorer
) -> None:
    multilingual_scorer.fail = RuntimeError("second model down")
    german = post(client, auth, GERMAN_BENIGN)
    assert (german["status"], codes(german)) == ("held", ["scoring_unavailable"])
    assert german["model"] is None
    english = post(client, auth, ENGLISH_BENIGN)
    assert english["status"] == "approved"


def test_rescoring_uses_each_comments_model_and_waits_for_the_one_that_is_down(
    app: Any,
    client: Any,
    auth: dict[str, str],
    scorer: KeywordScorer,
    multilingual_scorer: MultilingualKeywordScorer,
) -> None:
    scorer.fail = multilingual_scorer.fail = RuntimeError("both down")
    german, english = post(client, auth, GERMAN_TOXIC), post(client, auth, ENGLISH_BENIGN)
    assert german["scoring_state"] == english["scoring_state"] == "pending"
    scorer.fail = None  # the English model is back, the multilingual one is not
    assert services(app).service.rescore_pending() == 1

    def get(comment: dict[str, Any]) -> dict[str, Any]:
        return dict(client.get(f"/v1/comments/{comment['id']}", headers=auth).get_json())

    assert (get(english)["status"], get(english)["model"]["name"]) == ("approved", "keyword-fake")
    assert get(german)["scoring_state"] == "pending"
    multilingual_scorer.fail = None
    assert services(app).service.rescore_pending() == 1
    rescored = get(german)
    assert (rescored["status"], rescored["model"]["name"]) == ("held", "keyword-multilingual-fake")
    assert rescored["language"] == "de"


def test_the_second_model_can_be_switched_off(
    database_url: str, scorer: KeywordScorer, tmp_path: Path
) -> None:
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SCORER": scorer,
            "SCORER_MULTILINGUAL": MultilingualKeywordScorer(),
            "MODEL": str(tmp_path / "no-checkpoint"),
            "MULTILINGUAL_MODEL": "off",
            "SECRET_KEY": "k",
            "LOG_REQUESTS": False,
        }
    )
    try:
        _, key = services(app).store.sites.create("daily-bugle")
        client = app.test_client()
        out = post(client, {"Authorization": f"Bearer {key}"}, GERMAN_BENIGN)
        assert codes(out) == ["language_unsupported"]
        assert out["model"]["name"] == "keyword-fake"
        assert services(app).store.sites.get("daily-bugle").policy.languages == {}
    finally:
        services(app).store.engine.dispose()


def test_a_multilingual_model_setting_without_a_checkpoint_stops_the_start(
    database_url: str, scorer: KeywordScorer, tmp_path: Path
) -> None:
    config = {
        "DATABASE_URL": database_url,
        "SCORER": scorer,
        "MODEL": str(tmp_path / "no-checkpoint"),
        "MULTILINGUAL_MODEL": str(tmp_path / "nowhere"),
        "SECRET_KEY": "k",
    }
    with pytest.raises(SystemExit, match="MULTILINGUAL_MODEL: no checkpoint at"):
        create_app(config)


# -- policy and thresholds per language -------------------------------------------


def test_the_policy_lists_the_languages_with_their_calibrated_thresholds(
    client: Any, op: dict[str, str]
) -> None:
    policy = client.get("/v1/sites/daily-bugle/policy", headers=op).get_json()["policy"]
    assert list(policy["languages"]) == ["de", "es", "fr", "it", "pt"]
    german = policy["languages"]["de"]
    assert german["action"] == "score"
    assert german["thresholds"]["toxicity"] == 0.61 and german["thresholds"]["insult"] == 0.62
    assert german["thresholds"]["threat"] == 0.7  # the model's overall calibration
    assert policy["languages"]["pt"]["thresholds"]["insult"] == 0.55
    assert policy["thresholds"]["toxicity"] == 0.8  # English: the English model's (fallback)
    assert policy["other_languages"] == "hold"


def test_per_language_thresholds_decide_that_language_only(
    client: Any, auth: dict[str, str], op: dict[str, str]
) -> None:
    # The fake scores 0.9 on a trigger: under German thresholds of 0.95 it passes.
    r = put_policy(client, op, languages={"de": {"thresholds": {"toxicity": 0.95, "insult": 0.95}}})
    assert r.status_code == 200, r.get_json()
    de = r.get_json()["policy"]["languages"]["de"]
    assert (de["thresholds"]["toxicity"], de["thresholds"]["profanity"]) == (0.95, 0.7)
    assert post(client, auth, GERMAN_TOXIC)["status"] == "approved"
    spanish = post(client, auth, SPANISH_TOXIC)
    assert spanish["status"] == "held"
    assert {(r["category"], r["threshold"]) for r in spanish["reasons"]} == {
        ("toxicity", 0.65),
        ("insult", 0.7),
    }
    # English thresholds do not move German ones, and the other way round.
    r = put_policy(client, op, thresholds={"insult": 0.99, "toxicity": 0.99})
    assert r.get_json()["policy"]["languages"]["es"]["thresholds"]["toxicity"] == 0.65
    assert post(client, auth, SPANISH_TOXIC)["status"] == "held"


@pytest.mark.parametrize(
    ("action", "toxic_status", "benign_status", "reasons"),
    [
        ("score", "held", "approved", ["category", "category"]),
        ("hold", "held", "held", ["category", "category", "language_unsupported"]),
        ("approve", "approved", "approved", []),
    ],
)
def test_each_language_action(
    client: Any,
    auth: dict[str, str],
    op: dict[str, str],
    action: str,
    toxic_status: str,
    benign_status: str,
    reasons: list[str],
) -> None:
    r = put_policy(client, op, languages={"de": {"action": action}})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["policy"]["languages"]["de"]["action"] == action
    toxic = post(client, auth, GERMAN_TOXIC)
    assert (toxic["status"], codes(toxic)) == (toxic_status, reasons)
    assert post(client, auth, GERMAN_BENIGN)["status"] == benign_status
    assert toxic["scores"]["insult"] == pytest.approx(0.9)  # scored whatever the action
    # Spanish keeps its own rule (score).
    assert post(client, auth, SPANISH_TOXIC)["status"] == "held"
    assert post(client, auth, SPANISH_BENIGN)["status"] == "approved"


def test_approve_still_holds_on_blocked_words(
    client: Any, auth: dict[str, str], op: dict[str, str]
) -> None:
    put_policy(client, op, languages={"de": {"action": "approve"}}, blocked_words=["hafen"])
    assert codes(post(client, auth, GERMAN_BENIGN)) == ["blocked_word"]


def test_other_languages_may_approve_them(
    client: Any, auth: dict[str, str], op: dict[str, str]
) -> None:
    assert put_policy(client, op, other_languages="approve").status_code == 200
    assert post(client, auth, DUTCH_BENIGN)["status"] == "approved"
    assert post(client, auth, GERMAN_TOXIC)["status"] == "held"  # German has its own rule


@pytest.mark.parametrize(
    "languages",
    [
        {"xx": {"action": "hold"}},  # no such language
        {"nl": {"action": "score"}},  # a language no model here reads
        {"en": {"action": "hold"}},  # English has the top-level thresholds
        {"de": {"action": "maybe"}},
        {"de": {"action": None}},
        {"de": {"thresholds": {"toxicity": 1.5}}},
        {"de": {"thresholds": {"spam": 0.5}}},
        {"de": {"thresholds": {"toxicity": "high"}}},
        {"de": {"colour": "blue"}},
        {"de": "hold"},
        ["de"],
        "de",
    ],
)
def test_bad_language_rules_are_422_and_change_nothing(
    client: Any, op: dict[str, str], languages: Any
) -> None:
    url = "/v1/sites/daily-bugle/policy"
    before = client.get(url, headers=op).get_json()
    error = assert_error(put_policy(client, op, languages=languages), 422, "validation_error")
    assert "languages" in error["details"]
    for path in (url, f"{url}/shadow"):
        method = client.put
        assert method(path, headers=op, json={"languages": languages}).status_code == 422
    simulate = client.post(f"{url}/simulate", headers=op, json={"policy": {"languages": languages}})
    assert simulate.status_code == 422
    assert client.get(url, headers=op).get_json() == before


def test_bad_other_languages_is_422(client: Any, op: dict[str, str]) -> None:
    for bad in ("sometimes", 1, None, ["hold"]):
        assert_error(put_policy(client, op, other_languages=bad), 422, "validation_error")


def test_a_policy_read_and_written_back_keeps_its_languages(
    client: Any, op: dict[str, str]
) -> None:
    url = "/v1/sites/daily-bugle/policy"
    read = client.get(url, headers=op).get_json()
    read["policy"]["languages"]["fr"]["action"] = "hold"
    saved = client.put(url, headers=op, json=read)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["policy"]["languages"]["fr"]["action"] == "hold"
    assert saved.get_json()["policy"]["languages"]["de"] == read["policy"]["languages"]["de"]


def test_a_policy_stored_before_languages_keeps_its_meaning(app: Any) -> None:
    # Stored by an earlier release: one other_languages value, no languages.
    defaults = services(app).store.default_policy
    old = {"thresholds": {"toxicity": 0.9}, "other_languages": "hold"}
    policy = Policy.from_dict(old, defaults)
    assert policy.rule_for("de").action is LanguageAction.SCORE  # a model reads German now
    assert policy.rule_for("de").thresholds["toxicity"] == 0.61
    assert policy.rule_for("nl").action is LanguageAction.HOLD
    assert policy.rule_for("en").thresholds["toxicity"] == 0.9
    scored = Policy.from_dict({"other_languages": "score"}, defaults)
    assert scored.rule_for("nl").action is LanguageAction.SCORE


def test_simulation_uses_each_comments_stored_language(
    client: Any, auth: dict[str, str], op: dict[str, str]
) -> None:
    for text in (GERMAN_TOXIC, SPANISH_TOXIC, ENGLISH_BENIGN):
        post(client, auth, text)
    url = "/v1/sites/daily-bugle/policy/simulate"

    def held(policy: dict[str, Any]) -> int:
        r = client.post(url, headers=op, json={"policy": policy})
        assert r.status_code == 200, r.get_json()
        return int(r.get_json()["proposed"]["overall"]["held"])

    assert held({}) == 2
    assert held({"languages": {"de": {"action": "approve"}}}) == 1
    assert held({"languages": {"de": {"thresholds": {"toxicity": 0.95, "insult": 0.95}}}}) == 1
    assert held({"thresholds": {"toxicity": 0.01}}) == 3  # English thresholds: the English one
    assert held({"languages": {"es": {"action": "approve"}, "de": {"action": "approve"}}}) == 0


def test_language_changes_are_audited(client: Any, op: dict[str, str]) -> None:
    put_policy(client, op, languages={"it": {"action": "hold", "thresholds": {"threat": 0.3}}})
    entries = client.get("/v1/sites/daily-bugle/audit", headers=op).get_json()["entries"]
    change = next(e for e in entries if e["action"] == "policy.update")
    assert change["before"]["languages"]["it"]["action"] == "score"
    assert change["after"]["languages"]["it"] == {
        "action": "hold",
        "thresholds": {**CALIBRATION["thresholds"], "threat": 0.3},
    }


# -- Perspective ------------------------------------------------------------------


def analyze(client: Any, key: str, text: str, **extra: Any) -> Any:
    body = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}, "INSULT": {}}}
    return client.post(
        "/v1alpha1/comments:analyze", json={**body, **extra}, query_string={"key": key}
    )


def test_perspective_answers_german_and_spanish(client: Any, site_key: str) -> None:
    r = analyze(client, site_key, GERMAN_TOXIC, languages=["de"])
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["languages"] == ["de"] and out["detectedLanguages"] == ["de"]
    assert out["attributeScores"]["INSULT"]["summaryScore"]["value"] == pytest.approx(0.9)
    r = analyze(client, site_key, SPANISH_BENIGN, doNotStore=True)
    out = r.get_json()
    assert (out["languages"], out["detectedLanguages"]) == (["es"], ["es"])
    assert out["attributeScores"]["TOXICITY"]["summaryScore"]["value"] < 0.1
    # A short German comment looks English to identification: the request's word counts.
    r = analyze(client, site_key, "Du Trottel!", languages=["de-DE"])
    assert r.get_json()["attributeScores"]["INSULT"]["summaryScore"]["value"] == pytest.approx(0.9)


def test_perspective_refuses_languages_no_model_reads_or_the_site_holds(
    client: Any, site_key: str, op: dict[str, str]
) -> None:
    r = analyze(client, site_key, DUTCH_BENIGN, languages=["nl"])
    assert r.status_code == 400
    detail = r.get_json()["error"]["details"][0]
    assert detail["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert detail["languageNotSupportedByAttributeError"]["requestedLanguages"] == ["nl"]
    put_policy(client, op, languages={"de": {"action": "hold"}})
    r = analyze(client, site_key, GERMAN_BENIGN)
    detail = r.get_json()["error"]["details"][0]
    assert detail["languageNotSupportedByAttributeError"]["detectedLanguages"] == ["de"]
    r = analyze(client, site_key, GERMAN_BENIGN, languages=["de"])
    assert r.get_json()["error"]["details"][0]["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert analyze(client, site_key, SPANISH_BENIGN, languages=["es"]).status_code == 200


def test_readiness_names_both_models(app: Any, client: Any) -> None:
    for scorer in services(app).service.scorers.distinct():
        scorer.load()
    body = client.get("/readyz").get_json()
    assert body["model"]["name"] == "keyword-fake"
    assert body["languages"] == {
        "en": "keyword-fake",
        **dict.fromkeys(("de", "es", "fr", "it", "pt"), "keyword-multilingual-fake"),
    }
