"""Read the training sources and map each one's labels onto our six categories.

A category a source says nothing about is NaN for its rows: the training loss
masks it instead of treating it as a negative.

    python -m models.data ../shared/data --validation-csv DIR [--seed 13]
    python -m models.data ../shared/data/multilingual --validation-csv DIR

writes the validation split that `models.train` holds out (one CSV per source:
`text`, the six categories, 1/0, empty where the source says nothing, and the
source's `language`), so any model can be measured on the same rows with
`python -m models.evaluate`. Written outside the repository: the data is never
committed.

The English sources sit at the top of the data folder; the German, Spanish,
Italian, Portuguese and French ones in its `multilingual/` folder, which is
read only when it is named (so English training runs do not change).
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
    language: str = "en"  # ISO 639-1 code of the texts
    # A teacher checkpoint's scores for each row (rows x 6), when training distils
    # one (models.train --teacher); None otherwise.
    teacher: np.ndarray | None = None

    def subset(self, rows: np.ndarray | list[int]) -> Source:
        """The same source restricted to the given rows, in that order."""
        idx = np.asarray(rows, dtype=int)
        return Source(
            self.name,
            [self.texts[i] for i in idx],
            self.labels[idx],
            self.stratify[idx],
            self.language,
            None if self.teacher is None else self.teacher[idx],
        )


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


# The non-English sources (../shared/data/multilingual, see its README). Each file
# has `text` and `label` (1 = toxic / offensive / hateful as the source defines
# it), sometimes with the source's finer label. Each label is mapped onto what it
# says about our categories, and only that: the rest is NaN (masked).


def _rare_to_other(key: np.ndarray, min_count: int = 10) -> np.ndarray:
    """Stratification key with classes too small to split folded into -1."""
    counts = pd.Series(key).map(pd.Series(key).value_counts()).to_numpy()
    return np.where(counts < min_count, -1, key)


def _nothing_wrong_or_unknown(label: np.ndarray) -> np.ndarray:
    """0 where the source says the text is not offensive at all, NaN where it is."""
    return np.where(label == 0, 0.0, NAN)


def _broad_toxicity(path: Path, name: str, language: str) -> Source:
    """A source whose one label is toxic/offensive in the broad sense.

    Its negatives say nothing is wrong with the text (so every category is 0);
    its positives say only that the text is toxic (the kind is unknown).
    """
    df = pd.read_csv(path)
    y = df.label.to_numpy().astype(float)
    rest = _nothing_wrong_or_unknown(y)
    cols: dict[str, object] = {c: rest for c in CATEGORIES}
    cols["toxicity"] = y
    texts = [clean_tweet(t) for t in df.text.astype(str)]
    return Source(name, texts, _frame(cols, len(df)), y.astype(int), language)


def _hate_speech(path: Path, name: str, language: str) -> Source:
    """A hate-speech source (hate against immigrants, women, Muslims, Roma ...).

    Hate speech is toxic and an identity attack; a text that is not hate speech
    is not an identity attack but may still be offensive in other ways, so its
    toxicity (and every other category) is unknown: as for the English HatEval.
    """
    df = pd.read_csv(path)
    hs = df.label.to_numpy().astype(float)
    cols: dict[str, object] = {"identity_attack": hs, "toxicity": np.where(hs == 1, 1.0, NAN)}
    texts = [clean_tweet(t) for t in df.text.astype(str)]
    return Source(name, texts, _frame(cols, len(df)), hs.astype(int), language)


def load_germeval2018(path: Path) -> Source:
    """German tweets: OFFENSE / OTHER, and the fine label ABUSE / INSULT / PROFANITY / OTHER.

    The fine labels are exclusive: ABUSE degrades its target as a member of a
    group (identity attack), INSULT ascribes bad qualities without that
    (insult, not an identity attack), PROFANITY swears without insulting anyone
    (profanity that is neither insult, identity attack nor threat, as OLID's
    untargeted offence). OTHER is nothing offensive: every category 0.
    """
    df = pd.read_csv(path)
    y = df.label.to_numpy().astype(float)
    fine = df.fine.astype(str).str.upper().to_numpy()
    other = np.where(y == 0, 0.0, NAN)
    abuse, insult, profanity = fine == "ABUSE", fine == "INSULT", fine == "PROFANITY"
    cols: dict[str, object] = {
        "toxicity": y,
        "severe_toxicity": other,
        "identity_attack": np.where(abuse, 1.0, np.where(insult | profanity, 0.0, other)),
        "insult": np.where(insult, 1.0, np.where(profanity, 0.0, other)),
        "profanity": np.where(profanity, 1.0, other),
        "threat": np.where(profanity, 0.0, other),
    }
    texts = [clean_tweet(t.replace("|LBR|", " ")) for t in df.text.astype(str)]
    key = pd.Series(fine).map({"OTHER": 0, "ABUSE": 1, "INSULT": 2, "PROFANITY": 3}).fillna(-1)
    return Source("germeval2018", texts, _frame(cols, len(df)), key.to_numpy().astype(int), "de")


def load_germeval2021(path: Path) -> Source:
    """German Facebook comments under a talk show's posts: GermEval 2021 `Sub1_Toxic`.

    Its toxic covers insults, threats, vulgar language, discrimination and more:
    the broad sense.
    """
    return _broad_toxicity(path, "germeval2021", "de")


def load_hateval_es(path: Path) -> Source:
    """Spanish tweets on immigrants and women: HatEval 2019 `HS`."""
    return _hate_speech(path, "hateval_es", "es")


def load_detoxis(path: Path) -> Source:
    """Spanish news comments: DETOXIS toxicity `level` 0 (not toxic) to 3 (very toxic).

    Level 3 is severe toxicity and levels 1-2 are not; level 0 is nothing wrong
    at all. What kind of toxicity a toxic comment has is not in the file.
    """
    df = pd.read_csv(path)
    level = df.level.to_numpy().astype(int)
    y = (level >= 1).astype(float)
    rest = _nothing_wrong_or_unknown(y)
    cols: dict[str, object] = {c: rest for c in CATEGORIES}
    cols["toxicity"] = y
    cols["severe_toxicity"] = (level >= 3).astype(float)
    texts = [clean_tweet(t) for t in df.text.astype(str)]
    return Source("detoxis", texts, _frame(cols, len(df)), _rare_to_other(level), "es")


def load_haspeede2020(path: Path) -> Source:
    """Italian tweets on immigrants, Muslims and Roma: HaSpeeDe 2020 `hs`."""
    return _hate_speech(path, "haspeede2020", "it")


def load_told_br(path: Path) -> Source:
    """Brazilian Portuguese tweets: ToLD-Br `toxic` (homophobia, obscenity, insult,
    racism, misogyny or xenophobia; the broad sense)."""
    return _broad_toxicity(path, "told_br", "pt")


def load_mlma_fr(path: Path) -> Source:
    """French tweets, MLMA: annotators' `sentiment` labels joined by `_`.

    Toxic when any of offensive, abusive, hateful or disrespectful was given
    (the file's `label`, used as it is); hateful also means an identity attack
    (MLMA collected tweets about groups). `normal` alone is nothing wrong:
    every category 0.
    A tweet labelled only `fearful` (or fearful and normal) is not toxic, but
    whether it attacks a group is unknown.
    """
    df = pd.read_csv(path)
    tags = [set(str(s).lower().split("_")) for s in df.sentiment]
    y = df.label.to_numpy().astype(float)
    only_normal = np.array([t == {"normal"} for t in tags])
    hateful = np.array(["hateful" in t for t in tags])
    rest = np.where(only_normal, 0.0, NAN)
    cols: dict[str, object] = {c: rest for c in CATEGORIES}
    cols["toxicity"] = y
    cols["identity_attack"] = np.where(hateful, 1.0, rest)
    texts = [clean_tweet(t) for t in df.text.astype(str)]
    key = np.where(hateful, 2, y.astype(int)) + 3 * only_normal
    return Source("mlma_fr", texts, _frame(cols, len(df)), _rare_to_other(key), "fr")


def load_labelled_csv(path: Path) -> Source:
    """A site's own decisions export (`text`, `label` 1 = toxic): feeds toxicity only."""
    df = pd.read_csv(path)
    y = pd.to_numeric(df["label"], errors="coerce").to_numpy().astype(float)
    keep = ~np.isnan(y)
    texts = [unescape_cell(t) for t in df.text.astype(str)[keep]]
    y = y[keep]
    return Source(path.stem, texts, _frame({"toxicity": y}, len(texts)), y.astype(int))


def load_unlabelled_csv(path: Path) -> Source:
    """Sentences with no labels (a `text` column only): a transfer set for distillation.

    Every label is unknown, so such rows teach only through a teacher's scores of them
    (`models.train --teacher`); without a teacher they add nothing to the loss.
    """
    df = pd.read_csv(path, keep_default_na=False)
    texts = [unescape_cell(t) for t in df.text.astype(str)]
    return Source(path.stem, texts, _frame({}, len(texts)), np.zeros(len(texts), dtype=int))


def _header(path: Path) -> list[str]:
    return [str(c) for c in pd.read_csv(path, nrows=0).columns] if path.suffix == ".csv" else []


def _is_labelled_csv(path: Path) -> bool:
    header = _header(path)
    return "text" in header and "label" in header


LOADERS = {
    "jigsaw": load_jigsaw,
    "insults-kaggle": load_kaggle,
    "olid": load_olid,
    "davidson": load_davidson,
    "hateval": load_hateval,
    "toxigen": load_toxigen,
    "germeval2018": load_germeval2018,
    "germeval2021": load_germeval2021,
    "hateval2019-es": load_hateval_es,
    "detoxis": load_detoxis,
    "haspeede2020": load_haspeede2020,
    "told-br": load_told_br,
    "mlma": load_mlma_fr,
}

LANGUAGES: tuple[str, ...] = ("de", "es", "it", "pt", "fr")  # the sources beyond English


def load_sources(paths: list[Path]) -> list[Source]:
    """Load every known source among the given files or folders."""
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.iterdir()) if p.is_dir() else [p])
    sources = []
    for f in files:
        # The longest matching prefix wins: hateval2019-es-... is not the English HatEval.
        prefixes = sorted((p for p in LOADERS if f.name.startswith(p)), key=len, reverse=True)
        loaders = [LOADERS[prefixes[0]]] if prefixes else []
        if not loaders and _is_labelled_csv(f):
            loaders = [load_labelled_csv]
        elif not loaders and _header(f) == ["text"]:
            loaders = [load_unlabelled_csv]
        for loader in loaders:
            src = loader(f)
            sources.append(src.subset([i for i, t in enumerate(src.texts) if t.strip()]))
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
        train.append(s.subset(tr))
        val.append(s.subset(va))
    return train, val


def write_csv(source: Source, path: Path) -> None:
    """One row per text: `text`, each category as 1 / 0 (empty where unknown), `language`."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", *CATEGORIES, "language"])
        for text, row in zip(source.texts, source.labels, strict=True):
            cells = ("" if np.isnan(v) else int(v) for v in row)
            writer.writerow([text, *cells, source.language])


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
