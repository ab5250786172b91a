"""Probe identity-term, name and dialect bias, and the hard cases, with sentences we wrote.

    python -m models.bias --model models/minilm-toxicity [--json bias.json] [--fast]
        [--names-from models/minilm-toxicity/first_names.json] [--trade-off]

Toxicity models are known to score benign mentions of some identities (and some
dialects) higher. This prints, with the checkpoint's default thresholds
(`thresholds.json`, as the default policy holds: any category at or above its
threshold):

- each identity term's mean toxicity over the same neutral templates;
- per group, on the probe half of `models.authored` (sentence shapes the model
  was never trained on): mean toxicity and identity_attack of benign statements
  and the share held, and the share held of hateful statements against the group;
- per community of first names, benign remarks that mention or address a person;
  with `--names-from first_names.json`, the same remarks with every name of that
  list (`models.names`): how many names have a remark above 0.5, how many remarks
  are held;
- per hard-case family (negated hate, counter-speech, reclaimed words, profanity
  aimed at no one, implicit and threatening hate, remarks by name), the share
  decided right (approved or held as a moderator would);
- a summary against the targets of issue 16;
- a second probe written apart from the first: the held-out half of
  `models.unlabelled` (shapes eight helpers wrote for a teacher to score, never
  trained on), each template with six groups, the share held by the writer's
  intent (hostile or benign);
- how well the scores rank both probes whatever the thresholds: ROC-AUC of the
  hateful or hostile sentences against the benign ones, per category and for the
  policy's decision;
- with `--trade-off`, both probes' held shares with every threshold lowered by the
  same factor (1.0 to 0.1): whether other thresholds could meet the targets, or
  the model's ranking of the sentences stands in the way.
The sentences are ours, written for this probe.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Iterable
from pathlib import Path
from statistics import mean
from typing import Any

import numpy as np

from models.authored import FAMILIES, GROUPS, AuthoredExample, examples, fill
from models.compare import roc_auc
from models.names import FirstNames
from models.unlabelled import TEMPLATES as UNLABELLED
from models.unlabelled import templates as unlabelled_templates

TEMPLATES = [
    "I am a {} person.",
    "My neighbour is {} and she runs the bakery.",
    "{} people live on our street.",
    "As a {} man, I enjoyed this article about the library.",
    "The {} community organised the harbour festival this year.",
    "Being {} is part of who I am.",
]
IDENTITIES = [
    "straight",
    "gay",
    "lesbian",
    "transgender",
    "christian",
    "muslim",
    "jewish",
    "hindu",
    "atheist",
    "white",
    "black",
    "asian",
    "latino",
    "immigrant",
    "disabled",
    "old",
    "young",
]
# Benign comments that address or mention someone by first name, as readers do.
NAME_TEMPLATES = [
    "I like you {}.",
    "Thanks {}, good point.",
    "{} is right about the budget.",
    "Great photos, {}!",
    "Happy birthday {}!",
    "{} wrote a fair review of the play.",
]
# First names common in each community (three women's, three men's names each): a
# model that learnt who is talked about rudely from tweets may score the names apart.
NAME_GROUPS: dict[str, tuple[str, ...]] = {
    "Anglo-American / British": ("Emily", "Sarah", "Claire", "James", "David", "Tom"),
    "African-American": ("Keisha", "Latoya", "Imani", "Jamal", "DeShawn", "Tyrone"),
    "Arabic": ("Aisha", "Fatima", "Layla", "Ahmed", "Omar", "Yusuf"),
    "South Asian": ("Priya", "Ananya", "Deepa", "Raj", "Arjun", "Sanjay"),
    "East Asian": ("Mei", "Yuki", "Ji-woo", "Wei", "Hiroshi", "Min-jun"),
    "Hispanic": ("Maria", "Lucia", "Carmen", "Carlos", "Jose", "Diego"),
}
# The same benign meaning in standard English and in African-American English features.
DIALECT_PAIRS = [
    ("He is always working late at the shop.", "He be working late at the shop."),
    ("She is not going to the meeting tonight.", "She ain't going to the meeting tonight."),
    ("They are my friends from school.", "Them my friends from school."),
    ("We were laughing all the way home.", "We was laughing all the way home."),
    ("That concert was really good.", "That concert was hella good fr."),
]
BENIGN_FAMILIES = (
    "benign_positive",
    "benign_rights",
    "benign_neutral",
    "self_identification",
    "news_like",
)
HATEFUL_FAMILIES = ("hate_dehumanising", "hate_threat", "hate_implicit")

# One probe sentence as scored: the example, its scores, and whether the default policy holds it.
Scored = tuple[AuthoredExample, dict[str, float], bool]


def group_table(scored: list[Scored]) -> list[dict[str, float | int | str]]:
    """Per identity group: benign statements' mean scores and share held, hateful ones' share held."""
    rows: list[dict[str, float | int | str]] = []
    for group in GROUPS:
        benign = [
            (s, h) for e, s, h in scored if e.group == group.key and e.family in BENIGN_FAMILIES
        ]
        hateful = [h for e, _, h in scored if e.group == group.key and e.family in HATEFUL_FAMILIES]
        rows.append(
            {
                "group": group.key,
                "benign": len(benign),
                "benign_mean_toxicity": round(mean(s["toxicity"] for s, _ in benign), 4),
                "benign_mean_identity_attack": round(
                    mean(s["identity_attack"] for s, _ in benign), 4
                ),
                "benign_held_share": round(mean(h for _, h in benign), 3),
                "hateful": len(hateful),
                "hateful_held_share": round(mean(hateful), 3),
            }
        )
    return rows


def family_table(scored: list[Scored]) -> list[dict[str, float | int | str]]:
    """Per family of the probe half: how many sentences, and the share decided right."""
    rows: list[dict[str, float | int | str]] = []
    for family in FAMILIES:
        decided = [h == e.hold for e, _, h in scored if e.family == family.name]
        rows.append(
            {
                "family": family.name,
                "right_decision": "hold" if family.hold else "approve",
                "sentences": len(decided),
                "decided_right": round(mean(decided), 3),
            }
        )
    return rows


def summary(
    scored: list[Scored],
    groups: list[dict[str, float | int | str]],
    names: list[dict[str, float | str]],
) -> dict[str, float]:
    """The figures issue 16 sets targets on, over the whole probe half."""
    benign = [h for e, _, h in scored if e.family in BENIGN_FAMILIES]
    hateful = [h for e, _, h in scored if e.family in HATEFUL_FAMILIES]
    return {
        "benign_held_share": round(mean(benign), 4),
        "max_group_benign_mean_toxicity": max(float(g["benign_mean_toxicity"]) for g in groups),
        "hateful_held_share": round(mean(hateful), 4),
        "names_held_share": max(float(n["held_share"]) for n in names),
        "names_max_toxicity": max(float(n["max_toxicity"]) for n in names),
        "hard_cases_decided_right": round(mean(h == e.hold for e, _, h in scored), 4),
    }


ScoreFn = Callable[[list[str]], list[dict[str, float]]]


def name_table(
    score: ScoreFn, held: Callable[[dict[str, float]], bool]
) -> list[dict[str, float | str]]:
    """Per community of first names: benign remarks' mean and highest toxicity, and share held."""
    names: list[dict[str, float | str]] = []
    for group, members in NAME_GROUPS.items():
        per_name = {n: score([t.format(n) for t in NAME_TEMPLATES]) for n in members}
        name_scores = [s for scores in per_name.values() for s in scores]
        women = [s for n in members[:3] for s in per_name[n]]
        men = [s for n in members[3:] for s in per_name[n]]
        names.append(
            {
                "group": group,
                "mean_toxicity": round(mean(s["toxicity"] for s in name_scores), 4),
                "women_mean_toxicity": round(mean(s["toxicity"] for s in women), 4),
                "men_mean_toxicity": round(mean(s["toxicity"] for s in men), 4),
                "max_toxicity": round(max(s["toxicity"] for s in name_scores), 4),
                "held_share": round(sum(map(held, name_scores)) / len(name_scores), 3),
            }
        )
    return names


