"""Language identification for comments, biased towards English for short texts.

Uses py3langid (a naive Bayes byte n-gram model that ships inside the package, no download),
restricted to the languages in ``LANGUAGES``. Short comments carry little evidence ("lol ok"
looks as much Turkish as English to an n-gram model), and most short comments on the sites we
serve are English, so an English prior is applied that is strong for a few letters and fades
out by about 30 letters; a long paragraph in another language is never pulled to English.
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any

from moderation.text import language_form

__all__ = [
    "LANGUAGES",
    "UNDETERMINED",
    "detect_language",
    "english",
    "primary_language",
    "scored_language",
]

UNDETERMINED = "und"

# ISO 639-1 codes the identifier may answer; fewer candidates, fewer false positives.
# fmt: off
LANGUAGES: tuple[str, ...] = (
    "en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "cs", "sk", "hu",
    "ro", "hr", "sl", "tr", "ru", "uk", "bg", "el", "he", "ar", "fa", "hi", "zh", "ja", "ko",
    "vi", "id", "th", "ca",
)
# fmt: on

# English prior: x50 up to 6 letters, x~14 at 10, x~6 at 13, x~1.5 at 20, x~1.02 at 30.
_PRIOR_MAX = 50.0
_PRIOR_FLAT_LETTERS = 6
_PRIOR_DECAY_LETTERS = 3.0

_NOT_LANGUAGE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+|@\w+", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]")

_lock = threading.Lock()
_identifier: Any = None


def primary_language(language: str) -> str:
    """The primary subtag of an ISO 639 / BCP-47 code, lower case ("de-AT" -> "de")."""
    return re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]


def english(language: str) -> bool:
    """Whether an ISO 639 / BCP-47 code names English ("en", "en-GB", "EN_us")."""
    return primary_language(language) == "en"


def scored_language(language: str | None) -> bool:
    """Whether the English model reads a comment in `language`: English, or no language."""
    return not language or language == UNDETERMINED or english(language)


def _get_identifier() -> Any:
    """Load the identifier once per process (about a second), on first use."""
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                _identifier = _restricted_identifier()
    return _identifier


def _restricted_identifier() -> Any:
    """py3langid's identifier over ``LANGUAGES`` only, without its full model.

    ``set_languages`` would keep the model of every language it knows (142 columns,
    script variants included: a 28 MB array a process) beside the subset; a new
    identifier made from the subset's columns ranks the same and lets the full
    model go.
    """
    import numpy as np
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    keep = [i for i, code in enumerate(full.nb_classes) if code in LANGUAGES]
    return LanguageIdentifier(
        np.ascontiguousarray(full.nb_ptc[:, keep]),
        full.nb_pc[keep],
        [full.nb_classes[i] for i in keep],
        full.tk_nextmove,
        full.tk_output,
        norm_probs=True,
        tk_row=full.tk_row,
    )


def _english_prior(letters: int) -> float:
    excess = max(0, letters - _PRIOR_FLAT_LETTERS)
    return 1.0 + (_PRIOR_MAX - 1.0) * math.exp(-excess / _PRIOR_DECAY_LETTERS)


def detect_language(text: str) -> tuple[str, float]:
    """Return the ISO 639-1 code of ``text`` and a confidence in [0, 1].

    Reads ``language_form(text)``, so pass the text as written (its word gaps matter):
    spaced-out or leetspeak English is English. "und" with confidence 0.0 only when the text has no letters at all (emoji, digits,
    links); otherwise one of ``LANGUAGES``.
    """
    # Links and addresses out first: reading leetspeak would make "sam@example.org" a word.
    cleaned = language_form(_NOT_LANGUAGE.sub(" ", text))
    letters = len(_LETTER.findall(cleaned))
    if letters == 0:
        return UNDETERMINED, 0.0
    probabilities = dict(_get_identifier().rank(cleaned))
    if len(_LATIN_LETTER.findall(cleaned)) * 2 > letters:
        probabilities["en"] = probabilities.get("en", 0.0) * _english_prior(letters)
    total = sum(probabilities.values())
    language, score = max(probabilities.items(), key=lambda item: item[1])
    confidence = score / total if total > 0 else 0.0
    return language, min(1.0, max(0.0, float(confidence)))
