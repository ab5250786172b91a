"""Text normalization for scoring, link counting and evasion-resistant word-list matching.

Three forms of a comment exist side by side:

* the original, which is stored and shown, and which highlight offsets refer to;
* ``normalize(text)``, what the model scores: NFKC, invisible characters removed,
  look-alike letters folded to Latin inside Latin words, whitespace collapsed;
* ``matching_form(text)``, an aggressive form used only to match word lists: lower case,
  accents stripped, every look-alike folded, spaced-out letters joined, leetspeak undone;
* ``language_form(text)``, what language identification reads: ``normalize`` with
  spaced-out letters joined and leetspeak undone, case and accents kept.

Confusable folding rule used by ``normalize`` (Cyrillic, Greek and Armenian letters that look
like Latin ones, e.g. Cyrillic а е о р с у х і ј ѕ ԁ, Greek ο α ν ι κ ρ τ υ): a *word* is a
maximal run of letters, digits, underscores and combining marks.

1. A word that contains a Latin letter has its look-alike letters folded to Latin
   (``іdіot`` with Cyrillic і becomes ``idiot``); other Cyrillic/Greek letters stay.
2. A word made only of look-alike letters (no Latin letter, no other Cyrillic/Greek/Armenian
   letter) is folded only when the text is Latin-script: it has at least one Latin word and
   more Latin words than words holding a Cyrillic/Greek/Armenian letter that has no Latin
   look-alike. So ``сор`` inside an English sentence becomes ``cop``, while a Russian or
   Greek sentence keeps every letter.
3. Everything else is left alone. IPA and small-capital letters that only imitate Latin
   (``ɡ``, ``ɑ``, ``ᴀ``...) are always folded. Fullwidth and mathematical letters are
   handled by NFKC.

The rule is idempotent: folding only turns look-alikes into Latin letters, so a word's class
can only move towards "Latin", and the context test can only become more true.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "Match",
    "WordMatcher",
    "count_links",
    "is_blank",
    "language_form",
    "matching_form",
    "normalize",
]


# --- character tables -------------------------------------------------------------------------


def _ranges_class(codepoints: Iterable[int]) -> str:
    """Return a regex character-class body covering the given code points."""
    parts: list[str] = []
    ordered = sorted(set(codepoints))
    for _, group in itertools.groupby(enumerate(ordered), lambda pair: pair[1] - pair[0]):
        run = [cp for _, cp in group]
        lo, hi = run[0], run[-1]
        parts.append(
            re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        )
    return "".join(parts)


def _scan(ranges: Iterable[range], keep: Callable[[str], bool]) -> list[int]:
    return [cp for r in ranges for cp in r if keep(chr(cp))]


# Characters that render as nothing. Scanning planes 0-3 and 14 covers every Cf character;
# the explicit extras are invisible letters/marks/symbols (Hangul fillers, braille blank,
# variation selectors, combining grapheme joiner, Khmer inherent vowels, Mongolian selectors).
_INVISIBLE_EXTRA = [
    *map(ord, "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164\uffa0\ufffc"),
    *range(0xFE00, 0xFE10),
    *range(0xE0100, 0xE01F0),
]
_CONTROL_NOT_SPACE = _scan([range(0x00, 0x20), range(0x7F, 0xA0)], lambda ch: not ch.isspace())
_FORMAT = _scan(
    [range(0x0000, 0x40000), range(0xE0000, 0xE1000)], lambda ch: unicodedata.category(ch) == "Cf"
)
_JUNK = re.compile(
    "[" + _ranges_class([*_FORMAT, *_INVISIBLE_EXTRA, *_CONTROL_NOT_SPACE]) + "\ud800-\udfff]+"
)
# The junk that str.isprintable() accepts; everything else in _JUNK makes it False.
_PRINTABLE_JUNK = re.compile("[" + _ranges_class(_INVISIBLE_EXTRA) + "]")

# Cyrillic, Greek and Armenian letters with a Latin twin (case kept), as (look-alikes, Latin).
_FOREIGN_PAIRS = [
    ("аеһіјкорсѕухԁԛԝӏү", "aehijkopcsyxdqwly"),  # Cyrillic small
    ("АВЕҺІЈКМНОРСЅТУХҮԀԚԜӀ", "ABEHIJKMHOPCSTYXYDQWI"),  # Cyrillic capital
    ("αγεηικνορτυχωϲϳ", "ayenikvoptuxwcj"),  # Greek small
    ("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧϹͿ", "ABEZHIKMNOPTYXCJ"),  # Greek capital
    ("օսոհզՕՏ", "ounhqOS"),  # Armenian
]
_FOREIGN_LOOKALIKES = {
    k: v for keys, values in _FOREIGN_PAIRS for k, v in zip(keys, values, strict=True)
}
# Latin-script letters that exist only to imitate plain ones (IPA, small capitals): always folded.
_LATIN_LOOKALIKES = dict(
    zip("ɡɑɩʀʏʙɢʜɪʟɴᴀᴄᴅᴇᴊᴋᴍᴏᴘᴛᴜᴠᴡᴢꜱꞯ", "gairybghilnacdejkmoptuvwzsq", strict=True)
)
_FOREIGN_TABLE = str.maketrans(_FOREIGN_LOOKALIKES)

_FOREIGN_RANGES = [
    *(range(0x0370, 0x0400), range(0x1F00, 0x2000)),  # Greek
    *(range(0x0400, 0x0530), range(0x1C80, 0x1C90), range(0x2DE0, 0x2E00), range(0xA640, 0xA6A0)),
    *(range(0x0530, 0x0590), range(0xFB13, 0xFB18)),  # Armenian
]
_FOREIGN_OTHER_LETTER = re.compile(
    "["
    + _ranges_class(
        _scan(_FOREIGN_RANGES, lambda ch: ch.isalpha() and ch not in _FOREIGN_LOOKALIKES)
    )
    + "]"
)
_FOREIGN_LOOKALIKE = re.compile("[" + _ranges_class(ord(c) for c in _FOREIGN_LOOKALIKES) + "]")
_LATIN_LETTER = re.compile(
    "[A-Za-z\u00aa\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02af\u1d00-\u1dbf\u1e00-\u1eff"
    "\u2c60-\u2c7f\ua720-\ua7ff\uab30-\uab6f]"
)
_COMBINING_MARK = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_WORD = re.compile(rf"(?:\w|[{_COMBINING_MARK}])+")

# Line breaks per str.splitlines(); every other whitespace character is a space.
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_SPACE_RUNS = re.compile(rf"[^\S{_LINE_BREAKS}]{{2,}}")
_ODD_SPACE = re.compile(rf"[^\S {_LINE_BREAKS}]")
_BREAK_RUN = re.compile(rf"(?: *[{_LINE_BREAKS}])+ *")


# --- offset tracking --------------------------------------------------------------------------


class _Tracked:
    """A transformed string with, per character, the original span it came from."""

    __slots__ = ("ends", "starts", "text")

    def __init__(self, text: str, starts: list[int], ends: list[int]) -> None:
        self.text = text
        self.starts = starts
        self.ends = ends

    @classmethod
    def of(cls, text: str) -> _Tracked:
        return cls(text, list(range(len(text))), list(range(1, len(text) + 1)))


# A replacement, optionally with the index (relative to the match start) each output char
# came from; without it, equal-length replacements map char to char and others map every
# output char to the whole match.
_Replacement = tuple[str, Sequence[int] | None]
_State = str | _Tracked


def _sub(
    state: _State,
    pattern: re.Pattern[str],
    repl: str | Callable[[re.Match[str]], _Replacement],
) -> _State:
    """Like ``pattern.sub``, keeping the offset map of a tracked string."""
    if isinstance(state, str):
        if isinstance(repl, str):
            return pattern.sub(repl, state)
        return pattern.sub(lambda m: repl(m)[0], state)
    s, starts, ends = state.text, state.starts, state.ends
    matches = list(pattern.finditer(s))
    if not matches:
        return state
    out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    pos = 0
    for m in matches:
        a, b = m.span()
        out.append(s[pos:a])
        new_starts += starts[pos:a]
        new_ends += ends[pos:a]
        text, origin = (repl, None) if isinstance(repl, str) else repl(m)
        if text:
            if origin is not None:
                new_starts += [starts[a + k] for k in origin]
                new_ends += [ends[a + k] for k in origin]
            elif len(text) == b - a:
                new_starts += starts[a:b]
                new_ends += ends[a:b]
            else:
                new_starts += [starts[a]] * len(text)
                new_ends += [ends[b - 1]] * len(text)
            out.append(text)
        pos = b
    out.append(s[pos:])
    new_starts += starts[pos:]
    new_ends += ends[pos:]
    return _Tracked("".join(out), new_starts, new_ends)


class _CharMap:
    """A one-character-to-one-character replacement table (faster than str.translate)."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self._pattern = re.compile("[" + _ranges_class(map(ord, mapping)) + "]")
        self._replace = lambda m: mapping[m.group()]

    def __call__(self, state: _State) -> _State:
        s = _text(state)
        if not self._pattern.search(s):
            return state
        mapped = self._pattern.sub(self._replace, s)
        if isinstance(state, str):
            return mapped
        return _Tracked(mapped, state.starts, state.ends)


