"""How the app's settings are read and reach the model loader (the loader itself: tests/models)."""

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


def test_the_fast_path_setting_is_read_once_here_and_passed_to_the_loader(
    monkeypatch, tmp_path
) -> None:
    assert config.load(str(tmp_path), None)["FAST_PATH"] is True  # unset: on
    assert _loaded_with(monkeypatch, cores=2)["fast"] is True
    monkeypatch.setenv("MODERATION_FAST_PATH", "0")
    settings = config.load(str(tmp_path), None)
    assert settings["FAST_PATH"] is False
    assert _loaded_with(monkeypatch, cores=2, FAST_PATH=settings["FAST_PATH"])["fast"] is False
    monkeypatch.setenv("MODERATION_FAST_PATH", "maybe")
    with pytest.raises(SystemExit, match="MODERATION_FAST_PATH"):
        config.load(str(tmp_path), None)


def test_the_fast_engine_setting_is_validated_here(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MODERATION_FAST_ENGINE", "tensorflow")
    with pytest.raises(SystemExit, match="MODERATION_FAST_ENGINE"):
        config.load(str(tmp_path), None)
    monkeypatch.setenv("MODERATION_FAST_ENGINE", "torch")
    engine = config.load(str(tmp_path), None)["FAST_ENGINE"]
    assert _loaded_with(monkeypatch, cores=2, FAST_ENGINE=engine)["engine"] == "torch"


def test_the_instance_secret_is_made_once_private_and_never_replaced(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("MODERATION_SECRET_KEY", raising=False)
    first = config.load(str(tmp_path), None)["SECRET_KEY"]
    assert len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert config.load(str(tmp_path), None)["SECRET_KEY"] == first
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left

    # Another worker starting at the same moment writes its secret first: this one reads
    # that secret rather than replacing it (workers must sign sessions alike).
    other = tmp_path / "other"
    real_link = config.os.link

    def the_other_worker_first(src: str, dst: str) -> None:
        (other / "secret_key").write_text("b" * 64)
        real_link(src, dst)

    other.mkdir()
    monkeypatch.setattr(config.os, "link", the_other_worker_first)
    assert config.load(str(other), None)["SECRET_KEY"] == "b" * 64
    assert [p.name for p in other.iterdir()] == ["secret_key"]
