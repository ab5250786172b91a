"""Perspective API drop-in (AnalyzeComment, SuggestCommentScore, discovery) through the test client."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import marshmallow as ma
import pytest
import sqlalchemy as sa
from werkzeug.exceptions import ServiceUnavailable

from api.perspective.schemas import MESSAGES
from api.services import services
from moderation import db
from moderation.policy import OtherLanguages

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"
ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
TOXIC = "Only a nitwit would write this. Otherwise the photos are nice."
BENIGN = "Thanks for the write-up, the section on tide pools was lovely."
FRENCH = "Je pense que cet article est vraiment très intéressant et bien écrit, merci beaucoup."


def analyze(client: Any, key: str | None, body: Any, **query: str) -> Any:
    params = {**({"key": key} if key else {}), **query}
    return client.post(ANALYZE, json=body, query_string=params)


def request(text: str, *attributes: str, **extra: Any) -> dict[str, Any]:
    return {
        "comment": {"text": text},
        "requestedAttributes": {a: {} for a in attributes or ("TOXICITY",)},
        **extra,
    }


def google_error(
    response: Any, code: int, status: str, error_type: str | None = None
) -> dict[str, Any]:
    """Assert Google's error shape and return the error object."""
    assert response.status_code == code, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert error["status"] == status
    assert error["message"]
    assert set(error) <= {"code", "message", "status", "details"}
    if error_type is not None:
        assert error["details"][0]["@type"] == ERROR_TYPE
        assert error["details"][0]["errorType"] == error_type
    return error


def count(app: Any, table: sa.Table) -> int:
    with services(app).store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def utf16_slice(text: str, begin: int, end: int) -> str:
    """What JavaScript's text.slice(begin, end) gives: offsets in UTF-16 code units."""
    return text.encode("utf-16-le")[2 * begin : 2 * end].decode("utf-16-le")


# -- analyze ------------------------------------------------------------------


def test_toxic_scores_above_benign_with_google_response_shape(client: Any, site_key: str) -> None:
    toxic = analyze(client, site_key, request(TOXIC, "TOXICITY", "INSULT", clientToken="c-1"))
    benign = analyze(client, site_key, request(BENIGN, "TOXICITY", "INSULT"))
    assert toxic.status_code == 200 and benign.status_code == 200
    t, b = toxic.get_json(), benign.get_json()
    assert set(t["attributeScores"]) == {"TOXICITY", "INSULT"}
    for attribute in ("TOXICITY", "INSULT"):
        summary = t["attributeScores"][attribute]["summaryScore"]
        assert summary["type"] == "PROBABILITY"
        assert summary["value"] > b["attributeScores"][attribute]["summaryScore"]["value"]
    assert t["languages"] == ["en"]
    assert t["detectedLanguages"] == ["en"]
    assert t["clientToken"] == "c-1"
    assert "clientToken" not in b


