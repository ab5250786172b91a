"""The npm package perspective-api-client (3.1.0), run by Node against the running service."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.compat.conftest import TOXIC, Server

NODE_DIR = Path(__file__).resolve().parent / "node"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("Node.js is not installed: the npm client cannot be tested")
        pytest.skip("Node.js is not installed")
    if not (NODE_DIR / "node_modules" / "perspective-api-client").is_dir():
        # scripts/setup.sh dev installs it; this covers a checkout that skipped that step.
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300
        )
    return node


@pytest.fixture(scope="module")
def seen(server: Server) -> dict[str, Any]:
    done = subprocess.run(
        [_node(), str(NODE_DIR / "client.js"), server.url, server.key],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_scores_toxic_above_benign(seen: dict[str, Any]) -> None:
    for attribute in ("TOXICITY", "INSULT"):
        toxic = seen["toxic"][attribute]["summaryScore"]["value"]
        benign = seen["benign"][attribute]["summaryScore"]["value"]
        assert toxic > 0.9 > 0.1 > benign
    assert seen["html"]["INSULT"]["summaryScore"]["value"] > 0.9  # the client stripped the tags


def test_stored_when_the_client_asks_and_suggestscore_recorded(
    server: Server, seen: dict[str, Any]
) -> None:
    assert seen["stored"] == {"clientToken": "node-1", "languages": ["en"]}
    assert TOXIC in server.stored_texts()
    assert seen["suggest"]["clientToken"] == "node-2"
    assert ("TOXICITY", 0.05) in [(r.attribute, r.score) for r in server.feedback()]


def test_german_and_spanish_comments(seen: dict[str, Any]) -> None:
    answers = seen["languages"]
    for language, name in (("de", "german"), ("es", "spanish")):
        toxic, benign = answers[f"{name}Toxic"], answers[f"{name}Benign"]
        assert toxic["languages"] == toxic["detectedLanguages"] == [language]
        assert benign["languages"] == benign["detectedLanguages"] == [language]
        assert toxic["toxicity"] > 0.8 > 0.1 > benign["toxicity"]


def test_errors_reach_the_client(seen: dict[str, Any]) -> None:
    errors = seen["errors"]
    assert all(e is not None and e["name"] == "ResponseError" for e in errors.values()), errors
    assert errors["unknownAttribute"]["status"] == 400
    assert (
        errors["unknownAttribute"]["message"] == "Attribute SPAM does not exist in languages: en."
    )
    assert errors["badKey"]["message"] == "API key not valid. Please pass a valid API key."
    assert errors["dutch"]["error"]["details"][0]["errorType"] == (
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    )
    assert errors["tooLong"]["error"]["details"][0]["errorType"] == "COMMENT_TOO_LONG"
