"""Browser fixtures: Debian's chromium driven by Playwright, and the service with people to sign in.

The service is gunicorn with the real model (MODERATION_MODEL, else the shipped checkpoint).
MODERATION_E2E_SCORER=fake runs it in-process on werkzeug with the keyword fake instead,
for working on the pages without a checkpoint; CI always runs the real thing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.services import services
from tests.serving import ROOT, real_model_path, running_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORDS = {"maria": "maria-moderates-daily", "omar": "omar-tunes-the-policy"}
FAKE = os.environ.get("MODERATION_E2E_SCORER") == "fake"


def _missing(reason: str) -> None:
    """Skip locally; in CI (which installs chromium and ships the model) fail instead."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Chromium from Debian's package (Playwright never downloads a browser here)."""
    if not CHROMIUM.exists():
        _missing("no /usr/bin/chromium: apt-get install -y --no-install-recommends chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (kept out of git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@dataclass
class WebService:
    url: str
    cli: Callable[..., str]  # cli(*args, input=None): `flask --app api ARGS` on this database


@contextmanager
def _fake_service(tmp: Path) -> Iterator[WebService]:
    from werkzeug.serving import make_server

    from api import create_app
    from tests.fakes import KeywordScorer, MultilingualKeywordScorer

    os.environ["MODERATION_INSTANCE_PATH"] = str(tmp / "instance")
    try:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp / 'web.db'}",
                "SCORER": KeywordScorer(),
                "SCORER_MULTILINGUAL": MultilingualKeywordScorer(),
                "BACKGROUND_INTERVAL": 0,
                "LOG_REQUESTS": False,
            }
        )
    finally:
        del os.environ["MODERATION_INSTANCE_PATH"]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    runner = app.test_cli_runner()

    def cli(*args: str, input: str | None = None) -> str:
        result = runner.invoke(args=list(args), input=input)
        assert result.exit_code == 0, result.output
        return str(result.output)

    try:
        yield WebService(f"http://127.0.0.1:{server.server_port}", cli)
    finally:
        server.shutdown()
        services(app).store.engine.dispose()


@contextmanager
def _real_service(tmp: Path) -> Iterator[WebService]:
    """gunicorn with the real model on a free port (tests/serving.py), one worker."""
    model = real_model_path()
    if not (model / "config.json").exists():
        _missing(f"no model checkpoint at {model} (set MODERATION_MODEL)")
    with running_service(tmp, workers=1) as service:
        yield WebService(service.url, service.flask)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebService]:
    """The service with a "demo" site, a moderator (maria) and an operator (omar) of it."""
    tmp = tmp_path_factory.mktemp("web")
    start = _fake_service if FAKE else _real_service
    with start(tmp) as service:
        service.cli("sites", "create", "demo")
        for name, role in [("maria", "moderator"), ("omar", "operator")]:
            service.cli("users", "create", name, "--role", role, "--site", "demo")
            service.cli(
                "users", "set-password", name, "--password-stdin", input=PASSWORDS[name] + "\n"
            )
        yield service
