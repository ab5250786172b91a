"""Read the training sources and map each one's labels onto our six categories.

A category a source says nothing about is NaN for its rows: the training loss
masks it instead of treating it as a negative.

    python -m models.data ../shared/data --validation-csv DIR [--seed 13]

writes the validation split that `models.train` holds out (one CSV per source:
`text` and the six categories, 1/0, empty where the source says nothing), so
any model can be measured on the same rows with `python -m models.evaluate`.
Written outside the repository: the data is never committed.
"""

from __future__ import annotations

import argparse
import ast
import codecs
import contextlib
import csv
import html
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from models.exports import unescape_cell
from models.labels import CATEGORIES

NAN = float("nan")


@dataclass(frozen=True)
class Source:
    """One labelled data set: texts, a (rows x 6) label matrix with NaN for unknown."""

    name: str
    texts: list[str]
    labels: np.ndarray
    stratify: np.ndarray  # the key the validation split is stratified on


def _frame(rows: dict[str, object], n: int) -> np.ndarray:
    out = np.full((n, len(CATEGORIES)), NAN, dtype=np.float32)
    for category, values in rows.items():
        out[:, CATEGORIES.index(category)] = np.asarray(values, dtype=np.float32)
    return out


_TWITTER_NOISE = re.compile(r"(?:^|\s)(?:RT\s+)?@\w+:?|https?://\S+|\bURL\b|@USER")


def clean_tweet(text: str) -> str:
    """Drop mentions, retweet markers and links, which carry no toxicity signal."""
    text = html.unescape(text)
    return re.sub(r"\s+", " ", _TWITTER_NOISE.sub(" ", text)).strip()


def decode_kaggle(raw: str) -> str:
    """Undo the Kaggle 2012 file's Python-style escaping (sometimes applied twice)."""
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    for _ in range(2):
        if "\\" not in text:
            break
        try:
            decoded = codecs.decode(text, "unicode_escape")
        except (UnicodeDecodeError, ValueError):
            try:
                decoded = ast.literal_eval('"""' + text.replace('"""', "") + '"""')
            except (SyntaxError, ValueError):
                break
        # Escaped UTF-8 bytes (\xc3\xa9) decode to latin-1 mojibake: repair it.
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            decoded = decoded.encode("latin-1").decode("utf-8")
        text = decoded
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def load_jigsaw(path: Path) -> Source:
    df = pd.read_csv(path)
    cols = {
        "toxicity": df.toxic,
        "severe_toxicity": df.severe_toxic,
        "insult": df.insult,
        "profanity": df.obscene,
        "threat": df.threat,
        "identity_attack": df.identity_hate,
    }
    strat = (df.toxic * 1 + df.severe_toxic * 2 + df.threat * 4 + df.identity_hate * 8).to_numpy()
    strat = np.where(pd.Series(strat).map(pd.Series(strat).value_counts()) < 10, -1, strat)
    texts = [re.sub(r"\s+", " ", t).strip() for t in df.comment_text.astype(str)]
    return Source("jigsaw", texts, _frame(cols, len(df)), strat)


def load_kaggle(path: Path) -> Source:
    df = pd.read_csv(path)
    y = df.Insult.to_numpy()
    texts = [decode_kaggle(t) for t in df.Comment.astype(str)]
    return Source("kaggle_insults", texts, _frame({"toxicity": y, "insult": y}, len(df)), y)


def load_olid(path: Path) -> Source:
    df = pd.read_csv(path, sep="\t", quoting=3)
    off = (df.subtask_a == "OFF").to_numpy().astype(float)
    unt = (df.subtask_b == "UNT").to_numpy()
    n = len(df)
    # NOT: nothing offensive at all, so every category is a known negative.
    # OFF/UNT: untargeted swearing, i.e. profanity that insults no one.
    neg_or_nan = np.where(off == 0, 0.0, NAN)
    cols = {
        "toxicity": off,
        "severe_toxicity": neg_or_nan,
        "insult": np.where(unt, 0.0, neg_or_nan),
        "profanity": np.where(unt, 1.0, neg_or_nan),
        "threat": np.where(unt, 0.0, neg_or_nan),
        "identity_attack": np.where(unt, 0.0, neg_or_nan),
    }
    texts = [clean_tweet(t.strip('"')) for t in df.tweet.astype(str)]
    return Source("olid", texts, _frame(cols, n), off.astype(int) + unt.astype(int))