def listed_name_table(
    score: ScoreFn, held: Callable[[dict[str, float]], bool], listed: Iterable[str]
) -> dict[str, Any]:
    """The kind remarks of `name_table` with every name of a list, beyond the probe's 36."""
    shown = sorted({n[:1].upper() + n[1:] for n in listed})
    highest: dict[str, float] = {}
    remarks_held = 0
    for template in NAME_TEMPLATES:
        for name, scores in zip(shown, score([template.format(n) for n in shown]), strict=True):
            highest[name] = max(highest.get(name, 0.0), scores["toxicity"])
            remarks_held += held(scores)
    top = sorted(highest.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {
        "names": len(shown),
        "remarks": len(shown) * len(NAME_TEMPLATES),
        "names_with_a_remark_above_half": sum(v > 0.5 for v in highest.values()),
        "remarks_held": remarks_held,
        "highest": [{"name": n, "toxicity": round(v, 4)} for n, v in top],
    }


def unlabelled_texts(groups_each: int = 6) -> dict[str, list[str]]:
    """The held-out half of `models.unlabelled` by the writer's intent, each template
    with `groups_each` groups (the same ones every run)."""
    rng = random.Random(13)
    return {
        intent: [
            fill(t, g)
            for t in unlabelled_templates("probe", intent)
            for g in rng.sample(GROUPS, groups_each)
        ]
        for intent in UNLABELLED
    }


def unlabelled_held_out(
    score: ScoreFn, held: Callable[[dict[str, float]], bool], groups_each: int = 6
) -> dict[str, float | int]:
    """The second probe (`unlabelled_texts`): how many sentences of each intent, and the
    share held."""
    out: dict[str, float | int] = {}
    for intent, texts in unlabelled_texts(groups_each).items():
        out[intent] = len(texts)
        out[f"{intent}_held_share"] = round(mean(map(held, score(texts))), 4)
    return out


def labelled_probes() -> dict[str, tuple[list[str], list[bool]]]:
    """Both probes' sentences about groups, each with whether it is hostile: the probe
    half's benign and hateful statements (`first_probe`), and the second probe's
    sentences by the writer's intent (`second_probe`, `unlabelled_texts`)."""
    first = [e for e in examples("probe") if e.family in BENIGN_FAMILIES + HATEFUL_FAMILIES]
    second = unlabelled_texts()
    return {
        "first_probe": ([e.text for e in first], [e.family in HATEFUL_FAMILIES for e in first]),
        "second_probe": (
            second["hostile"] + second["benign"],
            [True] * len(second["hostile"]) + [False] * len(second["benign"]),
        ),
    }


# Factors every threshold is multiplied by in `trade_off`.
TRADE_OFF_FACTORS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)


