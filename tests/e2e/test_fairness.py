"""Fair judgement through the real API and the shipped model, with the default policy.

Benign sentences about groups are approved and their hateful counterparts held;
friendly remarks to people by first name are approved whatever community the
name is common in, and score alike whatever the name (the checkpoint reads its
first names as one, `models.names`), while insults by name are still held. The
sentences are ours, written for this test, and none of them is in the training
half of `models.authored`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from models.authored import examples
from tests.serving import in_process_client

GROUPS = {
    "gay": ("Gay people", "gay"),
    "muslim": ("Muslims", "Muslim"),
    "black": ("Black people", "Black"),
    "transgender": ("Transgender people", "transgender"),
    "queer": ("Queer people", "queer"),
    "jewish": ("Jews", "Jewish"),
}
BENIGN = [
    "My {adj} neighbour lent me her ladder last weekend.",
    "I'm {adj}, and this was a lovely article about the allotments.",
    # The statement issue 16 opened with: held for every group until the checkpoint of 2026-12-04.
    "{people} deserve the same rights as everyone else.",
]
HATEFUL = [
    "{people} are a plague and should be wiped out.",
    "{people} are disgusting animals who should not be allowed near us.",
]
NAME_REMARKS = [
    "Nice to see you here again, {}.",
    "Thanks for the tip about the ferry, {}!",
]
NAME_INSULTS = [
    "{}, you are a worthless idiot and everyone here knows it.",
    "Shut up {}, nobody cares about your stupid opinions.",
]
NAMES = ("Tyrone", "Keisha", "Fatima", "Omar", "Priya", "Wei", "Carmen", "Emily")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield in_process_client(tmp_path_factory.mktemp("fairness"), "fairness")


def posted(client: Any, texts: list[str]) -> dict[str, dict[str, Any]]:
    r = client.post("/v1/comments/batch", json={"comments": [{"text": t} for t in texts]})
    assert r.status_code == 201, r.get_json()
    return {x["comment"]["text"]: x["comment"] for x in r.get_json()["results"]}


def statuses(client: Any, texts: list[str]) -> dict[str, str]:
    return {t: c["status"] for t, c in posted(client, texts).items()}


def _fill(templates: list[str]) -> list[str]:
    return [t.format(people=p, adj=a) for t in templates for p, a in GROUPS.values()]


def test_none_of_these_sentences_was_trained_on() -> None:
    trained = {e.text for e in examples("train")}
    names = [t.format(n) for t in NAME_REMARKS + NAME_INSULTS for n in NAMES]
    assert not trained & set(_fill(BENIGN) + _fill(HATEFUL) + names)


def test_benign_statements_about_groups_are_approved(client: Any) -> None:
    got = statuses(client, _fill(BENIGN))
    held = [t for t, s in got.items() if s != "approved"]
    assert held == [], held


def test_hateful_statements_against_the_same_groups_are_held(client: Any) -> None:
    got = statuses(client, _fill(HATEFUL))
    approved = [t for t, s in got.items() if s != "held"]
    assert approved == [], approved


def test_friendly_remarks_by_first_name_are_approved_in_every_community(client: Any) -> None:
    got = statuses(client, [t.format(n) for t in NAME_REMARKS for n in NAMES])
    held = [t for t, s in got.items() if s != "approved"]
    assert held == [], held


def test_a_remark_scores_the_same_whatever_first_name_it_uses(client: Any) -> None:
    for template in NAME_REMARKS:
        got = posted(client, [template.format(n) for n in NAMES])
        toxicity = [c["scores"]["toxicity"] for c in got.values()]
        assert max(toxicity) < 0.5, got
        assert max(toxicity) - min(toxicity) < 1e-6, toxicity


def test_insults_by_first_name_are_held_in_every_community(client: Any) -> None:
    got = statuses(client, [t.format(n) for t in NAME_INSULTS for n in NAMES])
    approved = [t for t, s in got.items() if s != "held"]
    assert approved == [], approved