_fold_latin_lookalikes = _CharMap(_LATIN_LOOKALIKES)


def _text(state: _State) -> str:
    return state if isinstance(state, str) else state.text


def _nfkc(state: _State) -> _State:
    s = _text(state)
    if s.isascii() or unicodedata.is_normalized("NFKC", s):
        return state
    whole = unicodedata.normalize("NFKC", s)
    if isinstance(state, str):
        return whole
    for spans in (_starter_segments(s), _whitespace_chunks(s), [(0, len(s))]):
        starts: list[int] = []
        ends: list[int] = []
        pieces: list[str] = []
        for a, b in spans:
            piece = unicodedata.normalize("NFKC", s[a:b])
            pieces.append(piece)
            starts += [state.starts[a]] * len(piece)
            ends += [state.ends[b - 1]] * len(piece)
        if "".join(pieces) == whole:
            return _Tracked(whole, starts, ends)
    raise AssertionError("unreachable: NFKC of the whole text is the whole text")


def _starter_segments(s: str) -> list[tuple[int, int]]:
    """Split into a starter followed by its combining marks (exact for almost all text)."""
    bounds = [0]
    bounds += [k for k in range(1, len(s)) if not unicodedata.combining(s[k])]
    bounds.append(len(s))
    return list(itertools.pairwise(bounds))


