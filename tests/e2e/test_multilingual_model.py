"""The shipped multilingual model through the API: benign and toxic comments of our own per language.

German, Spanish, French, Italian and Portuguese comments go to models/multilingual-toxicity
and are decided on its calibrated per-language thresholds by a new site's default policy;
English ones still go to the English model.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api import create_app
from api.services import services
from tests.e2e.conftest import _missing
from tests.serving import real_model_path

# Our own sentences (never from ../shared/data). Benign ones include identity mentions and
# names, which must not be held.
COMMENTS: dict[str, dict[str, list[str]]] = {
    "de": {
        "benign": [
            "Vielen Dank für den Bericht, die Fotos vom Hafen sind wunderschön.",
            "Ich bin anderer Meinung, aber der Artikel erklärt die Entscheidung gut.",
            "Als Muslimin freue ich mich über das neue Gemeindezentrum in unserer Straße.",
            "Frau Yilmaz hat im Stadtrat eine sehr kluge Rede gehalten.",
        ],
        "toxic": [
            "Du bist ein erbärmlicher Idiot, halt endlich dein dummes Maul.",
            "Ich finde heraus, wo du wohnst, und dann mache ich dich fertig.",
            "Verpiss dich, du wertloses Stück Scheiße.",
        ],
    },
    "es": {
        "benign": [
            "Muchas gracias por el reportaje, las fotos del puerto son preciosas.",
            "No estoy de acuerdo, pero el artículo explica bien la decisión.",
            "Como mujer gitana, me alegra ver a mi barrio en el periódico.",
            "La señora Fernández dio un discurso muy sensato en el pleno.",
        ],
        "toxic": [
            "Eres un imbécil patético, cállate de una vez, idiota.",
            "Voy a encontrar dónde vives y te voy a partir la cara.",
            "Vete a la mierda, pedazo de basura inútil.",
        ],
    },
    "fr": {
        "benign": [
            "Merci beaucoup pour ce reportage, les photos du port sont magnifiques.",
            "Je ne suis pas d'accord, mais l'article explique bien la décision.",
            "En tant que femme noire, je suis fière de voir mon quartier à l'honneur.",
            "Madame Dubois a fait un discours très raisonnable au conseil municipal.",
        ],
        "toxic": [
            "Tu es un pauvre crétin, ferme ta gueule une bonne fois pour toutes.",
            "Je vais trouver où tu habites et je vais te casser la gueule.",
            "Va te faire foutre, espèce de connard inutile.",
        ],
    },
    "it": {
        "benign": [
            "Grazie mille per il servizio, le foto del porto sono bellissime.",
            "Non sono d'accordo, ma l'articolo spiega bene la decisione.",
            "Da immigrato marocchino, sono contento di leggere del mio quartiere.",
            "La signora Rossi ha fatto un discorso molto sensato in consiglio.",
        ],
        "toxic": [
            "Sei un povero idiota, stai zitto una buona volta, cretino.",
            "Scoprirò dove abiti e ti spaccherò la faccia.",
            "Vaffanculo, pezzo di merda inutile.",
        ],
    },
    "pt": {
        "benign": [
            "Muito obrigado pela reportagem, as fotos do porto estão lindas.",
            "Não concordo, mas o artigo explica bem a decisão.",
            "Como mulher negra, fico feliz por ver o meu bairro no jornal.",
            "A senhora Silva fez um discurso muito sensato na câmara.",
        ],
        "toxic": [
            "Você é um idiota patético, cala essa boca de uma vez, imbecil.",
            "Vou descobrir onde você mora e vou quebrar a sua cara.",
            "Vai tomar no cu, seu lixo inútil de merda.",
        ],
    },
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app with both shipped models on a SQLite file, as a new site's key."""
    shipped = real_model_path().parent / "multilingual-toxicity"
    if not (shipped / "config.json").exists():
        _missing(f"no multilingual checkpoint at {shipped}")
    folder: Path = tmp_path_factory.mktemp("multilingual")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'moderation.db'}",
            "MODEL": str(real_model_path()),
            "MULTILINGUAL_MODEL": str(shipped),
            "LOG_REQUESTS": False,
            "RATE_LIMIT_ENABLED": False,
            "SECRET_KEY": "multilingual",
            "SCORING_TIMEOUT": 120.0,  # the first comment loads the model
        }
    )
    _, key = services(app).store.sites.create("zeitung")
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    yield test_client
    services(app).store.engine.dispose()


@pytest.mark.parametrize("language", sorted(COMMENTS))
def test_our_sentences_are_decided_right_in_each_language(client: Any, language: str) -> None:
    """The issue's bar: at least 80 % decided right per language (here at most one of seven
    wrong); benign mentions of a religion, an origin or a name are never held."""
    wrong = []
    for kind in ("benign", "toxic"):
        for i, text in enumerate(COMMENTS[language][kind]):
            r = client.post("/v1/comments", json={"text": text})
            assert r.status_code == 201, r.get_json()
            out = r.get_json()
            assert out["language"] == language, text
            assert out["model"]["name"] == "multilingual-toxicity", text
            expected = "approved" if kind == "benign" else "held"
            if kind == "benign" and i >= 2:  # the identity mention and the name
                assert out["status"] == "approved", (text, out["scores"], out["reasons"])
            if out["status"] != expected:
                wrong.append((text, out["scores"], out["reasons"]))
    assert len(wrong) <= 1, wrong


def test_english_still_goes_to_the_english_model(client: Any) -> None:
    out = client.post(
        "/v1/comments", json={"text": "Thanks for the report, the harbour photos are lovely."}
    ).get_json()
    assert (out["language"], out["status"]) == ("en", "approved")
    assert out["model"]["name"] == real_model_path().name


def test_perspective_scores_german_and_spanish_with_the_model(client: Any) -> None:
    key = client.environ_base["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    for language in ("de", "es"):
        benign, toxic = COMMENTS[language]["benign"][0], COMMENTS[language]["toxic"][0]
        values = []
        for text in (benign, toxic):
            r = client.post(
                "/v1alpha1/comments:analyze",
                query_string={"key": key},
                json={
                    "comment": {"text": text},
                    "requestedAttributes": {"TOXICITY": {}},
                    "languages": [language],
                    "doNotStore": True,
                },
            )
            assert r.status_code == 200, r.get_json()
            values.append(r.get_json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"])
        assert values[0] < values[1]