def test_snake_case_fields_header_key_and_google_query_parameters(
    app: Any, client: Any, site_key: str
) -> None:
    body = {
        "comment": {"text": TOXIC, "type": "PLAIN_TEXT"},
        "requested_attributes": {
            "TOXICITY": {"score_type": "PROBABILITY", "score_threshold": 0.01}
        },
        "do_not_store": True,
        "span_annotations": True,
        "client_token": "snake",
        "session_id": "s",
        "community_id": "c",
        "languages": ["en"],
        "context": {"entries": [{"text": "the article", "type": "PLAIN_TEXT"}]},
    }
    r = client.post(
        ANALYZE,
        json=body,
        headers={"X-Goog-Api-Key": site_key},
        query_string={"alt": "json", "prettyPrint": "false", "fields": "x", "quotaUser": "u"},
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    out = r.get_json()
    assert out["clientToken"] == "snake"
    assert len(out["attributeScores"]["TOXICITY"]["spanScores"]) == 2  # span_annotations honoured
    assert count(app, db.comments) == 0  # do_not_store honoured


def test_versioned_experimental_and_every_attribute(client: Any, site_key: str) -> None:
    keys = [
        "TOXICITY@6",
        "SEVERE_TOXICITY",
        "INSULT_EXPERIMENTAL",
        "PROFANITY@2",
        "THREAT",
        "IDENTITY_ATTACK_EXPERIMENTAL",
        "toxicity",
    ]
    r = analyze(client, site_key, request("You blasted dunderhead.", *keys))
    assert r.status_code == 200, r.get_data(as_text=True)
    scores = {k: v["summaryScore"]["value"] for k, v in r.get_json()["attributeScores"].items()}
    assert set(scores) == set(keys)  # answered under the key as the client wrote it
    assert scores["INSULT_EXPERIMENTAL"] > 0.9 and scores["PROFANITY@2"] > 0.9
    assert scores["THREAT"] < 0.1 and scores["IDENTITY_ATTACK_EXPERIMENTAL"] < 0.1


def test_span_scores_count_utf16_code_units(client: Any, site_key: str) -> None:
    text = "Hello 👋🏽 friends, nice 🐙 photos! You nitwit 🎉. Bye."
    whole = analyze(client, site_key, request(text)).get_json()
    [span] = whole["attributeScores"]["TOXICITY"]["spanScores"]
    assert (span["begin"], span["end"]) == (0, len(text.encode("utf-16-le")) // 2)
    assert span["end"] > len(text)  # each emoji is two code units
    per_sentence = analyze(client, site_key, request(text, spanAnnotations=True)).get_json()
    spans = per_sentence["attributeScores"]["TOXICITY"]["spanScores"]
    pieces = [utf16_slice(text, s["begin"], s["end"]) for s in spans]
    assert pieces == ["Hello 👋🏽 friends, nice 🐙 photos!", "You nitwit 🎉.", "Bye."]
    values = [s["score"]["value"] for s in spans]
    assert values[1] > 0.9 > max(values[0], values[2])


def test_span_annotations_on_a_stored_approved_comment(client: Any, site_key: str) -> None:
    text = "The ferry was late. The view was worth it."
    r = analyze(client, site_key, request(text, spanAnnotations=True))
    spans = r.get_json()["attributeScores"]["TOXICITY"]["spanScores"]
    assert [utf16_slice(text, s["begin"], s["end"]) for s in spans] == [
        "The ferry was late.",
        "The view was worth it.",
    ]


def test_score_threshold_filters_attributes_and_spans(client: Any, site_key: str) -> None:
    body = {
        "comment": {"text": TOXIC},
        "requestedAttributes": {
            "INSULT": {"scoreThreshold": 0.5},
            "THREAT": {"scoreThreshold": 0.5},
        },
        "spanAnnotations": True,
    }
    out = analyze(client, site_key, body).get_json()
    assert set(out["attributeScores"]) == {"INSULT"}
    spans = out["attributeScores"]["INSULT"]["spanScores"]
    assert [utf16_slice(TOXIC, s["begin"], s["end"]) for s in spans] == [
        "Only a nitwit would write this."
    ]
    body["comment"] = {"text": BENIGN}
    out = analyze(client, site_key, body).get_json()
    assert "attributeScores" not in out  # every attribute filtered out: the field is absent
    assert out["languages"] == ["en"]


def test_stored_unless_do_not_store(app: Any, client: Any, site_key: str) -> None:
    analyze(client, site_key, request(TOXIC, doNotStore=True))
    assert count(app, db.comments) == 0
    analyze(client, site_key, request(TOXIC))
    analyze(client, site_key, request(BENIGN))
    with services(app).store.engine.connect() as conn:
        rows = conn.execute(sa.select(db.comments.c.text, db.comments.c.status)).all()
    assert sorted(rows) == sorted([(TOXIC, "held"), (BENIGN, "approved")])
    assert count(app, db.audit_log) >= 2
    site = services(app).store.sites.get("daily-bugle")
    held = services(app).store.comments.queue([site.id], sort="risk", limit=10)
    assert [c.text for c in held] == [TOXIC]  # a moderator sees it in the queue


def test_html_comment_is_scored_and_stored_as_text(app: Any, client: Any, site_key: str) -> None:
    body = {
        "comment": {"text": "<p>You <b>nitwit</b> &amp; fool</p>", "type": "HTML"},
        "requestedAttributes": {"INSULT": {}},
    }
    out = analyze(client, site_key, body).get_json()
    assert out["attributeScores"]["INSULT"]["summaryScore"]["value"] > 0.9
    with services(app).store.engine.connect() as conn:
        assert conn.execute(sa.select(db.comments.c.text)).scalar_one() == "You nitwit & fool"


def test_english_language_codes_are_accepted(client: Any, site_key: str) -> None:
    for languages in (["en"], ["en-GB"], ["fr", "en"], ["EN_us"]):
        r = analyze(client, site_key, request(BENIGN, languages=languages))
        assert r.status_code == 200, (languages, r.get_data(as_text=True))
        assert r.get_json()["languages"] == languages


def test_detected_non_english_is_refused_unless_the_site_scores_other_languages(
    app: Any, client: Any, site_key: str
) -> None:
    error = google_error(
        analyze(client, site_key, request(FRENCH)),
        400,
        "INVALID_ARGUMENT",
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
    )
    assert error["details"][0]["languageNotSupportedByAttributeError"] == {
        "detectedLanguages": ["fr"],
        "attribute": "TOXICITY",
    }
    store = services(app).store
    site = store.sites.get("daily-bugle")
    store.policies.change(
        site.id, actor="test", live=replace(site.policy, other_languages=OtherLanguages.SCORE)
    )
    r = analyze(client, site_key, request(FRENCH))
    assert r.status_code == 200
    assert r.get_json()["detectedLanguages"] == ["fr"]


def test_scorer_failure_is_503_and_a_stored_comment_is_held(
    app: Any, client: Any, site_key: str, scorer: Any
) -> None:
    scorer.fail = RuntimeError("inference server down")
    r = analyze(client, site_key, request(BENIGN, doNotStore=True))
    google_error(r, 503, "UNAVAILABLE")
    assert r.headers["Retry-After"] == "30"
    google_error(analyze(client, site_key, request(BENIGN)), 503, "UNAVAILABLE")
    with services(app).store.engine.connect() as conn:
        row = conn.execute(sa.select(db.comments)).one()
    assert (row.status, row.scoring_state) == ("held", "pending")  # kept, re-scored later


# -- analyze errors -------------------------------------------------------------


def test_missing_and_invalid_keys(app: Any, client: Any, site_key: str) -> None:
    error = google_error(analyze(client, None, request(BENIGN)), 403, "PERMISSION_DENIED")
    assert error["message"] == "The request is missing a valid API key."
    error = google_error(analyze(client, "msk_nope", request(BENIGN)), 400, "INVALID_ARGUMENT")
    assert error["message"] == "API key not valid. Please pass a valid API key."
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    store = services(app).store
    site = store.sites.get("daily-bugle")
    key_id, key = store.sites.create_key(site.id)
    assert analyze(client, key, request(BENIGN)).status_code == 200
    store.sites.revoke_key(key_id)
    google_error(analyze(client, key, request(BENIGN)), 400, "INVALID_ARGUMENT")
    assert count(app, db.comments) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"requestedAttributes": {"TOXICITY": {}}},
        {"comment": {}, "requestedAttributes": {"TOXICITY": {}}},
        {"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}},
        {"comment": {"text": " \n "}, "requestedAttributes": {"TOXICITY": {}}},
        {"comment": {"text": "<p> </p>", "type": "HTML"}, "requestedAttributes": {"TOXICITY": {}}},
        {"comment": None, "requestedAttributes": {"TOXICITY": {}}},
    ],
)
def test_empty_comment(client: Any, site_key: str, body: Any) -> None:
    error = google_error(analyze(client, site_key, body), 400, "INVALID_ARGUMENT", "COMMENT_EMPTY")
    assert error["message"] == "Comment must be non-empty."