_CHUNK = re.compile(r"\s*\S+|\s+")


def _whitespace_chunks(s: str) -> list[tuple[int, int]]:
    """Split before whitespace runs: composition never crosses a whitespace character."""
    return [m.span() for m in _CHUNK.finditer(s)]


def _lower(state: _State) -> _State:
    s = _text(state)
    low = s.lower()
    if isinstance(state, str):
        return low
    if len(low) == len(s):
        return _Tracked(low, state.starts, state.ends)
    starts: list[int] = []
    ends: list[int] = []
    for k, ch in enumerate(s):
        n = len(ch.lower())
        starts += [state.starts[k]] * n
        ends += [state.ends[k]] * n
    return _Tracked(low, starts, ends)


# --- normalize --------------------------------------------------------------------------------


def _fold_lookalikes(state: _State) -> _State:
    s = _text(state)
    if not _FOREIGN_LOOKALIKE.search(s):
        return state
    latin_words = foreign_words = 0
    for word in _WORD.findall(s):
        if _FOREIGN_OTHER_LETTER.search(word):
            foreign_words += 1
        elif _LATIN_LETTER.search(word):
            latin_words += 1
    latin_text = latin_words > foreign_words

    def fold(m: re.Match[str]) -> _Replacement:
        word = m.group()
        if _FOREIGN_LOOKALIKE.search(word) and (
            _LATIN_LETTER.search(word) or (latin_text and not _FOREIGN_OTHER_LETTER.search(word))
        ):
            return word.translate(_FOREIGN_TABLE), None
        return word, None

    return _sub(state, _WORD, fold)


