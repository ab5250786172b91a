"""The real service on a free 127.0.0.1 port, for unmodified Perspective clients to talk to.

The models are keyword fakes (English, and a second one for German, Spanish, French,
Italian and Portuguese): these tests prove the protocol, not the models.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.serving import make_server

from api.services import services
from tests.fakes import KeywordScorer, MultilingualKeywordScorer

TOXIC = "Only a nitwit would write this. Otherwise the photos are nice."
BENIGN = "Thanks for the write-up, the section on tide pools was lovely."
# Our own; the fake multilingual model knows "Trottel" and "imbécil" (tests.fakes).
GERMAN_TOXIC = "Nur ein Trottel schreibt so etwas. Die Fotos sind aber schön."
SPANISH_TOXIC = "Solo un imbécil escribiría algo así. Las fotos, en cambio, son bonitas."
GERMAN_BENIGN = "Danke für den Bericht, der Abschnitt über die Gezeitentümpel war sehr schön."
SPANISH_BENIGN = "Gracias por el reportaje, la parte sobre las pozas de marea era preciosa."
DUTCH = "Bedankt voor het verslag, het stuk over de getijdenpoelen was erg mooi."


@dataclass(frozen=True)
class Server:
    url: str
    key: str
    site_id: str
    app: Any

    def feedback(self) -> list[Any]:
        return services(self.app).store.labels.for_site(self.site_id)

    def stored_texts(self) -> list[str]:
        store = services(self.app).store
        return [c.text for c in store.comments.scored_between(self.site_id, None, None)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from api import create_app

    folder = tmp_path_factory.mktemp("compat")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'compat.db'}",
            "SCORER": KeywordScorer(),
            # A second model for de/es/fr/it/pt (no checkpoint: the fake is handed in).
            "SCORER_MULTILINGUAL": MultilingualKeywordScorer(),
            "MULTILINGUAL_MODEL": str(folder / "multilingual-toxicity"),
            "SECRET_KEY": "compat-secret",
            "LOG_REQUESTS": False,
        }
    )
    site, key = services(app).store.sites.create("compat-news")
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="compat-server", daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_port}", key, site.id, app)
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        services(app).store.engine.dispose()