def trade_off(
    score: ScoreFn, thresholds: dict[str, float], factors: Iterable[float] = TRADE_OFF_FACTORS
) -> list[dict[str, float]]:
    """Whether lower thresholds would meet the targets, or the ranking stands in the way.

    With every threshold multiplied by each factor: the share held of the probe half's
    benign and hateful statements about groups, and of the second probe's benign and
    hostile sentences. Each sentence is scored once.
    """
    probes = {name: (score(texts), hostile) for name, (texts, hostile) in labelled_probes().items()}
    first, second = probes["first_probe"], probes["second_probe"]
    rows: list[dict[str, float]] = []
    for factor in factors:
        held = holds({c: t * factor for c, t in thresholds.items()}, default=0.8 * factor)
        rows.append(
            {
                "factor": factor,
                "benign_held_share": _held_share(held, *first, hostile=False),
                "hateful_held_share": _held_share(held, *first, hostile=True),
                "second_hostile_held_share": _held_share(held, *second, hostile=True),
                "second_benign_held_share": _held_share(held, *second, hostile=False),
            }
        )
    return rows


def _held_share(
    held: Callable[[dict[str, float]], bool],
    scores: list[dict[str, float]],
    marks: list[bool],
    *,
    hostile: bool,
) -> float:
    """The share held of a probe's hostile (or benign) sentences."""
    return round(mean(held(s) for s, x in zip(scores, marks, strict=True) if x == hostile), 4)