def test_comment_too_long_counts_utf8_bytes(app: Any, client: Any, site_key: str) -> None:
    at_limit = "é" * 10_240  # 20,480 bytes, 10,240 characters
    ok = analyze(client, site_key, request(at_limit, doNotStore=True, languages=["en"]))
    assert ok.status_code == 200, ok.get_data(as_text=True)
    error = google_error(
        analyze(client, site_key, request(at_limit + "a")),
        400,
        "INVALID_ARGUMENT",
        "COMMENT_TOO_LONG",
    )
    assert "20480" in error["message"]
    assert count(app, db.comments) == 0


def test_no_requested_attributes(client: Any, site_key: str) -> None:
    for body in (
        {"comment": {"text": BENIGN}},
        {"comment": {"text": BENIGN}, "requestedAttributes": {}},
        {"comment": {"text": BENIGN}, "requestedAttributes": None},
    ):
        google_error(
            analyze(client, site_key, body), 400, "INVALID_ARGUMENT", "NO_REQUESTED_ATTRIBUTES"
        )


def test_unknown_attribute_and_score_type(app: Any, client: Any, site_key: str) -> None:
    error = google_error(
        analyze(client, site_key, request(BENIGN, "TOXICITY", "SPAM")), 400, "INVALID_ARGUMENT"
    )
    assert error["message"] == "Attribute SPAM does not exist in languages: en."
    body = {"comment": {"text": BENIGN}, "requestedAttributes": {"TOXICITY": {"scoreType": "RAW"}}}
    error = google_error(analyze(client, site_key, body), 400, "INVALID_ARGUMENT")
    assert "score type RAW" in error["message"]
    assert count(app, db.comments) == 0


