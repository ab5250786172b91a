"""The shipped checkpoint: it loads offline and tells toxic comments from benign ones.

Runs against `models/minilm-toxicity/` (or the folder in MODERATION_TEST_MODEL).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from models import DEFAULT_MODEL_PATH, load_scorer
from models.scorer import check_parity
from moderation.spans import split_sentences

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("MODERATION_TEST_MODEL") or DEFAULT_MODEL_PATH)


def test_the_checkpoint_ships_as_one_fp16_file_under_50_mb() -> None:
    weights = MODEL / "model.safetensors"
    assert weights.is_file()
    assert weights.stat().st_size <= 50 * 1024 * 1024
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as f:
        dtypes = {str(f.get_slice(k).get_dtype()) for k in f.keys()}  # noqa: SIM118 (no __iter__)
    assert dtypes == {"F16"}


BENIGN = [
    "Thanks for the detailed article, I learned a lot about the new library.",
    "I respectfully disagree with the council's decision on parking downtown.",
    "The photos from the harvest festival are lovely, well done.",
    "Does anyone know whether the bus timetable changes in March?",
    "My grandmother used to live on that street, nice to see it restored.",
]
TOXIC = {
    "insult": "You are a pathetic, brainless idiot and everyone laughs at you.",
    "threat": "I will kill you if you ever post here again.",
    "profanity": "This is fucking bullshit, what a shitty damn article.",
}
POLITE = (
    "Thank you for the careful reporting on the library renovation, and for including "
    "the opening hours and the details about the new reading room for children. "
)


@pytest.fixture(scope="module")
def reference():
    """Return the fp32 scorer of the shipped checkpoint."""
    return load_scorer(MODEL, fast=False)


@pytest.fixture(scope="module")
def benign_scores(reference):
    """Return the benign comments' scores."""
    return reference.score(BENIGN)


def test_loads_offline_without_a_hub_cache(tmp_path):
    code = (
        "import sys; from models import load_scorer; "
        "s = load_scorer(sys.argv[1]); print(s.name, s.version, s.score(['hello'])[0]['toxicity'])"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", code, str(MODEL)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    name, version, toxicity = out.stdout.split()
    assert name == MODEL.resolve().name
    assert len(version) == 12 and 0.0 <= float(toxicity) <= 1.0


def test_shipped_model_has_all_six_categories(reference):
    assert reference.categories == (
        "toxicity",
        "severe_toxicity",
        "insult",
        "profanity",
        "threat",
        "identity_attack",
    )
    assert reference.max_length == 256


def test_benign_comments_score_low(benign_scores):
    for text, scores in zip(BENIGN, benign_scores, strict=True):
        assert scores["toxicity"] < 0.3, (text, scores)


@pytest.mark.parametrize("category", sorted(TOXIC))
def test_toxic_comment_scores_far_above_benign_on_its_category(reference, benign_scores, category):
    (scores,) = reference.score([TOXIC[category]])
    worst_benign = max(s[category] for s in benign_scores)
    assert scores[category] > 0.5, scores
    assert scores[category] - worst_benign > 0.4, (scores, worst_benign)
    assert scores["toxicity"] > max(s["toxicity"] for s in benign_scores), scores


def test_toxic_sentence_after_600_tokens_of_polite_filler(reference):
    filler = POLITE * 24
    n_tokens = len(
        reference.tokenizer(filler, add_special_tokens=False, verbose=False)["input_ids"]
    )
    assert n_tokens > 600
    clean, dirty = reference.score([filler, filler + TOXIC["insult"]])
    assert clean["toxicity"] < 0.3
    assert dirty["toxicity"] > 0.5
    assert dirty["insult"] > 0.5


def test_the_toxic_sentence_scores_highest_of_the_comment_s_sentences(reference):
    text = f"{BENIGN[0]} {BENIGN[1]}\n{TOXIC['insult']} {BENIGN[3]}"
    sentences = [text[b:e] for b, e in split_sentences(text)]  # as the service splits them
    assert len(sentences) == 4
    scores = reference.score(sentences)
    worst = max(range(4), key=lambda i: scores[i]["toxicity"])
    assert sentences[worst] == TOXIC["insult"]
    assert scores[worst]["toxicity"] > 0.5


@pytest.mark.parametrize("engine", ["onnxruntime", "torch"])
def test_fast_path_agrees_with_the_reference(reference, engine):
    fast = load_scorer(MODEL, fast=True, engine=engine)
    assert (fast.engine, fast.precision) == (engine, "int8")
    texts = [*BENIGN, *TOXIC.values(), POLITE * 3 + TOXIC["threat"]]
    assert check_parity(reference, fast, texts) <= 0.02
    # Same windows, so a long comment is cut the same way whichever runtime serves.
    assert fast.preprocess(texts) == reference.preprocess(texts)


def test_its_n_gram_head_is_mixed_into_every_category_on_both_paths(reference):
    """Each category = 0.8 x the transformer's + 0.2 x its n-gram head's (models.ngrams)."""
    head = reference.text_head
    assert head is not None
    assert head.categories == reference.categories and head.weight == 0.2
    texts = [*BENIGN, *TOXIC.values()]
    q = head.probability(texts)
    for a, b, row in zip(
        reference.transformer_scores(texts), reference.score(texts), q, strict=True
    ):
        for category, p in zip(head.categories, row, strict=True):
            assert b[category] == pytest.approx(0.8 * a[category] + 0.2 * p)
    fast = load_scorer(MODEL, fast=True)
    assert fast.text_head is not None and fast.text_head.categories == head.categories