def load_davidson(path: Path) -> Source:
    df = pd.read_csv(path)
    cls = df["class"].to_numpy()
    neither = cls == 2
    neg_or_nan = np.where(neither, 0.0, NAN)
    cols = {
        "toxicity": (cls != 2).astype(float),
        "identity_attack": np.where(cls == 0, 1.0, 0.0),
        "severe_toxicity": neg_or_nan,
        "insult": neg_or_nan,
        "profanity": neg_or_nan,
        "threat": neg_or_nan,
    }
    texts = [clean_tweet(t) for t in df.tweet.astype(str)]
    return Source("davidson", texts, _frame(cols, len(df)), cls)


def load_hateval(path: Path) -> Source:
    df = pd.read_csv(path)
    hs = df.HS.to_numpy().astype(float)
    # Hate speech is toxic; a tweet that is not hate speech may still be
    # offensive in other ways, so its toxicity is unknown.
    cols = {"identity_attack": hs, "toxicity": np.where(hs == 1, 1.0, NAN)}
    texts = [clean_tweet(t) for t in df.text.astype(str)]
    return Source("hateval", texts, _frame(cols, len(df)), (hs * 2 + df.AG.to_numpy()).astype(int))


def load_toxigen(path: Path) -> Source:
    df = pd.read_csv(path)
    y = (df.label == "hate").to_numpy().astype(float)
    cols = {"identity_attack": y, "toxicity": y}
    return Source("toxigen", df.text.astype(str).tolist(), _frame(cols, len(df)), y.astype(int))


def load_labelled_csv(path: Path) -> Source:
    """A site's own decisions export (`text`, `label` 1 = toxic): feeds toxicity only."""
    df = pd.read_csv(path)
    y = pd.to_numeric(df["label"], errors="coerce").to_numpy().astype(float)
    keep = ~np.isnan(y)
    texts = [unescape_cell(t) for t in df.text.astype(str)[keep]]
    y = y[keep]
    return Source(path.stem, texts, _frame({"toxicity": y}, len(texts)), y.astype(int))


def _is_labelled_csv(path: Path) -> bool:
    if path.suffix != ".csv":
        return False
    header = pd.read_csv(path, nrows=0).columns
    return "text" in header and "label" in header


LOADERS = {
    "jigsaw": load_jigsaw,
    "insults-kaggle": load_kaggle,
    "olid": load_olid,
    "davidson": load_davidson,
    "hateval": load_hateval,
    "toxigen": load_toxigen,
}


def load_sources(paths: list[Path]) -> list[Source]:
    """Load every known source among the given files or folders."""
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.iterdir()) if p.is_dir() else [p])
    sources = []
    for f in files:
        loaders = [loader for prefix, loader in LOADERS.items() if f.name.startswith(prefix)]
        if not loaders and _is_labelled_csv(f):
            loaders = [load_labelled_csv]
        for loader in loaders:
            src = loader(f)
            keep = [i for i, t in enumerate(src.texts) if t.strip()]
            sources.append(
                Source(src.name, [src.texts[i] for i in keep], src.labels[keep], src.stratify[keep])
            )
    if not sources:
        raise SystemExit(f"no known training source among {paths}")
    return sources


def split(sources: list[Source], fraction: float, seed: int) -> tuple[list[Source], list[Source]]:
    """Hold out `fraction` of each source, stratified on the source's own key."""
    train: list[Source] = []
    val: list[Source] = []
    for s in sources:
        idx = np.arange(len(s.texts))
        tr, va = train_test_split(idx, test_size=fraction, random_state=seed, stratify=s.stratify)
        for part, out in ((tr, train), (va, val)):
            out.append(Source(s.name, [s.texts[i] for i in part], s.labels[part], s.stratify[part]))
    return train, val


def write_csv(source: Source, path: Path) -> None:
    """One row per text: `text` and each category as 1 / 0, empty where unknown."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", *CATEGORIES])
        for text, row in zip(source.texts, source.labels, strict=True):
            writer.writerow([text, *("" if np.isnan(v) else int(v) for v in row)])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m models.data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("data", nargs="+", type=Path, help="data files or folders (../shared/data)")
    ap.add_argument("--validation-csv", type=Path, required=True, metavar="DIR")
    ap.add_argument("--seed", type=int, default=13, help="the training run's (split) seed")
    ap.add_argument("--val-fraction", type=float, default=0.1)
    args = ap.parse_args(argv)
    _, val = split(load_sources(args.data), args.val_fraction, args.seed)
    args.validation_csv.mkdir(parents=True, exist_ok=True)
    for source in val:
        path = args.validation_csv / f"{source.name}.csv"
        write_csv(source, path)
        print(f"{path}: {len(source.texts)} rows")


if __name__ == "__main__":
    main()
