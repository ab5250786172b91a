"""Start-up settings for many replicas: the shared secret, control sockets, worker count."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api import config
from tests.serving import ROOT

# What gunicorn.conf.py sets in the environment of the process that reads it.
_CONF_ENV = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TOKENIZERS_PARALLELISM",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "PROMETHEUS_MULTIPROC_DIR",
    "MODERATION_INSTANCE_ID",
)


def gunicorn_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """gunicorn.conf.py's settings, read here without leaving its environment behind."""
    for name in _CONF_ENV:
        monkeypatch.setenv(name, "x")  # restored after the test, whatever the file sets
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_postgresql_without_a_secret_key_is_a_clear_start_up_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODERATION_SECRET_KEY", raising=False)
    with pytest.raises(SystemExit) as stopped:
        config.load(str(tmp_path), {"DATABASE_URL": "postgresql://db.internal/moderation"})
    message = str(stopped.value)
    assert "MODERATION_SECRET_KEY is not set, and the database is PostgreSQL" in message
    assert "secrets.token_hex" in message
    assert not (tmp_path / "secret_key").exists()  # no key of its own was made


def test_the_error_reaches_whoever_starts_the_cli(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "MODERATION_INSTANCE_PATH": str(tmp_path / "instance"),
        "MODERATION_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
    }
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "api", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert "MODERATION_SECRET_KEY is not set" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_secret_key_from_the_environment_is_used_on_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODERATION_SECRET_KEY", "shared-by-every-replica")
    loaded = config.load(str(tmp_path), {"DATABASE_URL": "postgresql://db.internal/moderation"})
    assert loaded["SECRET_KEY"] == "shared-by-every-replica"


def test_sqlite_still_makes_its_own_key_in_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODERATION_SECRET_KEY", raising=False)
    first = config.load(str(tmp_path), {"DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"})
    again = config.load(str(tmp_path), {"DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"})
    assert first["SECRET_KEY"] == again["SECRET_KEY"] == (tmp_path / "secret_key").read_text()


def test_two_instances_on_one_host_get_two_control_sockets() -> None:
    instance = Path("/srv/moderation/instance")
    one = config.control_socket(instance, "127.0.0.1:8000", host="web-1")
    two = config.control_socket(instance, "127.0.0.1:8001", host="web-1")
    other_host = config.control_socket(instance, "127.0.0.1:8000", host="web-2")
    assert len({one, two, other_host}) == 3
    assert one == "/srv/moderation/instance/gunicorn-web-1-127.0.0.1-8000.ctl"
    # The same instance finds its own socket again (gunicornc, a restart).
    assert one == config.control_socket(instance, "127.0.0.1:8000", host="web-1")


def test_a_control_socket_path_too_long_for_unix_sockets_goes_to_the_temporary_folder(
    tmp_path: Path,
) -> None:
    deep = tmp_path / ("d" * 80) / "instance"
    one = config.control_socket(deep, "0.0.0.0:8000", host="web-1")
    two = config.control_socket(deep, "0.0.0.0:8001", host="web-1")
    assert one != two
    assert all(len(p.encode()) <= 100 for p in (one, two))


def test_gunicorn_takes_the_control_socket_and_worker_count_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "available_cores", lambda: 3)  # e.g. a 3-CPU quota
    monkeypatch.delenv("MODERATION_WORKERS", raising=False)
    monkeypatch.delenv("MODERATION_CONTROL_SOCKET", raising=False)
    monkeypatch.setenv("MODERATION_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("MODERATION_BIND", "127.0.0.1:8123")
    settings = gunicorn_settings(monkeypatch, tmp_path)
    assert settings["workers"] == 3
    assert settings["control_socket"] == config.control_socket(
        tmp_path / "instance", "127.0.0.1:8123"
    )
    monkeypatch.setenv("MODERATION_WORKERS", "5")
    monkeypatch.setenv("MODERATION_CONTROL_SOCKET", str(tmp_path / "ctl"))
    settings = gunicorn_settings(monkeypatch, tmp_path)
    assert settings["workers"] == 5
    assert settings["control_socket"] == str(tmp_path / "ctl")
