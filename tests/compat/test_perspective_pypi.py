"""The PyPI package `perspective` (1.0.3), its api_client pointed at the running service."""

from __future__ import annotations

import json
import urllib.error

import pytest
from perspective import PerspectiveAPI

from tests.compat.conftest import (
    BENIGN,
    DUTCH,
    GERMAN_BENIGN,
    GERMAN_TOXIC,
    SPANISH_BENIGN,
    SPANISH_TOXIC,
    TOXIC,
    Server,
)


def client(server: Server, key: str | None = None) -> PerspectiveAPI:
    api = PerspectiveAPI(key or server.key)
    api.api_client.url = f"{server.url}/v1alpha1/{{endpoint}}"
    return api


def error_of(excinfo: pytest.ExceptionInfo[urllib.error.HTTPError]) -> dict:
    return json.loads(excinfo.value.read())["error"]


def test_scores_toxic_above_benign_and_stores_by_default(server: Server) -> None:
    api = client(server)
    toxic = api.score(TOXIC, ["TOXICITY", "INSULT"])
    benign = api.score(BENIGN, ["TOXICITY", "INSULT"])
    assert toxic["TOXICITY"] > 0.9 > 0.1 > benign["TOXICITY"]
    assert toxic["INSULT"] > benign["INSULT"]
    assert TOXIC in server.stored_texts()  # analyze without do_not_store records the comment
    full = api.analyze_comment(
        "Nice photos. You nitwit.",
        requested_attributes={"INSULT": {"scoreThreshold": 0.5}},
        span_annotations=True,
        do_not_store=True,
        languages=["en"],
        client_token="py-1",
    )
    spans = full["attributeScores"]["INSULT"]["spanScores"]
    assert [(s["begin"], s["end"]) for s in spans] == [(13, 24)]
    assert full["clientToken"] == "py-1"


def test_german_and_spanish_comments(server: Server) -> None:
    api = client(server)
    german = api.analyze_comment(GERMAN_TOXIC, languages=["de"], do_not_store=True)
    assert german["languages"] == ["de"] and german["detectedLanguages"] == ["de"]
    assert german["attributeScores"]["TOXICITY"]["summaryScore"]["value"] > 0.8
    assert api.score(GERMAN_BENIGN)["TOXICITY"] < 0.1  # detected as German, stored
    spanish = api.analyze_comment(SPANISH_TOXIC, do_not_store=True)
    assert spanish["detectedLanguages"] == ["es"]
    assert spanish["attributeScores"]["TOXICITY"]["summaryScore"]["value"] > 0.8
    assert api.score(SPANISH_BENIGN, ["INSULT"])["INSULT"] < 0.1
    assert GERMAN_BENIGN in server.stored_texts()


def test_errors(server: Server) -> None:
    api = client(server)
    with pytest.raises(urllib.error.HTTPError) as unknown:
        api.analyze_comment(BENIGN, requested_attributes={"SPAM": {}})
    assert unknown.value.code == 400
    assert error_of(unknown)["message"] == "Attribute SPAM does not exist in languages: en."
    with pytest.raises(urllib.error.HTTPError) as dutch:
        api.analyze_comment(DUTCH, languages=["nl"])
    error = error_of(dutch)
    assert error["details"][0]["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert error["details"][0]["languageNotSupportedByAttributeError"]["requestedLanguages"] == [
        "nl"
    ]
    with pytest.raises(urllib.error.HTTPError) as empty:
        api.analyze_comment("")
    assert error_of(empty)["details"][0]["errorType"] == "COMMENT_EMPTY"
    with pytest.raises(urllib.error.HTTPError) as bad_key:
        client(server, "msk_not-a-key").score(BENIGN)
    assert bad_key.value.code == 400
    assert error_of(bad_key)["status"] == "INVALID_ARGUMENT"


def test_suggest_score(server: Server) -> None:
    before = len(server.feedback())
    answer = client(server).suggest_score(
        "PyPI client feedback.",
        {"TOXICITY": {"summaryScore": {"value": 0.3}}},
        client_token="py-2",
    )
    assert answer["clientToken"] == "py-2"
    rows = server.feedback()[before:]
    assert [(r.text, r.attribute, r.score) for r in rows] == [
        ("PyPI client feedback.", "TOXICITY", 0.3)
    ]