def test_requested_language_other_than_english(client: Any, site_key: str) -> None:
    error = google_error(
        analyze(client, site_key, request(BENIGN, "INSULT", languages=["de", "fr"])),
        400,
        "INVALID_ARGUMENT",
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
    )
    assert error["message"] == "Attribute INSULT does not support request languages: de, fr"
    assert error["details"][0]["languageNotSupportedByAttributeError"] == {
        "requestedLanguages": ["de", "fr"],
        "attribute": "INSULT",
    }


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"", "application/json"),
        (b"", None),
        (b"comment=hello&requestedAttributes=TOXICITY", "application/x-www-form-urlencoded"),
        (b'{"comment": {"text": "unterminated', "application/json"),
        (b"[1, 2]", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b'"just a string"', "text/plain"),
    ],
)
def test_bad_bodies_are_400_never_500(
    app: Any, client: Any, site_key: str, data: bytes, content_type: str | None
) -> None:
    r = client.post(ANALYZE, data=data, content_type=content_type, query_string={"key": site_key})
    google_error(r, 400, "INVALID_ARGUMENT")
    assert count(app, db.comments) == 0


def test_field_errors_name_the_field_as_google_does(client: Any, site_key: str) -> None:
    cases = [
        ({**request(BENIGN), "colour": "red"}, 'Unknown name "colour": Cannot find field.'),
        (
            {"comment": {"text": BENIGN, "lang": "en"}, "requestedAttributes": {"TOXICITY": {}}},
            "Unknown name \"lang\" at 'comment': Cannot find field.",
        ),
        ({"comment": {"text": 42}, "requestedAttributes": {"TOXICITY": {}}}, "'comment.text'"),
        ({"comment": "hello", "requestedAttributes": {"TOXICITY": {}}}, "'comment'"),
        (
            {"comment": {"text": BENIGN, "type": "MARKDOWN"}, "requestedAttributes": {"X": {}}},
            "'comment.type'",
        ),
        (
            {
                "comment": {"text": BENIGN},
                "requestedAttributes": {"TOXICITY": {"scoreThreshold": "x"}},
            },
            "'requestedAttributes.TOXICITY.scoreThreshold'",
        ),
        ({**request(BENIGN), "languages": "en"}, "'languages'"),
        ({**request(BENIGN), "doNotStore": "maybe"}, "'doNotStore'"),
        (
            {
                **request(BENIGN),
                "context": {
                    "entries": [{"text": "a"}],
                    "articleAndParentComment": {"article": {"text": "b"}},
                },
            },
            "Context can have either entries or article_and_parent_comment, but both were set.",
        ),
    ]
    for body, expected in cases:
        error = google_error(analyze(client, site_key, body), 400, "INVALID_ARGUMENT")
        assert expected in error["message"], (body, error)
        assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"


def test_lone_surrogate_is_400_not_a_database_error(app: Any, client: Any, site_key: str) -> None:
    raw = b'{"comment": {"text": "bad \\ud800 text"}, "requestedAttributes": {"TOXICITY": {}}}'
    r = client.post(
        ANALYZE, data=raw, content_type="application/json", query_string={"key": site_key}
    )
    google_error(r, 400, "INVALID_ARGUMENT")
    assert count(app, db.comments) == 0


