"""Counterfactual copies of training rows: the same sentence about another group or person.

A row that mentions an identity term or a first name gets copies with each such
term swapped for one of the same kind (a religion for a religion, a plural noun
for a plural noun, a woman's name for a woman's name), with the row's labels
unchanged: if "Muslims are vermin" is hateful, so is "Jews are vermin", and if
"Thanks, Emily" is benign, so is "Thanks, Tyrone". Seen both ways in training,
no label can hinge on which group or which name a sentence mentions.

Rules:
- whole words only (`\\b`), never inside another word ("Jewish" is not "Jew" + "ish",
  "scunthorpe" holds no swap);
- the case of the original is kept (lower, Capitalised, UPPER);
- adjectives swap with adjectives and nouns with nouns, singular with singular and
  plural with plural ("a Jew" -> "a Muslim", "Jews" -> "Muslims", "Jewish" -> "Muslim");
- words that are identity terms only sometimes ("black", "white", "straight",
  "trans", "blind", "polish") count only before a word for people ("black people",
  "straight men", "Polish workers"), so "a black car" and "three straight wins" stay;
- one term maps to one replacement throughout a row, and never to itself;
- first names must be capitalised in the text; names that are also common words
  (Will, Mark, Grace) are not in the lists.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

from models.names import match_case

# Kinds of identity term: within a kind, each form can stand in for the same form of
# another member. Forms: adj (adjective), noun (one person), plural (people).
IDENTITY_KINDS: dict[str, tuple[dict[str, str], ...]] = {
    "religion": (
        {"adj": "muslim", "noun": "muslim", "plural": "muslims"},
        {"adj": "jewish", "noun": "jew", "plural": "jews"},
        {"adj": "christian", "noun": "christian", "plural": "christians"},
        {"adj": "hindu", "noun": "hindu", "plural": "hindus"},
        {"adj": "sikh", "noun": "sikh", "plural": "sikhs"},
        {"adj": "buddhist", "noun": "buddhist", "plural": "buddhists"},
        {"adj": "catholic", "noun": "catholic", "plural": "catholics"},
        {"adj": "atheist", "noun": "atheist", "plural": "atheists"},
    ),
    "sexuality": (
        {"adj": "gay", "noun": "gay man", "plural": "gays"},
        {"adj": "lesbian", "noun": "lesbian", "plural": "lesbians"},
        {"adj": "bisexual", "noun": "bisexual", "plural": "bisexuals"},
        {"adj": "straight", "noun": "straight man", "plural": "straights"},
        {"adj": "queer", "noun": "queer person", "plural": "queers"},
        {"adj": "heterosexual", "noun": "heterosexual", "plural": "heterosexuals"},
        {"adj": "homosexual", "noun": "homosexual", "plural": "homosexuals"},
    ),
    "gender_identity": (
        {"adj": "transgender", "plural": "transgender people"},
        {"adj": "trans", "plural": "trans people"},
        {"adj": "cisgender", "plural": "cisgender people"},
        {"adj": "nonbinary", "plural": "nonbinary people"},
    ),
    "ethnicity": (
        {"adj": "asian", "noun": "asian", "plural": "asians"},
        {"adj": "latino", "noun": "latino", "plural": "latinos"},
        {"adj": "hispanic", "noun": "hispanic", "plural": "hispanics"},
        {"adj": "arab", "noun": "arab", "plural": "arabs"},
        {"adj": "african", "noun": "african", "plural": "africans"},
        {"adj": "european", "noun": "european", "plural": "europeans"},
        {"adj": "mexican", "noun": "mexican", "plural": "mexicans"},
        {"adj": "chinese"},
        {"adj": "indian", "noun": "indian", "plural": "indians"},
        {"adj": "pakistani", "noun": "pakistani", "plural": "pakistanis"},
        {"adj": "somali", "noun": "somali", "plural": "somalis"},
        {"adj": "polish"},
        {"adj": "irish"},
        {"adj": "italian", "noun": "italian", "plural": "italians"},
    ),
    "colour": (
        {"adj": "black"},
        {"adj": "white"},
        {"adj": "brown"},
    ),
    "migration": (
        {"adj": "immigrant", "noun": "immigrant", "plural": "immigrants"},
        {"adj": "refugee", "noun": "refugee", "plural": "refugees"},
        {"adj": "migrant", "noun": "migrant", "plural": "migrants"},
    ),
    "disability": (
        {"adj": "disabled", "plural": "disabled people"},
        {"adj": "deaf", "plural": "deaf people"},
        {"adj": "blind", "plural": "blind people"},
        {"adj": "autistic", "plural": "autistic people"},
    ),
}

# Identity terms that are also everyday words: they count only right before a word for people.
AMBIGUOUS = frozenset({"black", "white", "brown", "straight", "trans", "blind", "polish"})
# Words for people.
PEOPLE_NOUNS = (
    "people|person|persons|man|men|woman|women|guy|guys|girl|girls|boy|boys|kid|kids|folks?|"
    "families|family|community|communities|americans|voters|students|neighbou?rs|friends?|"
    "population|lives|children|child|parents?|mothers?|fathers?|teens?|youths?|workers?"
)

# First names by community and gender (two tuples: women's, men's). Names that are also
# everyday words are left out so that a swap never rewrites an ordinary word.
FIRST_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "anglo": (
        ("Emily", "Sarah", "Claire", "Hannah", "Megan", "Rachel", "Laura", "Jessica"),
        ("James", "David", "Michael", "Peter", "Andrew", "Thomas", "Richard", "Steven"),
    ),
    "african_american": (
        ("Keisha", "Latoya", "Imani", "Shanice", "Ebony", "Aaliyah", "Tanisha", "Ayanna"),
        ("Jamal", "DeShawn", "Tyrone", "Darnell", "Terrell", "Malik", "Lamar", "Jermaine"),
    ),
    "arabic": (
        ("Aisha", "Fatima", "Layla", "Mariam", "Noor", "Salma", "Yasmin", "Zainab"),
        ("Ahmed", "Omar", "Yusuf", "Khalid", "Hassan", "Karim", "Tariq", "Mustafa"),
    ),
    "south_asian": (
        ("Priya", "Ananya", "Deepa", "Kavya", "Neha", "Sunita", "Pooja", "Lakshmi"),
        ("Raj", "Arjun", "Sanjay", "Vikram", "Rahul", "Amit", "Ravi", "Suresh"),
    ),
    "east_asian": (
        ("Mei", "Yuki", "Hana", "Xiu", "Keiko", "Mai", "Jia", "Sakura"),
        ("Wei", "Hiroshi", "Kenji", "Jun", "Takeshi", "Hao", "Jian", "Haruto"),
    ),
    "hispanic": (
        ("Maria", "Lucia", "Carmen", "Sofia", "Valentina", "Rosa", "Gabriela", "Isabel"),
        ("Carlos", "Jose", "Diego", "Alejandro", "Miguel", "Javier", "Luis", "Pablo"),
    ),
}


@dataclass(frozen=True)
class _Term:
    kind: str
    form: str
    member: int


def _identity_index() -> dict[str, _Term]:
    index: dict[str, _Term] = {}
    for kind, members in IDENTITY_KINDS.items():
        for m, forms in enumerate(members):
            for form, word in forms.items():
                index.setdefault(word, _Term(kind, form, m))
    return index


_IDENTITY = _identity_index()
_NAMES = {
    name: (community, gender)
    for community, pair in FIRST_NAMES.items()
    for gender, names in enumerate(pair)
    for name in names
}


def _alternation(words: Iterable[str]) -> str:
    # Longest first, so "transgender people" wins over "transgender", "jews" over "jew".
    return "|".join(
        re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True)
    )


_TERM_RE = re.compile(
    rf"\b(?:(?P<ambiguous>{_alternation(AMBIGUOUS)})(?=\s+(?:{PEOPLE_NOUNS})\b)"
    rf"|(?P<term>{_alternation(w for w in _IDENTITY if w not in AMBIGUOUS)})"
    rf"|(?P<name>{_alternation(_NAMES)}))\b",
    re.IGNORECASE,
)
# Names are matched case-sensitively below: "mei" or "RAJ" in lower/upper case text is
# too often something else.


def identity_terms() -> frozenset[str]:
    """Every form of every identity term the swaps know, lower case ("muslim", "jews", "gay man")."""
    return frozenset(_IDENTITY)


def mentions(text: str) -> list[str]:
    """The identity terms and first names a text mentions, as written, in order."""
    return [m.group(0) for m in _TERM_RE.finditer(text) if _usable(m)]


def _usable(m: re.Match[str]) -> bool:
    return m.group("name") is None or m.group(0) in _NAMES


def _replacement(word: str, rng: random.Random) -> str | None:
    if word in _NAMES:
        community, gender = _NAMES[word]
        others = [c for c in FIRST_NAMES if c != community]
        return rng.choice(FIRST_NAMES[rng.choice(others)][gender])
    key = re.sub(r"\s+", " ", word.lower())
    term = _IDENTITY.get(key)
    if term is None:
        return None
    options = [
        forms[term.form]
        for m, forms in enumerate(IDENTITY_KINDS[term.kind])
        if m != term.member and term.form in forms
    ]
    return rng.choice(options) if options else None


def swap(text: str, rng: random.Random) -> str | None:
    """One counterfactual copy of `text`, or None when it mentions no swappable term."""
    chosen: dict[str, str] = {}

    def replace(m: re.Match[str]) -> str:
        word = m.group(0)
        if not _usable(m):
            return word
        key = word if word in _NAMES else re.sub(r"\s+", " ", word.lower())
        if key not in chosen:
            new = _replacement(word, rng)
            if new is None:
                return word
            chosen[key] = new
        return chosen[key] if word in _NAMES else match_case(word, chosen[key])

    out = _TERM_RE.sub(replace, text)
    return out if chosen else None


def augment(texts: list[str], copies: int, seed: int) -> tuple[list[int], list[str]]:
    """Counterfactual copies of every text that mentions a term: (source row, new text) lists.

    Each qualifying row gets up to `copies` distinct copies; duplicates of the
    original or of each other are dropped.
    """
    rng = random.Random(seed)
    rows: list[int] = []
    new: list[str] = []
    for i, text in enumerate(texts):
        seen = {text}
        for _ in range(copies):
            out = swap(text, rng)
            if out is None:
                break
            if out not in seen:
                seen.add(out)
                rows.append(i)
                new.append(out)
    return rows, new
