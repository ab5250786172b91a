"""How the app's settings reach the model loader (the loader itself is tested in tests/models)."""

from __future__ import annotations

from typing import Any

import pytest

import api
import models
from api import config


def _loaded_with(monkeypatch: pytest.MonkeyPatch, cores: int, **settings: Any) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def fake_load_scorer(path: Any = None, **kwargs: Any) -> str:
        seen.update(kwargs, path=path)
        return "scorer"

    monkeypatch.setattr(models, "load_scorer", fake_load_scorer)
    monkeypatch.setattr(config, "available_cores", lambda: cores)
    cfg = {**config.defaults("/tmp/instance"), **settings}
    assert api._scorer_loader(cfg)() == "scorer"
    return seen


def test_long_passes_get_two_threads_by_default_where_there_are_two_cores(monkeypatch) -> None:
    assert _loaded_with(monkeypatch, cores=2)["long_pass_threads"] == 2
    assert _loaded_with(monkeypatch, cores=16)["long_pass_threads"] == 2
    assert _loaded_with(monkeypatch, cores=1)["long_pass_threads"] == 1


def test_an_explicit_long_pass_setting_wins(monkeypatch) -> None:
    seen = _loaded_with(monkeypatch, cores=8, LONG_PASS_THREADS=1, TORCH_THREADS=1)
    assert (seen["long_pass_threads"], seen["threads"]) == (1, 1)
    assert _loaded_with(monkeypatch, cores=1, LONG_PASS_THREADS=3)["long_pass_threads"] == 3


def test_the_environment_sets_long_pass_threads(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MODERATION_LONG_PASS_THREADS", "1")
    assert config.load(str(tmp_path), None)["LONG_PASS_THREADS"] == 1