def test_oversized_body_wrong_method_and_unknown_path(app: Any, client: Any, site_key: str) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1_000
    google_error(analyze(client, site_key, request("y" * 2_000)), 413, "INVALID_ARGUMENT")
    error = google_error(client.get(ANALYZE, query_string={"key": site_key}), 404, "NOT_FOUND")
    assert error["message"] == "Method not found."
    google_error(client.post("/v1alpha1/comments:explain", json={}), 404, "NOT_FOUND")


def test_unexpected_failure_is_a_google_500(
    app: Any, client: Any, site_key: str, monkeypatch: Any
) -> None:
    def broken(key: str) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(services(app).store.sites, "for_key", broken)
    error = google_error(analyze(client, site_key, request(BENIGN)), 500, "INTERNAL")
    assert "fire" not in error["message"]


def test_database_down_is_a_google_503(
    app: Any, client: Any, site_key: str, monkeypatch: Any
) -> None:
    def gone(key: str) -> None:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(services(app).store.sites, "for_key", gone)
    r = analyze(client, site_key, request(BENIGN))
    google_error(r, 503, "UNAVAILABLE")
    assert r.headers["Retry-After"] == "5"

    def overloaded(key: str) -> None:
        raise ServiceUnavailable()

    monkeypatch.setattr(services(app).store.sites, "for_key", overloaded)
    r = analyze(client, site_key, request(BENIGN))
    google_error(r, 503, "UNAVAILABLE")
    assert r.headers["Retry-After"] == "5"


def test_v1_endpoints_keep_our_415(client: Any, auth: dict[str, str]) -> None:
    r = client.post("/v1/comments", data="text=hello", headers=auth, content_type="text/plain")
    assert r.status_code == 415
    assert r.get_json()["error"]["code"] == "unsupported_media_type"


# -- suggestscore ---------------------------------------------------------------


def test_suggested_scores_become_labels_in_the_decisions_export(
    app: Any, client: Any, site_key: str
) -> None:
    body = {
        "comment": {"text": "I disagree, but politely."},
        "attributeScores": {
            "TOXICITY@1": {"summaryScore": {"value": 0.9, "type": "PROBABILITY"}},
            "INSULT_EXPERIMENTAL": {"summary_score": {"value": 0.1}},
        },
        "languages": ["en"],
        "clientToken": "fb-1",
    }
    r = client.post(SUGGEST, json=body, query_string={"key": site_key})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == {
        "detectedLanguages": ["en"],
        "requestedLanguages": ["en"],
        "clientToken": "fb-1",
    }
    store = services(app).store
    site = store.sites.get("daily-bugle")
    rows = {(f.attribute, f.score, f.source) for f in store.labels.for_site(site.id)}
    assert rows == {("TOXICITY", 0.9, "perspective"), ("INSULT", 0.1, "perspective")}
    from moderation.sites import Role

    _, token = store.users.create("olga", Role.OPERATOR, [site.id])
    csv = client.get(
        f"/v1/sites/{site.id}/decisions.csv", headers={"Authorization": f"Bearer {token}"}
    ).get_data(as_text=True)
    import csv as csvlib

    exported = list(csvlib.DictReader(io.StringIO(csv)))
    assert [(e["text"], e["label"], e["source"]) for e in exported] == [
        ("I disagree, but politely.", "1", "perspective")
    ]


def test_suggestscore_errors(app: Any, client: Any, site_key: str) -> None:
    def suggest(body: Any, key: str | None = site_key) -> Any:
        return client.post(SUGGEST, json=body, query_string={"key": key} if key else {})

    ok = {
        "comment": {"text": BENIGN},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.2}}},
    }
    google_error(suggest(ok, None), 403, "PERMISSION_DENIED")
    google_error(suggest(ok, "msk_nope"), 400, "INVALID_ARGUMENT")
    google_error(suggest({**ok, "comment": {"text": ""}}), 400, "INVALID_ARGUMENT", "COMMENT_EMPTY")
    google_error(
        suggest({**ok, "comment": {"text": "x" * 20_481}}),
        400,
        "INVALID_ARGUMENT",
        "COMMENT_TOO_LONG",
    )
    assert (
        "attribute_scores"
        in google_error(suggest({"comment": {"text": BENIGN}}), 400, "INVALID_ARGUMENT")["message"]
    )
    error = google_error(
        suggest({**ok, "attributeScores": {"SPAM": {"summaryScore": {"value": 0.2}}}}),
        400,
        "INVALID_ARGUMENT",
    )
    assert error["message"] == "Attribute SPAM does not exist in languages: en."
    for score in ({"summaryScore": {"value": 1.5}}, {"summaryScore": {}}, {}):
        error = google_error(
            suggest({**ok, "attributeScores": {"TOXICITY": score}}), 400, "INVALID_ARGUMENT"
        )
        assert "summaryScore.value" in error["message"]
    google_error(suggest({**ok, "extra": 1}), 400, "INVALID_ARGUMENT")
    r = client.post(SUGGEST, data=b"", query_string={"key": site_key})
    google_error(r, 400, "INVALID_ARGUMENT", "COMMENT_EMPTY")
    site = services(app).store.sites.get("daily-bugle")
    assert services(app).store.labels.for_site(site.id) == []


