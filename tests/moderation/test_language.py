"""Language identification: confident on paragraphs, English for short slang."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation import language
from moderation.language import LANGUAGES, detect_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (
            "I read the whole article twice and I still think the author skipped over the most "
            "important part of the argument.",
            "en",
        ),
        (
            "Franchement, je ne comprends pas pourquoi la mairie a attendu si longtemps avant "
            "de réparer cette route.",
            "fr",
        ),
        (
            "Ich habe den Artikel gestern Abend gelesen und finde, dass die Stadt endlich "
            "handeln sollte.",
            "de",
        ),
        (
            "No entiendo por qué el ayuntamiento tardó tanto en arreglar la carretera del pueblo.",
            "es",
        ),
        ("Мне кажется, что автор статьи совершенно прав насчёт новых правил.", "ru"),
    ],
)
def test_paragraphs_are_identified(text: str, code: str) -> None:
    detected, confidence = detect_language(text)
    assert detected == code
    assert confidence > 0.9


@pytest.mark.parametrize(
    "slang",
    [
        "lol ok",
        "you idiot",
        "ok",
        "lmao what",
        "shut up",
        "gg",
        "u r dumb",
        "so true",
        "idk",
        "YOU IDIOT",
        "omg haha",
        "cringe",
    ],
)
def test_short_slang_is_english(slang: str) -> None:
    assert detect_language(slang)[0] == "en"


@pytest.mark.parametrize(
    ("text", "code"),
    [("Danke schön, sehr gut!", "de"), ("Gracias amigo, muy bien", "es"), ("bonjour à tous", "fr")],
)
def test_short_text_with_clear_evidence_is_not_forced_to_english(text: str, code: str) -> None:
    assert detect_language(text)[0] == code


@pytest.mark.parametrize(
    "disguised",
    [
        "y o u  a r e  a n  i d i o t",  # read as written: Croatian
        "Y O U  A R E  A N  I D I O T",
        "s h u t  u p  y o u  s t u p i d  c l o w n",  # Croatian
        "y o u  a r e  a  w o r t h l e s s  m o r o n",  # Portuguese
        "y.o.u a.r.e a n.i.t.w.i.t",
        "y0u 4r3 4 w0rthl3ss m0r0n",
    ],
)
def test_disguised_english_is_english(disguised: str) -> None:
    assert detect_language(disguised)[0] == "en"


def test_mentions_and_addresses_are_dropped_before_leetspeak_is_read() -> None:
    # Read as leetspeak first, "@alice_w3" would be the word "aalice_we" (and this, Dutch).
    assert detect_language("@bob_the_builder @alice_w3 @k1ng ok")[0] == "en"


@pytest.mark.parametrize("text", ["", "   ", "12345 !!!", "😂😂😂", "https://example.com/x?y=1"])
def test_text_without_letters_is_undetermined(text: str) -> None:
    assert detect_language(text) == ("und", 0.0)


def test_links_and_mentions_do_not_count_as_language() -> None:
    text = "@jean_pierre https://exemple.fr/article-tres-long-et-francais totally agree"
    assert detect_language(text)[0] == "en"


@given(st.text(max_size=60))
@settings(max_examples=200)
def test_any_text_gives_a_known_code_and_a_probability(text: str) -> None:
    code, confidence = detect_language(text)
    assert code in (*LANGUAGES, "und")
    assert 0.0 <= confidence <= 1.0


def test_identifier_is_loaded_once() -> None:
    detect_language("warm up")
    first = language._get_identifier()
    detect_language("and again")
    assert language._get_identifier() is first


def test_the_identifier_holds_our_languages_only_and_ranks_as_py3langid_restricted() -> None:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    reference.set_languages(list(LANGUAGES))
    ours = language._get_identifier()
    assert set(ours.nb_classes) == set(LANGUAGES)
    assert ours.nb_ptc.shape == (reference.nb_ptc.shape[0], len(ours.nb_classes))
    # Nor does it keep the model of every language beside them (what set_languages does).
    assert all(part.shape[-1] == len(ours.nb_classes) for part in ours._full_model[:2])
    for text in (
        "Der Busfahrplan hat sich schon wieder geändert, ohne dass jemand Bescheid gesagt hat.",
        "¿Alguien sabe a qué hora abre la piscina municipal los domingos?",
        "lol ok",
        "Merci pour les photos du marché de samedi.",
        "Dit is echt een mooi verhaal over de haven.",
        "thanks for the update",
    ):
        expected, got = reference.rank(text), ours.rank(text)
        assert [code for code, _ in got] == [code for code, _ in expected]
        assert [p for _, p in got] == pytest.approx([p for _, p in expected], abs=1e-6)
