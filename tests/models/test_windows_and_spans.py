"""Long text is scored in overlapping windows (sentences are split in moderation.spans)."""

from __future__ import annotations

import itertools

import pytest
import torch

from models.scorer import TransformersScorer, window_bounds

FILLER = "Thank you for the thoughtful reporting on the new library hours. " * 40


@pytest.mark.parametrize(
    ("n", "size", "stride"), [(0, 14, 4), (14, 14, 4), (15, 14, 4), (97, 14, 4)]
)
def test_windows_cover_every_token_and_overlap(n, size, stride):
    bounds = window_bounds(n, size, stride)
    assert bounds[0][0] == 0
    assert bounds[-1][1] == n
    assert all(0 <= e - b <= size for b, e in bounds)
    for (_, end), (begin, _) in itertools.pairwise(bounds):
        assert end - begin >= stride  # neighbours share at least `stride` tokens
    assert (len(bounds) > 1) == (n > size)


def test_toxic_words_after_the_first_window_still_count(trigger_scorer):
    scorer = trigger_scorer(max_length=32, stride=8)
    polite = FILLER  # ~480 tokens: many windows of 30
    (clean, toxic) = scorer.score([polite, polite + " You villain."])
    assert clean["toxicity"] < 0.01
    assert toxic["toxicity"] > 0.99
    windows = scorer.model.windows
    assert all(len(w) <= 32 for w in windows)
    assert sum(1 for w in windows if 12700 in w) == 1  # the trigger is only at the end


def test_long_text_is_the_max_over_its_windows(make_checkpoint):
    scorer = TransformersScorer.from_pretrained(make_checkpoint(), max_length=16, stride=4)
    assert (scorer.max_length, scorer.window_size, scorer.stride) == (16, 14, 4)
    text = "Please keep the comments civil. " * 6 + "The park was full of bright tents."
    ids = scorer.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) > 14
    cls, sep = scorer.tokenizer.cls_token_id, scorer.tokenizer.sep_token_id
    window_probs = []
    with torch.inference_mode():
        for begin, end in window_bounds(len(ids), 14, 4):
            window = torch.tensor([[cls, *ids[begin:end], sep]])
            assert window.shape[1] <= 16
            window_probs.append(torch.sigmoid(scorer.model(input_ids=window).logits[0]))
    expected = torch.stack(window_probs).amax(0).tolist()
    assert len(window_probs) > 2
    (scores,) = scorer.score([text])
    assert list(scores.values()) == pytest.approx(expected, abs=1e-5)
    # Every window mattered somewhere: the result is not just the first window.
    assert list(scores.values()) != pytest.approx(window_probs[0].tolist(), abs=1e-6)
