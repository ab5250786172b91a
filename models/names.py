"""First names read as one name, so that which name a comment uses cannot move its score.

A comment's toxicity does not depend on whether it thanks Emily or Tyrone. The
shipped transformer learnt otherwise from tweets, and counterfactual copies in
training (`models.counterfactual`) narrowed the gap without closing it: "I like you
Tyrone." scored 0.78 where "I like you Emily." scored 0.07. So a checkpoint may
carry a list of first names (`first_names.json`); its scorer then reads every one
of them as one canonical name before the transformer and the n-gram head see the
text. What a comment says about a person still counts ("Tyrone is an idiot" reads
"Alex is an idiot"); only the name's own weight is gone, for every name on the list.

The list is ours: given names common in many communities, written for this
repository (`models/first_names/*.txt`), less three kinds of name that must keep
their meaning. Names that are everyday words ("Will", "Rose", "Dick") are found in
the training text: a name written in lower case mid-sentence at least as often as
capitalised is a word (`is_word`). Identity terms ("Christian") come from
`models.counterfactual`. Places, prophets and deities the writers left out, and
`RESERVED` keeps out should a list add them.

    python -m models.names ../shared/data --output models/minilm-toxicity/first_names.json

builds the checkpoint's list from the written ones and prints what it left out.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

NAMES_FILE = "first_names.json"
SOURCES = Path(__file__).parent / "first_names"
CANONICAL = "Alex"
# Names that carry a meaning beyond a person, lower case: figures of faith, whose name
# is what an attack on a religion names; places; names used as a byword for a kind of
# person.
RESERVED = frozenset(
    {"jesus", "jesús", "christ", "allah", "yahweh", "jehovah", "moses", "musa", "isa"}
    | {"mohammed", "muhammad", "mohammad", "mohamed", "mohamad", "muhammed", "mohammod"}
    | {"buddha", "krishna", "shiva", "rama", "vishnu", "ganesh"}
    | {"israel", "jordan", "georgia", "india", "asia", "africa", "america", "china"}
    | {"paris", "sydney", "florence", "virginia", "carolina", "dakota", "austin"}
    | {"dallas", "houston", "madison", "brooklyn", "london"}
    | {"karen", "becky", "chad", "stacy", "kevin"}
)
# A name is a word when its lower-case mid-sentence uses are at least this share of
# its mid-sentence uses, and there are at least `WORD_MIN` of them.
WORD_SHARE = 0.5
WORD_MIN = 3

_LETTERS = r"[^\W\d_]"
# A word that may be a name: letters, with inner hyphens or apostrophes ("Mary-Jane",
# "D'Angelo"), never part of a longer word, a hyphenated compound or a handle's tail.
_WORD = re.compile(rf"(?<![\w'’-]){_LETTERS}+(?:[-'’]{_LETTERS}+)*(?![\w-])")
_POSSESSIVE = re.compile(r"(?i)(.+)(['’]s)")


def match_case(original: str, replacement: str) -> str:
    """`replacement` in the case style of `original`: upper, capitalised or lower case."""
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original[0].isupper():
        return replacement[0].upper() + replacement[1:]
    return replacement.lower()


@dataclass(frozen=True)
class FirstNames:
    """Reads each listed first name in a text as `canonical`, keeping its case style."""

    names: frozenset[str]  # case-folded
    canonical: str = CANONICAL

    def read(self, text: str) -> str:
        """The text with every listed name replaced by the canonical one.

        Each word is looked up whole (a set lookup, not one pattern of thousands of
        names), and again without a possessive "'s".
        """
        return _WORD.sub(self._replace, text)

    def read_all(self, texts: Sequence[str]) -> list[str]:
        return [self.read(t) for t in texts]

    def _replace(self, m: re.Match[str]) -> str:
        word = m.group(0)
        if word.casefold() in self.names:
            return match_case(word, self.canonical)
        possessive = _POSSESSIVE.fullmatch(word)
        if possessive and possessive[1].casefold() in self.names:
            return match_case(possessive[1], self.canonical) + possessive[2]
        return word

    def to_json(self) -> dict[str, object]:
        return {"canonical": self.canonical, "names": sorted(self.names)}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=0) + "\n", "utf-8")

    @classmethod
    def load(cls, path: Path) -> FirstNames:
        data = json.loads(Path(path).read_text("utf-8"))
        return cls(frozenset(n.casefold() for n in data["names"]), data["canonical"])


def find(checkpoint: Path) -> FirstNames | None:
    """The first names a checkpoint reads as one, if it has a list."""
    path = Path(checkpoint) / NAMES_FILE
    return FirstNames.load(path) if path.is_file() else None


# -- building the list (from the written lists and the training text) ---------------------


def written(sources: Path = SOURCES) -> dict[str, str]:
    """The written lists' names, case-folded, each with the file it came from."""
    names: dict[str, str] = {}
    for path in sorted(sources.glob("*.txt")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                names.setdefault(line.strip().casefold(), path.stem)
    return names


_MID_SENTENCE_WORD = re.compile(rf"(?<=[\w,;:] )({_LETTERS}+(?:[-'’]{_LETTERS}+)*)")


def mid_sentence_uses(texts: Iterable[str]) -> tuple[Counter[str], Counter[str]]:
    """Each word's uses after another word in a sentence: (all, in lower case), case-folded.

    A sentence's first word is capitalised whatever it is, so it tells nothing.
    """
    every: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    for text in texts:
        for word in _MID_SENTENCE_WORD.findall(text):
            key = word.casefold()
            every[key] += 1
            if word.islower():
                lower[key] += 1
    return every, lower


def is_word(name: str, every: Counter[str], lower: Counter[str]) -> bool:
    """Whether the training text uses `name` (case-folded) as an everyday word."""
    return lower[name] >= WORD_MIN and lower[name] >= WORD_SHARE * every[name]


def build(
    candidates: Iterable[str], texts: Iterable[str], identity_terms: Iterable[str]
) -> tuple[FirstNames, dict[str, list[str]]]:
    """The list to ship, and what was left out, by reason."""
    every, lower = mid_sentence_uses(texts)
    identity = {t.casefold() for t in identity_terms}
    kept: set[str] = set()
    dropped: dict[str, list[str]] = {"reserved": [], "identity term": [], "everyday word": []}
    for name in sorted({c.casefold() for c in candidates}):
        if name in RESERVED:
            dropped["reserved"].append(name)
        elif name in identity:
            dropped["identity term"].append(name)
        elif is_word(name, every, lower):
            dropped["everyday word"].append(name)
        else:
            kept.add(name)
    return FirstNames(frozenset(kept)), dropped


def main(argv: list[str] | None = None) -> None:
    from models.counterfactual import identity_terms
    from models.data import load_sources

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="the training data folder (its English sources)")
    parser.add_argument("--output", type=Path, required=True, help=f"where to write {NAMES_FILE}")
    args = parser.parse_args(argv)
    sources = [s for s in load_sources([args.data]) if s.language == "en"]
    names, dropped = build(written(), (t for s in sources for t in s.texts), identity_terms())
    names.save(args.output)
    print(f"{len(names.names)} names kept, canonical {names.canonical!r} -> {args.output}")
    for reason, words in dropped.items():
        print(f"left out, {reason} ({len(words)}): {' '.join(words)}")


if __name__ == "__main__":
    main()
