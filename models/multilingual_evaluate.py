"""Measure and calibrate the scorer for German, Spanish, French, Italian and Portuguese.

    python -m models.multilingual_evaluate ../shared/data --model models/multilingual-toxicity
        [--write] [--english] [--false-hold 0.02] [--threads 2]

Rebuilds the validation split exactly as `models.train` made it (seed 13, 10 % of
each source), scores it as the service does (fp32, long text in windows) and reports:

- per source, the ROC-AUC of `toxicity` against the source's own label (hate
  speech for HatEval and HaSpeeDe), beside the TF-IDF floor
  (`models.multilingual_baseline`) and the target (0.85, French 0.75);
- per language, thresholds calibrated on that language's validation rows with
  the English rule (`models.calibrate`: per category, at most 2 % of the rows
  labelled negative for it at or above its threshold), and the share of benign
  and toxic rows the any-category policy then holds;
- per language, the probe half of `models.authored_multilingual` (sentences
  never trained on): the share decided right at the language's thresholds
  (benign identity mentions, negated hate, kind remarks and names not held;
  hate, threats and insults held), per family;
- the int8 fast path: ROC-AUC drop per source and mean |int8 - fp32|;
- with `--english`, the English validation sources beside the shipped model's
  figures (`models/minilm-toxicity/validation.json`).

`--write` puts `thresholds.json` (with a `languages` section) and
`validation.json` into the model folder. A category that a language's sources
label fewer than `MIN_NEGATIVES` negatives or `MIN_POSITIVES` positives for takes
the pooled threshold and is listed under `fallback`.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.calibrate import calibrate, hold_rates
from models.data import LANGUAGES, Source, load_sources, split
from models.labels import CATEGORIES
from models.multilingual_baseline import data_folder, source_label

TOXICITY = CATEGORIES.index("toxicity")
# A category a language's sources label fewer negatives or positives for than these
# takes the pooled threshold: a threshold from negatives alone, with nothing to hold,
# is whatever the model happens to give benign rows (measured: profanity 0.06 in es).
MIN_NEGATIVES = 50
MIN_POSITIVES = 20
TARGET = 0.85
TARGETS = {"fr": 0.75}  # MLMA is small and mostly offensive (issue 23)

# `python -m models.multilingual_baseline ../shared/data` (seed 13, 10 %), validation ROC-AUC.
FLOOR: dict[str, float] = {
    "germeval2018": 0.815,
    "germeval2021": 0.725,
    "detoxis": 0.694,
    "hateval_es": 0.881,
    "haspeede2020": 0.859,
    "told_br": 0.830,
    "mlma_fr": 0.650,
}


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC-AUC, NaN where only one class is present."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else math.nan


def source_aucs(val: Sequence[Source], toxicity: np.ndarray) -> list[float]:
    """Per source: the ROC-AUC of a toxicity score (one per row of `val`) against its own label."""
    out: list[float] = []
    start = 0
    for s in val:
        p = toxicity[start : start + len(s.texts)]
        start += len(s.texts)
        y = source_label(s.labels)
        known = ~np.isnan(y)
        out.append(roc_auc(y[known], p[known]))
    return out


def source_rows(
    val: Sequence[Source], scores: np.ndarray, parts: dict[str, np.ndarray] | None = None
) -> list[dict[str, Any]]:
    """Per source: toxicity ROC-AUC against its own label, the floor, the target, the verdicts.

    `parts`: other toxicity scores of the same rows (the transformer alone, the n-gram
    head alone), each reported as `roc_auc_<name>`.
    """
    rows: list[dict[str, Any]] = []
    aucs = source_aucs(val, scores[:, TOXICITY])
    by_part = {name: source_aucs(val, tox) for name, tox in (parts or {}).items()}
    for i, s in enumerate(val):
        known = ~np.isnan(source_label(s.labels))
        auc = aucs[i]
        floor = FLOOR.get(s.name)
        target = TARGETS.get(s.language, TARGET)
        rows.append(
            {
                "source": s.name,
                "language": s.language,
                "rows": int(known.sum()),
                "roc_auc": round(auc, 4),
                "floor": floor,
                "target": target,
                "beats_floor": floor is not None and auc > floor,
                "meets_target": auc >= target,
                **{f"roc_auc_{name}": round(v[i], 4) for name, v in by_part.items()},
            }
        )
    return rows


def language_thresholds(
    scores: np.ndarray,
    labels: np.ndarray,
    languages: Sequence[str],
    false_hold: float,
) -> dict[str, Any]:
    """Pooled thresholds over all rows, and per language its own (pooled where it has too few).

    `languages` is each row's language. Returns the pooled calibration (`thresholds`,
    `per_category`, `policy_on_validation`) with a `languages` section of the same
    shape per language plus `fallback`: the categories that took the pooled threshold.
    """
    pooled = calibrate(scores, labels, false_hold)
    langs = np.asarray(languages)
    out: dict[str, Any] = dict(pooled)
    out["languages"] = {}
    for lang in sorted(set(languages)):
        rows = langs == lang
        own = calibrate(scores[rows], labels[rows], false_hold)
        fallback = [
            c
            for c in CATEGORIES
            if own["per_category"][c]["negatives"] < MIN_NEGATIVES
            or own["per_category"][c]["positives"] < MIN_POSITIVES
        ]
        thresholds = {
            c: pooled["thresholds"][c] if c in fallback else own["thresholds"][c]
            for c in CATEGORIES
        }
        per_category = dict(own["per_category"])
        for c in fallback:
            i = CATEGORIES.index(c)
            known = ~np.isnan(labels[rows, i])
            neg = scores[rows][known & (labels[rows, i] == 0), i]
            pos = scores[rows][known & (labels[rows, i] == 1), i]
            t = thresholds[c]
            per_category[c] = {
                "negatives": len(neg),
                "positives": len(pos),
                "false_hold_rate": round(float((neg >= t).mean()), 4) if len(neg) else 0.0,
                "recall": round(float((pos >= t).mean()), 4) if len(pos) else 0.0,
            }
        policy = hold_rates(scores[rows], labels[rows], thresholds)
        # Hate-speech sources (HaSpeeDe, HatEval) know a non-hateful row only as "not an
        # identity attack": the share of those held is the closest to a benign hold rate.
        attack = CATEGORIES.index("identity_attack")
        not_hate = labels[rows, attack] == 0
        any_held = (scores[rows] >= np.array([thresholds[c] for c in CATEGORIES])).any(axis=1)
        policy["not_identity_attack_hold_rate"] = (
            round(float(any_held[not_hate].mean()), 4) if not_hate.any() else 0.0
        )
        policy["not_identity_attack"] = int(not_hate.sum())
        out["languages"][lang] = {
            "thresholds": thresholds,
            "per_category": per_category,
            "policy_on_validation": policy,
            "fallback": fallback,
        }
    return out


def held(scores: dict[str, float], thresholds: dict[str, float]) -> bool:
    """The default policy: hold when any category is at or above its threshold."""
    return any(scores.get(c, 0.0) >= t for c, t in thresholds.items())


def probe_table(
    scorer: Any, thresholds_by_language: dict[str, dict[str, float]]
) -> dict[str, dict[str, Any]]:
    """Per language, the probe half of our sentences decided right, overall and per family."""
    from models.authored_multilingual import examples

    out: dict[str, dict[str, Any]] = {}
    for lang, thresholds in thresholds_by_language.items():
        probe = examples("probe", lang)
        results = scorer.score([e.text for e in probe])
        right: dict[str, list[bool]] = defaultdict(list)
        for e, r in zip(probe, results, strict=True):
            right[e.family].append(held(r, thresholds) == e.hold)
        every = [x for v in right.values() for x in v]
        out[lang] = {
            "right": round(sum(every) / len(every), 4),
            "sentences": len(every),
            "families": {f: round(sum(v) / len(v), 4) for f, v in sorted(right.items())},
        }
    return out


def format_sources(rows: list[dict[str, Any]]) -> str:
    parts = (
        [k.removeprefix("roc_auc_") for k in rows[0] if k.startswith("roc_auc_")] if rows else []
    )
    lines = [
        "| language | source | rows | ROC-AUC | "
        + "".join(f"{p} alone | " for p in parts)
        + "TF-IDF floor | target | vs floor | target met |",
        "|---|---|---:|---:|" + "---:|" * len(parts) + "---:|---:|---|---|",
    ]
    for r in rows:
        floor = "" if r["floor"] is None else f"{r['floor']:.3f}"
        delta = "" if r["floor"] is None else f"{r['roc_auc'] - r['floor']:+.3f}"
        alone = "".join(f"{r[f'roc_auc_{p}']:.3f} | " for p in parts)
        lines.append(
            f"| {r['language']} | {r['source']} | {r['rows']} | {r['roc_auc']:.3f} | {alone}"
            f"{floor} | {r['target']:.2f} | {delta} | {'yes' if r['meets_target'] else 'no'} |"
        )
    return "\n".join(lines)


def format_languages(calibrated: dict[str, Any], probe: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| language | toxicity threshold | benign held | toxic held | not identity attack held "
        "| probe right | fallback |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for lang, entry in calibrated["languages"].items():
        pol = entry["policy_on_validation"]
        lines.append(
            f"| {lang} | {entry['thresholds']['toxicity']:.2f} | "
            f"{pol['benign_hold_rate']:.1%} of {pol['benign']} | "
            f"{pol['toxic_hold_rate']:.1%} of {pol['toxic']} | "
            f"{pol['not_identity_attack_hold_rate']:.1%} of {pol['not_identity_attack']} | "
            f"{probe[lang]['right']:.1%} of {probe[lang]['sentences']} | "
            f"{', '.join(entry['fallback']) or '-'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m models.multilingual_evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("data", type=Path, help="../shared/data (with its multilingual/ folder)")
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--false-hold", type=float, default=0.02)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--english", action="store_true", help="also the English validation sources")
    ap.add_argument("--write", action="store_true", help="write thresholds.json, validation.json")
    args = ap.parse_args(argv)

    from models import load_scorer
    from models.calibrate import auc_table

    folders = [data_folder(args.data)]
    if args.english:
        folders.append(args.data)
    _, val = split(load_sources(folders), args.val_fraction, args.seed)
    ml = [s for s in val if s.language in LANGUAGES]
    scorer = load_scorer(args.model, fast=False, threads=args.threads)

    def table(rows: Sequence[dict[str, float]]) -> np.ndarray:
        return np.array([[r[c] for c in CATEGORIES] for r in rows])

    def score(sources: list[Source], model: Any) -> np.ndarray:
        return table(model.score([t for s in sources for t in s.texts]))

    # The transformer alone first, then its n-gram head (models.ngrams) mixed in as served.
    head = scorer.text_head
    texts = [t for s in ml for t in s.texts]
    transformer = table(scorer.transformer_scores(texts))
    parts: dict[str, np.ndarray] = {}
    scores = transformer
    if head is not None:
        # Once: featurizing every text is the head's cost.
        alone = head.probability(scorer.reading(texts))
        scores = head.blend_columns(transformer, CATEGORIES, alone)
        parts = {
            "transformer": transformer[:, TOXICITY],
            "ngrams": alone[:, head.categories.index("toxicity")],
        }
    labels = np.concatenate([s.labels for s in ml])
    languages = [s.language for s in ml for _ in s.texts]
    sources = source_rows(ml, scores, parts)
    calibrated = language_thresholds(scores, labels, languages, args.false_hold)
    by_language = {k: v["thresholds"] for k, v in calibrated["languages"].items()}
    probe = probe_table(scorer, by_language)

    fast = load_scorer(args.model, fast=True, threads=args.threads)
    fast_scores = score(ml, fast)
    fast_sources = source_rows(ml, fast_scores)
    int8 = {
        "engine": fast.engine,
        "precision": fast.precision,
        "parity_mae": getattr(fast, "parity_mae", None),
        "mean_abs_diff_validation": round(float(np.abs(fast_scores - scores).mean()), 4),
        "roc_auc_drop": {
            a["source"]: round(a["roc_auc"] - b["roc_auc"], 4)
            for a, b in zip(sources, fast_sources, strict=True)
        },
    }

    english: dict[str, Any] = {}
    if args.english:
        en = [s for s in val if s.language == "en"]
        shipped_file = Path(__file__).parent / "minilm-toxicity" / "validation.json"
        shipped = json.loads(shipped_file.read_text()).get("ours", {})
        english = {"ours": auc_table(en, score(en, scorer)), "minilm_toxicity": shipped}

    print(format_sources(sources))
    print()
    print(format_languages(calibrated, probe))
    print()
    print(json.dumps({"probe": probe, "int8": int8}, indent=2))
    if english:
        print("| source | category | this model | minilm-toxicity |\n|---|---|---:|---:|")
        for src, cats in english["ours"].items():
            for cat, auc in cats.items():
                theirs = english["minilm_toxicity"].get(src, {}).get(cat)
                print(
                    f"| {src} | {cat} | {auc:.3f} | {'' if theirs is None else f'{theirs:.3f}'} |"
                )

    if args.write:
        thresholds = {
            "thresholds": calibrated["thresholds"],
            "method": (
                f"per category, the lowest threshold at which at most {args.false_hold:.0%} of "
                "validation comments labelled negative for it score at or above it, rounded up "
                f"to 0.01; validation split of models.train (seed {args.seed}, "
                f"{args.val_fraction:.0%} of each source). Top level: the five languages pooled; "
                "`languages`: each language on its own rows, a category with fewer than "
                f"{MIN_NEGATIVES} labelled negatives or {MIN_POSITIVES} positives there taking "
                "the pooled threshold (`fallback`)"
            ),
            "per_category": calibrated["per_category"],
            "policy_on_validation": calibrated["policy_on_validation"],
            "languages": calibrated["languages"],
        }
        (args.model / "thresholds.json").write_text(json.dumps(thresholds, indent=2) + "\n")
        validation = {
            "sources": sources,
            "ours": auc_table(ml, scores),
            "probe": probe,
            "int8": int8,
            "english": english or None,
            "rows": {s.name: len(s.texts) for s in ml},
            "command": "python -m models.multilingual_evaluate ../shared/data --model "
            f"{args.model} --write" + (" --english" if args.english else ""),
        }
        (args.model / "validation.json").write_text(json.dumps(validation, indent=2) + "\n")


if __name__ == "__main__":
    main()
