"""Probe identity-term, name and dialect bias: benign sentences that differ only in who they mention.

    python -m models.bias --model models/minilm-toxicity

Toxicity models are known to score benign mentions of some identities (and some
dialects) higher; this prints each term's mean toxicity over the same neutral
templates, and the share of them a default policy would hold. The sentences
are ours, written for this probe.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from statistics import mean

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
NAME_GROUPS = {
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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    from models import load_scorer

    scorer = load_scorer(args.model, fast=False)
    thresholds_file = args.model / "thresholds.json"
    thresholds: dict[str, float] = (
        json.loads(thresholds_file.read_text())["thresholds"] if thresholds_file.exists() else {}
    )

    def held(scores: dict[str, float]) -> bool:
        # As the default policy decides: any category at or above its threshold.
        return any(scores[c] >= thresholds.get(c, 0.8) for c in scores)

    def held_share(scored: list[dict[str, float]]) -> float:
        return round(sum(map(held, scored)) / len(scored), 3)

    rows = []
    for term in IDENTITIES:
        texts = [t.format(term).capitalize() for t in TEMPLATES]
        scored = scorer.score(texts)
        rows.append(
            {
                "term": term,
                "mean_toxicity": round(mean(s["toxicity"] for s in scored), 4),
                "mean_identity_attack": round(mean(s["identity_attack"] for s in scored), 4),
                "held_share": held_share(scored),
            }
        )
    names = []
    for group, members in NAME_GROUPS.items():
        per_name = {n: scorer.score([t.format(n) for t in NAME_TEMPLATES]) for n in members}
        scored = [s for scores in per_name.values() for s in scores]
        women = [s for n in members[:3] for s in per_name[n]]
        men = [s for n in members[3:] for s in per_name[n]]
        names.append(
            {
                "group": group,
                "mean_toxicity": round(mean(s["toxicity"] for s in scored), 4),
                "women_mean_toxicity": round(mean(s["toxicity"] for s in women), 4),
                "men_mean_toxicity": round(mean(s["toxicity"] for s in men), 4),
                "max_toxicity": round(max(s["toxicity"] for s in scored), 4),
                "held_share": held_share(scored),
            }
        )
    standard = scorer.score([a for a, _ in DIALECT_PAIRS])
    dialect = scorer.score([b for _, b in DIALECT_PAIRS])
    dialect_row = {
        "standard_mean": round(mean(s["toxicity"] for s in standard), 4),
        "aae_mean": round(mean(s["toxicity"] for s in dialect), 4),
        "pairs": len(DIALECT_PAIRS),
    }
    print(
        "| identity term | mean toxicity | mean identity_attack | share held by the default policy |"
    )
    print("|---|---|---|---|")
    for r in sorted(rows, key=lambda r: -r["mean_toxicity"]):
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
    print(
        f"\ndialect pairs ({dialect_row['pairs']}): mean toxicity standard English "
        f"{dialect_row['standard_mean']:.3f}, African-American English {dialect_row['aae_mean']:.3f}"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"identities": rows, "names": names, "dialect": dialect_row}, indent=2)
        )


if __name__ == "__main__":
    main()