def _collapse_whitespace(state: _State, gap: str = " ") -> _State:
    """Turn each whitespace run into "\n" if it holds a line break, else into one space.

    With ``gap="  "``, runs of two or more spaces become two spaces: the matching form keeps
    that hint of a word boundary in spaced-out text ("Y O U  A R E").
    """
    if isinstance(state, str):
        # Same results as the general branch below, faster.
        if gap == " ":  # splitlines() splits exactly on _LINE_BREAKS
            return "\n".join(
                " ".join(words) for line in state.splitlines() if (words := line.split())
            )
        lines = []
        for line in state.splitlines():
            if _SPACE_RUNS.search(line):
                line = _ODD_SPACE.sub(" ", _SPACE_RUNS.sub(gap, line)).strip()
            else:
                line = " ".join(line.split())
            if line:
                lines.append(line)
        return "\n".join(lines)
    state = _sub(_sub(state, _SPACE_RUNS, gap), _ODD_SPACE, " ")
    state = _sub(state, _BREAK_RUN, "\n")
    s = _text(state)
    a = len(s) - len(s.lstrip())
    b = len(s.rstrip())
    if isinstance(state, str):
        return s[a:b]
    return _Tracked(s[a:b], state.starts[a:b], state.ends[a:b])


def _normalize(state: _State, gap: str = " ") -> _State:
    s = _text(state)
    if not s.isprintable() or (not s.isascii() and _PRINTABLE_JUNK.search(s)):
        state = _sub(state, _JUNK, "")
    if not _text(state).isascii():
        state = _nfkc(state)
        folded = _fold_lookalikes(_fold_latin_lookalikes(state))
        if _text(folded) != _text(state):
            # Folding can make a Latin letter plus combining mark that NFKC composes.
            folded = _nfkc(folded)
        state = folded
    return _collapse_whitespace(state, gap)


def normalize(text: str) -> str:
    """Return the form of ``text`` given to the model (see the module docstring)."""
    return _text(_normalize(text))


# Normalization never removes a visible ASCII character: a text with one is not blank.
_VISIBLE_ASCII = re.compile("[!-~]")


def is_blank(text: str) -> bool:
    """Whether nothing is left of ``text`` once normalized (only spaces, invisible characters)."""
    if _VISIBLE_ASCII.search(text):
        return False
    return not normalize(text).strip()


# --- links ------------------------------------------------------------------------------------

_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|io|co|ai|app|dev|xyz|online|site|top|club|shop|store"
    "|blog|news|live|tv|ly|gg|cc|ws|link|click|page|wiki|tk|ml|ga|cf|gq|su|ru|de|uk|fr|es|nl"
    "|pl|br|cn|jp|au|ca|eu|ch|se|fi|dk|cz|pt|ua|kr|vn|tr|gr|hu|ro|sk|il|nz|za|mx|ar|cl|ie"
)
_EXPLICIT_LINK = re.compile(r"(?:\bhttps?://|\bwww\d{0,3}\.)[^\s<>\"']+", re.IGNORECASE)
_DOT_START = re.compile(r"[.\[(]")
# A dot (also written "[.]", "(.)", "[dot]", "(dot)") and a known top-level domain ending the
# host name: "example.co.uk" counts once, "e.g." and "node.js" not at all.
_DOMAIN_END = re.compile(
    r"(?:\.|\[\.\]|\(\.\)|\[dot\]|\(dot\))(?:" + _TLDS + r")\b(?![.\-]?\w)",
    re.IGNORECASE,
)
_PATH = re.compile(r"\S*")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.[]()")


def count_links(text: str) -> int:
    """Count URLs and bare domains (``example.com/path``) in the normalized text."""
    s = normalize(text)
    count = 0
    if "://" in s or "www" in s or "WWW" in s:
        s, count = _EXPLICIT_LINK.subn(" ", s)
    skip_until = 0
    for m in _DOT_START.finditer(s):
        k = m.start()
        if k < skip_until or k == 0 or not (s[k - 1].isascii() and s[k - 1].isalnum()):
            continue
        end = _DOMAIN_END.match(s, k)
        if end is None:
            continue
        host = k
        while host > 0 and s[host - 1] in _HOST_CHARS:
            host -= 1
        if host > 0 and s[host - 1] == "@":  # an e-mail address, not a link
            continue
        count += 1
        path = _PATH.match(s, end.end())  # a dot in the path is not another link
        skip_until = path.end() if path else end.end()
    return count


