"""Unlabelled sentences about groups, made from the written training half, for a teacher to score.

    python -m models.transfer --output runs/transfer.csv [--rows 12000] [--seed 13]
    python -m models.transfer --output runs/written.csv --kinds written --rows 10000
    python -m models.transfer --output runs/transfer.csv --origins runs/transfer-origins.csv
    python -m models.teacher_scores ../shared/data runs/transfer.csv --teacher runs/mpnet ...
    python -m models.train ../shared/data runs/transfer.csv --teacher runs/mpnet.npz ...

A student distilled from a teacher learns the teacher's judgement only where it sees
inputs: scored public tweets carried little of a larger teacher's reading of the
probe's unseen hateful shapes (model card, "Capacity measured at equal data"). These
are inputs shaped like the written sets but not in them: the training-half templates
of every family with a group slot, recombined four ways and filled with a group:

- **splice**: the first sentence of one template, the rest of another's;
- **pair**: two one-sentence templates, one after the other;
- **dropout**: one template with one of its words left out;
- **extra group**: one template as written, filled with a group the written sets never
  name (`EXTRA_GROUPS`), so the teacher's reading of a group reaches names it was
  not taught;
- **written**: a training-half template of `models.unlabelled` (shapes written for the
  teacher to score, in forms the labelled sets lack), filled with any group. Not among the
  default kinds, so `--kinds` names it.

Many are odd or contradictory; nothing labels them: the teacher's scores are all they
teach (`models.data.load_unlabelled_csv`: every label unknown). `--origins` writes,
beside them, each sentence's kind, the families of the templates it was made from and
the decision those share, to see where a teacher's reading parts from the templates'
(a dropped word can flip a sentence's meaning, so theirs is not its label). Only training-half
templates are used, and a recombined shape that is a near copy of a probe template
(`models.near_copies`) is dropped, so the probe still measures unseen shapes.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from dataclasses import dataclass
from pathlib import Path

from models.authored import FAMILIES, GROUPS, Group, fill, templates_of
from models.near_copies import Probe
from models.unlabelled import templates as unlabelled

# Groups the written sets do not name, filled only into the transfer sentences.
EXTRA_GROUPS: tuple[Group, ...] = (
    Group("roma", "Roma", "Roma people"),
    Group("irish", "Irish", "Irish people", "an"),
    Group("catholic", "Catholic", "Catholics"),
    Group("nigerian", "Nigerian", "Nigerians"),
    Group("pakistani", "Pakistani", "Pakistanis"),
    Group("somali", "Somali", "Somalis"),
    Group("mormon", "Mormon", "Mormons"),
    Group("buddhist", "Buddhist", "Buddhists"),
    Group("indigenous", "Indigenous", "Indigenous people", "an"),
    Group("polish", "Polish", "Polish people"),
    Group("syrian", "Syrian", "Syrians"),
    Group("autistic", "autistic", "autistic people", "an"),
)

KINDS = ("splice", "pair", "dropout", "extra group", "written")
RECOMBINED = KINDS[:4]  # the default: shapes made from the labelled training half

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")


def shapes() -> tuple[list[str], list[str]]:
    """The training-half templates with a group slot, and every probe-half template."""
    train = [t for f in FAMILIES if f.slot == "group" for t in templates_of(f, "train")]
    probe = [t for f in FAMILIES for t in templates_of(f, "probe")]
    return train, probe


@dataclass(frozen=True)
class Sentence:
    """One transfer sentence, the kind that made it and the templates it was made from."""

    text: str
    kind: str
    templates: tuple[str, ...]


def sentences(
    rows: int,
    seed: int,
    train: list[str] | None = None,
    probe: list[str] | None = None,
    kinds: tuple[str, ...] = RECOMBINED,
    written: list[str] | None = None,
) -> list[Sentence]:
    """`rows` distinct transfer sentences of the given kinds, the same ones for the same seed.

    `train` and `probe` are the templates to recombine and to keep clear of (`shapes()`
    by default), `written` the templates of the written kind (`models.unlabelled`'s
    training half).
    Exits when the templates cannot make that many distinct sentences.
    """
    if train is None or probe is None:
        train, probe = shapes()
    if written is None:
        written = unlabelled("train")
    rng = random.Random(seed)
    known = set(train)
    parts = [_SENTENCE_END.split(t) for t in train]
    material = {
        "heads": [p[0] for p in parts if len(p) > 1],
        "tails": [" ".join(p[1:]) for p in parts if len(p) > 1],
        "singles": [t for t, p in zip(train, parts, strict=True) if len(p) == 1],
        "dropout": [t for t in train if sum("{" not in w for w in t.split(" ")) >= 4],
        "extra group": train,
        "written": written,
    }
    needs = {
        "splice": ("heads", "tails"),
        "pair": ("singles",),
        "dropout": ("dropout",),
        "extra group": ("extra group",),
        "written": ("written",),
    }
    usable = [k for k in kinds if all(material[m] for m in needs[k])]
    groups = GROUPS + EXTRA_GROUPS
    read_probe = Probe(probe)
    # Each head and tail by the (first) template it was cut from.
    head_of: dict[str, str] = {}
    tail_of: dict[str, str] = {}
    for t, p in zip(train, parts, strict=True):
        if len(p) > 1:
            head_of.setdefault(p[0], t)
            tail_of.setdefault(" ".join(p[1:]), t)
    out: dict[str, Sentence] = {}
    for _ in range(20 * rows + 1000):
        if len(out) == rows or not usable:
            break
        kind = rng.choice(usable)
        group = rng.choice(EXTRA_GROUPS if kind == "extra group" else groups)
        origins: tuple[str, ...]
        if kind == "splice":
            head, tail = rng.choice(material["heads"]), rng.choice(material["tails"])
            shape, origins = f"{head} {tail}", (head_of[head], tail_of[tail])
        elif kind == "pair":
            first, second = rng.choice(material["singles"]), rng.choice(material["singles"])
            shape, origins = f"{first} {second}", (first, second)
        elif kind == "dropout":
            source = rng.choice(material["dropout"])
            words = source.split(" ")
            del words[rng.choice([i for i, w in enumerate(words) if "{" not in w])]
            shape, origins = " ".join(words), (source,)
        elif kind == "written":
            shape = rng.choice(material["written"])
            origins = (shape,)
        else:
            shape = rng.choice(train)
            origins = (shape,)
        if kind in ("splice", "pair", "dropout") and shape in known:
            continue
        if read_probe.copied_by(shape):
            continue
        text = fill(shape, group)
        out.setdefault(text, Sentence(text, kind, origins))
    if len(out) < rows:
        raise SystemExit(f"the templates made only {len(out)} distinct sentences of {rows}")
    return list(out.values())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, required=True, help="the CSV to write (`text`)")
    parser.add_argument("--rows", type=int, default=12000, help="how many sentences")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--kinds",
        nargs="+",
        choices=KINDS,
        default=list(RECOMBINED),
        help="which kinds of sentence to make (default: the four recombinations)",
    )
    parser.add_argument(
        "--origins",
        type=Path,
        help="also write here, per sentence, its kind, the families of the templates it "
        "was made from and the decision they share (hold, approve or mixed)",
    )
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    made = sentences(args.rows, args.seed, kinds=tuple(args.kinds))
    write_texts(args.output, [m.text for m in made])
    print(f"{len(made)} sentences to {args.output}")
    if args.origins:
        write_origins(args.origins, made)
        print(f"their origins to {args.origins}")


def write_texts(path: Path, texts: list[str]) -> None:
    """A transfer set as `models.data` reads one: a CSV with a `text` column only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text"])
        writer.writerows([t] for t in texts)


def write_origins(path: Path, made: list[Sentence]) -> None:
    """A CSV of each sentence's kind, its templates' families and the decision they share.

    The written kind's templates have no family and no decision (`models.unlabelled`).
    """
    family_of = {t: f for f in FAMILIES if f.slot == "group" for t in templates_of(f, "train")}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "kind", "families", "decision"])
        for m in made:
            families = [family_of.get(t) for t in m.templates]
            if None in families:
                writer.writerow([m.text, m.kind, "unlabelled", ""])
                continue
            holds = {f.hold for f in families if f is not None}
            decision = "mixed" if len(holds) > 1 else ("hold" if holds.pop() else "approve")
            names = "+".join(f.name for f in families if f is not None)
            writer.writerow([m.text, m.kind, names, decision])


if __name__ == "__main__":
    main()