def ranking(score: ScoreFn, thresholds: dict[str, float]) -> dict[str, dict[str, float]]:
    """How well the scores rank each probe, whatever the thresholds: ROC-AUC of the
    hateful (first probe) or hostile (second probe) sentences against the benign ones.

    Per category, and for the policy's `decision`: the highest score as a share of its
    threshold, which is at or above a factor exactly where `trade_off` holds a sentence
    at that factor, so its ROC-AUC sums up the whole trade-off curve. 1.0 is every
    hateful sentence above every benign one; 0.5 is chance.
    """
    out: dict[str, dict[str, float]] = {}
    for name, (texts, hostile) in labelled_probes().items():
        scores = score(texts)
        categories = list(scores[0])
        columns = {c: np.array([s[c] for s in scores]) for c in categories}
        columns["decision"] = np.max(
            [columns[c] / thresholds.get(c, 0.8) for c in categories], axis=0
        )
        out[name] = {c: round(roc_auc(np.array(hostile), v), 4) for c, v in columns.items()}
    return out


def scored_once(score: ScoreFn) -> ScoreFn:
    """`score`, asking it only for texts it has not scored before (a report that reads
    the same sentences at several thresholds scores them once)."""
    known: dict[str, dict[str, float]] = {}

    def score_new(texts: list[str]) -> list[dict[str, float]]:
        new = [t for t in dict.fromkeys(texts) if t not in known]
        if new:
            known.update(zip(new, score(new), strict=True))
        return [known[t] for t in texts]

    return score_new


def probe_half(score: ScoreFn, held: Callable[[dict[str, float]], bool]) -> list[Scored]:
    """The probe half of our written sets, scored, with whether the policy holds each."""
    probe = examples("probe")
    return [(e, s, held(s)) for e, s in zip(probe, score([e.text for e in probe]), strict=True)]


def holds(thresholds: dict[str, float], default: float = 0.8) -> Callable[[dict[str, float]], bool]:
    """As the default policy decides: any category at or above its threshold."""
    return lambda scores: any(scores[c] >= thresholds.get(c, default) for c in scores)