# --- matching form ----------------------------------------------------------------------------

# Marks where a spelled-out run began with "a" or "I": both a word and a letter, so a listed
# word may start after it ("a b i t c h") or at it ("i d i o t").
_SOFT = "\x00"
# Two or more spaces stay two spaces in the matching form: a word gap in spaced-out text.
_GAP = "  "


def _matching_table() -> dict[str, str]:
    table: dict[int, str] = {}
    ranges = [range(0x00C0, 0x0250), range(0x0370, 0x0530), range(0x1E00, 0x2000)]
    for cp in itertools.chain.from_iterable(ranges):
        decomposed = unicodedata.normalize("NFD", chr(cp))
        if len(decomposed) > 1 and all(unicodedata.combining(c) for c in decomposed[1:]):
            table[cp] = decomposed[0]
    table.update(zip(map(ord, "øłđħıŧƀɨʉ"), "oldhitbiu", strict=True))
    for key, base in list(table.items()):
        table[key] = _FOREIGN_LOOKALIKES.get(base, base)
    table.update((ord(k), v) for k, v in _FOREIGN_LOOKALIKES.items())
    table.update((ord(k), v) for k, v in _LATIN_LOOKALIKES.items())
    return {chr(k): v for k, v in table.items() if chr(k) != v}


_fold_for_matching = _CharMap(_matching_table())
_MARKS = re.compile(f"[{_COMBINING_MARK}]+")
_REPEAT = re.compile(r"(.)\1{2,}", re.DOTALL)
_LEET = str.maketrans("013457@$!|", "oieastasii")
_UNIT = r"(?:[^\W_]|[@$|])"
# A lone unit has no unit beside it; an apostrophe inside a word ("I'm", "l'homme") binds.
_LONE_UNIT_BEFORE = r"(?<![^\W_])(?<![@$|])(?<![^\W_]['’])"
_LONE_UNIT_AFTER = r"(?![^\W_])(?![@$|])(?!['’][^\W_])"
_SEPARATOR = r"(?: ?[.\-_*~+/·•:] ?| )"
_SPELLED = re.compile(rf"{_LONE_UNIT_BEFORE}{_UNIT}(?:{_SEPARATOR}{_UNIT})+{_LONE_UNIT_AFTER}")
# Cheap necessary condition for _SPELLED: two lone units around a separator. It starts with a
# separator character so the regex engine skips ahead quickly; most prose does not match.
_SPELLED_HINT = re.compile(
    rf"[ .\-_*~+/·•:](?<={_LONE_UNIT_BEFORE}{_UNIT}.)[ .\-_*~+/·•:]{{0,2}}{_UNIT}{_LONE_UNIT_AFTER}"
)
_LEET_CHAR = re.compile(r"[013457@$!|]")
_TOKEN_TAIL = re.compile(r"(?:[^\W_]|[@$!|])*")
_HAS_LETTER = re.compile(r"[^\W\d_]")


def _shorten_repeat(m: re.Match[str]) -> _Replacement:
    # No English word has a letter three times in a row: "idiooooot" -> "idioot".
    return m.group(1) * 2, (0, len(m.group()) - 1)


def _join_spelled(m: re.Match[str]) -> _Replacement:
    run = m.group()
    origin = [k for k, ch in enumerate(run) if ch.isalnum() or ch in "@$|"]
    units = "".join(run[k] for k in origin)
    if _HAS_LETTER.search(units):
        units = units.translate(_LEET)
    if units[0] in "ai" and run[1] == " ":
        return units[0] + _SOFT + units[1:], [origin[0], *origin]
    return units, origin