# -- discovery ------------------------------------------------------------------


def test_discovery_document_points_at_this_host(client: Any) -> None:
    r = client.get("/$discovery/rest", query_string={"version": "v1alpha1"})
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["rootUrl"] == "http://localhost/"
    assert doc["servicePath"] == ""
    assert doc["name"] == "commentanalyzer" and doc["version"] == "v1alpha1"
    methods = doc["resources"]["comments"]["methods"]
    assert methods["analyze"]["path"] == "v1alpha1/comments:analyze"
    assert methods["suggestscore"]["httpMethod"] == "POST"
    for method in methods.values():
        for ref in (method["request"]["$ref"], method["response"]["$ref"]):
            assert ref in doc["schemas"]
    other = client.get(
        "/$discovery/rest", query_string={"version": "v1"}, base_url="https://perspective.example"
    )
    google_error(other, 404, "NOT_FOUND")
    doc = client.get("/$discovery/rest", base_url="https://perspective.example").get_json()
    assert doc["rootUrl"] == "https://perspective.example/"


def test_discovery_document_describes_every_field_of_every_message(client: Any) -> None:
    doc = client.get("/$discovery/rest").get_json()
    for schema in MESSAGES:
        name = schema.__name__.removesuffix("Schema")
        properties = doc["schemas"][name]["properties"]
        fields = schema().fields
        assert set(properties) == {f.data_key or n for n, f in fields.items()}, name
        for field_name, field in fields.items():
            described = properties[field.data_key or field_name]
            if isinstance(field, ma.fields.Nested):
                assert described["$ref"] in doc["schemas"]
            elif isinstance(field, ma.fields.List | ma.fields.Dict):
                inner = described.get("items") or described["additionalProperties"]
                assert "$ref" not in inner or inner["$ref"] in doc["schemas"]
            else:
                assert described["type"] in {"string", "number", "integer", "boolean"}


def test_answers_name_only_fields_the_discovery_document_describes(
    client: Any, site_key: str
) -> None:
    doc = client.get("/$discovery/rest").get_json()
    analyzed = analyze(
        client, site_key, request(TOXIC, "TOXICITY", spanAnnotations=True, clientToken="t")
    ).get_json()
    assert set(analyzed) <= set(doc["schemas"]["AnalyzeCommentResponse"]["properties"])
    attribute = analyzed["attributeScores"]["TOXICITY"]
    assert set(attribute) <= set(doc["schemas"]["AttributeScores"]["properties"])
    assert set(attribute["spanScores"][0]) <= set(doc["schemas"]["SpanScore"]["properties"])
    suggested = client.post(
        SUGGEST,
        query_string={"key": site_key},
        json={
            "comment": {"text": BENIGN},
            "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.1}}},
            "languages": ["en"],
            "clientToken": "t",
        },
    ).get_json()
    assert set(suggested) == set(doc["schemas"]["SuggestCommentScoreResponse"]["properties"])


@pytest.mark.parametrize("do_not_store", [False, True])
def test_a_comment_s_language_is_identified_once_per_request(
    app: Any, client: Any, site_key: str, do_not_store: bool
) -> None:
    service = services(app).service
    identify = service.detect_language
    calls: list[str] = []

    def counted(text: str) -> tuple[str, float]:
        calls.append(text)
        return identify(text)

    service.detect_language = counted
    r = analyze(client, site_key, request(TOXIC, doNotStore=do_not_store, spanAnnotations=True))
    assert r.status_code == 200
    assert calls == [TOXIC]