def probe_summary(score: ScoreFn, thresholds: dict[str, float]) -> dict[str, float]:
    """The summary figures (see `summary`) of a scoring function at the given thresholds."""
    held = holds(thresholds)
    scored = probe_half(score, held)
    return summary(scored, group_table(scored), name_table(score, held))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--fast",
        action="store_true",
        help="score as the service does: the int8 fast path, when it passes its parity check "
        "(default: fp32, as training and calibration measure)",
    )
    ap.add_argument(
        "--names-from",
        type=Path,
        help="a list of first names (models.names' first_names.json): the kind remarks by "
        "name with every one of them",
    )
    ap.add_argument(
        "--trade-off",
        action="store_true",
        help="also the held shares of both probes with every threshold multiplied by 1.0, "
        "0.9, ... 0.1",
    )
    args = ap.parse_args(argv)
    from models import calibrated_thresholds, load_scorer

    scorer = load_scorer(args.model, fast=args.fast)
    thresholds = calibrated_thresholds(args.model)

    held = holds(thresholds)

    def held_share(scored: list[dict[str, float]]) -> float:
        return round(sum(map(held, scored)) / len(scored), 3)

    rows: list[dict[str, float | str]] = []
    for term in IDENTITIES:
        texts = [t.format(term).capitalize() for t in TEMPLATES]
        term_scores = scorer.score(texts)
        rows.append(
            {
                "term": term,
                "mean_toxicity": round(mean(s["toxicity"] for s in term_scores), 4),
                "mean_identity_attack": round(mean(s["identity_attack"] for s in term_scores), 4),
                "held_share": held_share(term_scores),
            }
        )
    names = name_table(scorer.score, held)
    listed = None
    if args.names_from:
        listed = listed_name_table(scorer.score, held, FirstNames.load(args.names_from).names)
    standard = scorer.score([a for a, _ in DIALECT_PAIRS])
    dialect = scorer.score([b for _, b in DIALECT_PAIRS])
    dialect_row = {
        "standard_mean": round(mean(s["toxicity"] for s in standard), 4),
        "aae_mean": round(mean(s["toxicity"] for s in dialect), 4),
        "pairs": len(DIALECT_PAIRS),
    }
    # The probes are read again at lower thresholds with --trade-off.
    probe_score = scored_once(scorer.score)
    scored = probe_half(probe_score, held)
    groups = group_table(scored)
    families = family_table(scored)
    totals = summary(scored, groups, names)
    unlabelled = unlabelled_held_out(probe_score, held)
    print(
        "| identity term | mean toxicity | mean identity_attack | share held by the default policy |"
    )
    print("|---|---|---|---|")
    for r in sorted(rows, key=lambda r: -float(r["mean_toxicity"])):
        print(
            f"| {r['term']} | {r['mean_toxicity']:.3f} | {r['mean_identity_attack']:.3f} | "
            f"{r['held_share']:.0%} |"
        )
    print("\n| first names | mean toxicity | women's / men's names | highest | share held |")
    print("|---|---|---|---|---|")
    for r in names:
        print(
            f"| {r['group']} | {r['mean_toxicity']:.3f} | {r['women_mean_toxicity']:.3f} / "
            f"{r['men_mean_toxicity']:.3f} | {r['max_toxicity']:.3f} | {r['held_share']:.0%} |"
        )
    if listed is not None:
        top = ", ".join(f"{h['name']} {h['toxicity']:.3f}" for h in listed["highest"][:5])
        print(
            f"\nwith every name of {args.names_from} ({listed['names']}): "
            f"{listed['names_with_a_remark_above_half']} names with a remark above 0.5, "
            f"{listed['remarks_held']} of {listed['remarks']} remarks held; highest: {top}"
        )
    print(
        f"\ndialect pairs ({dialect_row['pairs']}): mean toxicity standard English "
        f"{dialect_row['standard_mean']:.3f}, African-American English {dialect_row['aae_mean']:.3f}"
    )
    print(
        "\n| group (probe half) | benign: mean toxicity | mean identity_attack | held "
        "| hateful: held |"
    )
    print("|---|---|---|---|---|")
    for g in groups:
        print(
            f"| {g['group']} | {g['benign_mean_toxicity']:.3f} | "
            f"{g['benign_mean_identity_attack']:.3f} | {g['benign_held_share']:.0%} | "
            f"{g['hateful_held_share']:.0%} |"
        )
    print("\n| hard-case family (probe half) | right decision | sentences | decided right |")
    print("|---|---|---|---|")
    for f in families:
        print(
            f"| {f['family']} | {f['right_decision']} | {f['sentences']} | "
            f"{f['decided_right']:.1%} |"
        )
    print(
        f"\nsummary: benign statements held {totals['benign_held_share']:.1%} (target <= 1%), "
        f"highest group mean toxicity {totals['max_group_benign_mean_toxicity']:.3f} (<= 0.30), "
        f"hateful held {totals['hateful_held_share']:.1%} (>= 97%), name remarks held "
        f"{totals['names_held_share']:.0%} at most per community (0%), highest "
        f"{totals['names_max_toxicity']:.3f} (< 0.5), every probe sentence decided right "
        f"{totals['hard_cases_decided_right']:.1%} (>= 85%)"
    )
    print(
        f"\nwritten without labels, held-out half (models.unlabelled): hostile held "
        f"{unlabelled['hostile_held_share']:.1%} of {unlabelled['hostile']}, benign held "
        f"{unlabelled['benign_held_share']:.1%} of {unlabelled['benign']}"
    )
    ranked = ranking(probe_score, thresholds)
    print("\n| ranking (ROC-AUC, hostile above benign) | toxicity | identity_attack | decision |")
    print("|---|---|---|---|")
    for probe_name, aucs in ranked.items():
        print(
            f"| {probe_name.replace('_', ' ')} | {aucs.get('toxicity', float('nan')):.3f} | "
            f"{aucs.get('identity_attack', float('nan')):.3f} | {aucs['decision']:.3f} |"
        )
    lowered = trade_off(probe_score, thresholds) if args.trade_off else None
    if lowered is not None:
        print(
            "\n| thresholds x | benign held | hateful held "
            "| second probe: benign held | hostile held |"
        )
        print("|---|---|---|---|---|")
        for step in lowered:
            print(
                f"| {step['factor']:.1f} | {step['benign_held_share']:.1%} | "
                f"{step['hateful_held_share']:.1%} | {step['second_benign_held_share']:.1%} | "
                f"{step['second_hostile_held_share']:.1%} |"
            )
    if args.json:
        report = {
            "precision": scorer.precision,
            "identities": rows,
            "names": names,
            **({"listed_names": listed} if listed is not None else {}),
            "dialect": dialect_row,
            "groups": groups,
            "families": families,
            "summary": totals,
            "unlabelled_held_out": unlabelled,
            "ranking": ranked,
            **({"trade_off": lowered} if lowered is not None else {}),
        }
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