def _undo_leet(state: _State) -> _State:
    """Read leetspeak in tokens (letters, digits, ``@ $ ! |``) that contain a letter."""
    s = _text(state)
    edits: list[tuple[int, int, str]] = []
    token_end = 0
    for m in _LEET_CHAR.finditer(s):
        if m.start() < token_end:
            continue
        a = m.start()
        while a > 0 and (s[a - 1].isalnum() or s[a - 1] in "@$!|"):
            a -= 1
        match_end = _TOKEN_TAIL.match(s, a)
        token_end = match_end.end() if match_end else a
        token = s[a:token_end]
        if _HAS_LETTER.search(token):
            core = token.strip("!")  # "idiot!" keeps its exclamation mark
            lead = len(token) - len(token.lstrip("!"))
            mapped = token[:lead] + core.translate(_LEET) + token[lead + len(core) :]
            if mapped != token:
                edits.append((a, token_end, mapped))
    if not edits:
        return state
    if isinstance(state, str):
        pieces: list[str] = []
        pos = 0
        for a, b, mapped in edits:
            pieces += (s[pos:a], mapped)
            pos = b
        pieces.append(s[pos:])
        return "".join(pieces)
    # Every edit keeps the token's length, so the offset map is unchanged.
    chars = list(s)
    for a, b, mapped in edits:
        chars[a:b] = mapped
    return _Tracked("".join(chars), state.starts, state.ends)


def _undisguise(state: _State) -> _State:
    """Join spelled-out letters and read leetspeak (case, accents and scripts stay)."""
    if _SPELLED_HINT.search(_text(state)):
        state = _sub(state, _SPELLED, _join_spelled)
    return _undo_leet(state)


def _matching(state: _State) -> _State:
    state = _lower(state)
    if not _text(state).isascii():
        state = _fold_for_matching(state)
        state = _sub(state, _MARKS, "")
    state = _sub(state, _REPEAT, _shorten_repeat)
    return _undisguise(state)


def matching_form(text: str) -> str:
    """Return the aggressive form of ``text`` used only for word-list matching.

    On top of ``normalize`` (except that a run of two or more spaces stays two spaces, a word
    gap in spaced-out text): lower case; accents and combining marks dropped; every
    Cyrillic/Greek/Armenian look-alike folded regardless of context; runs of three or more
    identical characters shortened to two; two or more single characters separated by a
    space or by one of ``. - _ * ~ + / · • :`` joined ("i d i o t", "i.d.i.o.t" -> "idiot",
    "Y O U  A R E" -> "you  are"); and, inside tokens that contain a letter, 0->o 1->i 3->e
    4->a 5->s 7->t @->a $->s |->i and a non-final ! -> i.
    """
    return _text(_matching(_normalize(text, _GAP))).replace(_SOFT, "")


def language_form(text: str) -> str:
    """Return ``text`` as read to identify its language: ``normalize`` with disguises undone.

    Spaced-out letters are joined at their word gaps ("y o u  a r e  a n  i d i o t" ->
    "you are an idiot", which as written reads as Croatian or Portuguese to an n-gram
    model) and leetspeak is read as in ``matching_form``; unlike there, case, accents and
    every script's letters are kept, since they are what tells languages apart.
    """
    undisguised = _text(_undisguise(_normalize(text, _GAP))).replace(_SOFT, "")
    return _text(_collapse_whitespace(undisguised))


# --- word matching ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """A listed word found in a text; ``text[begin:end]`` is the original occurrence."""

    word: str
    begin: int
    end: int


_WORD_GAP = r"[\W_]*"
_TRAILING_MARK = re.compile(f"[{_COMBINING_MARK}]")


def _word_elements(form: str) -> list[str]:
    """Return regex fragments for a listed word's matching form, one per run of a character.

    A run of n identical characters matches n or more in the text, so "idiot" matches
    "idiooot" but "ass" does not match "as". "1" and "|" read as "i" in the text but may
    stand for "l", so a listed "l" also matches "i".
    """
    elements: list[str] = []
    for w, word in enumerate(form.split()):
        if w:
            elements.append(_WORD_GAP)
        for r, (ch, run) in enumerate(itertools.groupby(word)):
            n = len(list(run))
            atom = "[li]" if ch == "l" else re.escape(ch)
            quantifier = "+" if n == 1 else f"{{{n},}}"
            elements.append(("" if r == 0 else f"{_SOFT}?") + atom + quantifier)
    return elements


_Trie = dict[str, "_Trie"]


