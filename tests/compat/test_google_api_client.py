"""google-api-python-client, built from our discovery document, against the running service."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient import discovery
from googleapiclient.errors import HttpError

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

ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"


def build(server: Server, key: str) -> Any:
    return discovery.build(
        "commentanalyzer",
        "v1alpha1",
        developerKey=key,
        discoveryServiceUrl=f"{server.url}/$discovery/rest?version=v1alpha1",
        static_discovery=False,
    )


def analyze(client: Any, text: str, **extra: Any) -> Any:
    body = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}, "INSULT": {}}}
    return client.comments().analyze(body={**body, **extra}).execute()


def test_scores_toxic_above_benign(server: Server) -> None:
    client = build(server, server.key)
    toxic = analyze(client, TOXIC, clientToken="g-1", doNotStore=True)
    benign = analyze(client, BENIGN, doNotStore=True)
    for attribute in ("TOXICITY", "INSULT"):
        t = toxic["attributeScores"][attribute]["summaryScore"]
        b = benign["attributeScores"][attribute]["summaryScore"]
        assert t["type"] == b["type"] == "PROBABILITY"
        assert t["value"] > 0.9 > 0.1 > b["value"]
    assert toxic["clientToken"] == "g-1"
    assert toxic["languages"] == ["en"]


def test_german_and_spanish_comments(server: Server) -> None:
    client = build(server, server.key)
    for toxic, benign, language in (
        (GERMAN_TOXIC, GERMAN_BENIGN, "de"),
        (SPANISH_TOXIC, SPANISH_BENIGN, "es"),
    ):
        t = analyze(client, toxic, languages=[language], doNotStore=True)
        b = analyze(client, benign, doNotStore=True)
        assert t["languages"] == [language] and b["detectedLanguages"] == [language]
        for attribute in ("TOXICITY", "INSULT"):
            assert (
                t["attributeScores"][attribute]["summaryScore"]["value"]
                > 0.8
                > 0.1
                > b["attributeScores"][attribute]["summaryScore"]["value"]
            )


def test_errors_reach_the_client_as_google_errors(server: Server) -> None:
    client = build(server, server.key)
    with pytest.raises(HttpError) as empty:
        analyze(client, "")
    assert empty.value.resp.status == 400
    assert empty.value.reason == "Comment must be non-empty."
    assert empty.value.error_details[0]["@type"] == ERROR_TYPE
    assert empty.value.error_details[0]["errorType"] == "COMMENT_EMPTY"
    with pytest.raises(HttpError) as unknown:
        client.comments().analyze(
            body={"comment": {"text": BENIGN}, "requestedAttributes": {"SPAM": {}}}
        ).execute()
    assert unknown.value.resp.status == 400
    assert unknown.value.reason == "Attribute SPAM does not exist in languages: en."
    with pytest.raises(HttpError) as dutch:
        analyze(client, DUTCH, languages=["nl"])
    assert dutch.value.resp.status == 400
    assert dutch.value.error_details[0]["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    with pytest.raises(HttpError) as bad_key:
        analyze(build(server, "msk_not-a-key"), BENIGN)
    assert bad_key.value.resp.status == 400
    assert bad_key.value.reason == "API key not valid. Please pass a valid API key."


def test_suggestscore_is_recorded(server: Server) -> None:
    client = build(server, server.key)
    before = len(server.feedback())
    answer = (
        client.comments()
        .suggestscore(
            body={
                "comment": {"text": "Google client feedback."},
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.8}}},
                "clientToken": "g-2",
            }
        )
        .execute()
    )
    assert answer["clientToken"] == "g-2"
    rows = server.feedback()[before:]
    assert [(r.text, r.attribute, r.score) for r in rows] == [
        ("Google client feedback.", "TOXICITY", 0.8)
    ]