def _trie_pattern(sequences: list[list[str]]) -> str:
    """Merge element sequences that share prefixes into one regex alternation."""
    trie: _Trie = {}
    end = ""  # a key no element uses
    for seq in sequences:
        node = trie
        for element in seq:
            node = node.setdefault(element, {})
        node[end] = {}

    def emit(node: _Trie) -> str:
        branches = [key + emit(child) for key, child in node.items() if key != end]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # A listed word that is a prefix of another: try the longer one first.
        return f"(?:{body})?" if end in node else body

    return emit(trie)


class WordMatcher:
    """Find listed words as whole words in text, robust to common evasions.

    Matching happens on the matching form of both the listed words and the text; offsets of
    each ``Match`` refer to the original text.
    """

    def __init__(self, words: Iterable[str]) -> None:
        entries: list[tuple[str, str, re.Pattern[str]]] = []
        sequences: list[list[str]] = []
        seen: set[str] = set()
        for word in words:
            form = matching_form(word)
            elements = _word_elements(form)
            source = "".join(elements)
            if not elements or source in seen:
                continue
            seen.add(source)
            sequences.append(elements)
            entries.append((word, form, re.compile(source)))
        # When several entries fit one occurrence ("as" and "ass" both fit "ass"), name the
        # most specific: the one with the longest pattern.
        entries.sort(key=lambda entry: -len(entry[2].pattern))
        # Entries by the first character an occurrence can start with.
        self._entries_by_start: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        for word, form, pattern in entries:
            for start in "li" if form[0] == "l" else form[0]:
                self._entries_by_start.setdefault(start, []).append((word, pattern))
        self._pattern: re.Pattern[str] | None = None
        if sequences:
            self._pattern = re.compile(rf"(?<![^\W_])(?:{_trie_pattern(sequences)})(?![^\W_])")

    def find(self, text: str) -> list[Match]:
        """Return the listed words found in ``text``, in order, with original offsets."""
        if (
            self._pattern is None
            or self._pattern.search(_text(_matching(_normalize(text, _GAP)))) is None
        ):
            return []
        tracked = _matching(_normalize(_Tracked.of(text), _GAP))
        assert isinstance(tracked, _Tracked)
        found = []
        for m in self._pattern.finditer(tracked.text):
            end = tracked.ends[m.end() - 1]
            # Highlight whole characters: keep accents and marks stacked on the last letter.
            while end < len(text) and _TRAILING_MARK.match(text, end):
                end += 1
            found.append(Match(self._word_for(m.group()), tracked.starts[m.start()], end))
        return found

    def _word_for(self, found: str) -> str:
        for word, pattern in self._entries_by_start.get(found[0], ()):
            if pattern.fullmatch(found):
                return word
        raise AssertionError("unreachable: the combined pattern is the union of the entries")


def _casefold_plain(text: str) -> str:
    folded = text.casefold()
    if folded.isascii():  # nothing to decompose, no combining marks (most comments)
        return folded
    decomposed = unicodedata.normalize("NFD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# The article read apart only before a spelled-out word of three letters or more:
# "what a w f u l take", not "have a 5 % chance" (a run "a5", read "as").
_ARTICLE_APART = re.compile(f"{_SOFT}(?=[^\\W_]{{3}})")


def scoring_forms(text: str) -> tuple[str, ...]:
    """The texts the model scores for one comment; the comment takes each category's maximum.

    Always the normalized text. Also its matching form (leetspeak undone, spaced-out
    letters joined) when that differs by more than case and accents, which the
    model's uncased tokenizer ignores anyway: `y0u 1d10t` is then scored as written
    and as `you idiot`, so a disguise cannot lower the score. A spelled-out run that
    starts with `a` or `I`, English's one-letter words, is also read with that letter
    apart when three letters or more follow: `what a w f u l take` as `what awful take`
    and `what a wful take` (in `what a w o r t h l e s s take` the `a` is the article).
    Runs are found and joined as word matching finds and joins them (`_join_spelled`).
    """
    normalized = normalize(text)
    forms = [normalized]
    plain = _casefold_plain(normalized)
    marked = _text(_matching(_normalize(normalized, _GAP)))
    apart = _ARTICLE_APART.sub(" ", marked).replace(_SOFT, "")
    for reading in (marked.replace(_SOFT, ""), apart):
        if reading != plain and reading not in forms:
            forms.append(reading)
    return tuple(forms)
