"""What a newcomer runs: scripts/serve.sh, scripts/cli.sh, and the image's health check.

serve.sh runs in a fresh checkout (the project's files without instance/, with this
project's .venv linked in) and is stopped once it starts gunicorn: everything before that
is what a second run used to trip on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.serving import ROOT, free_port

SERVING = "Serving on http://"


def _installed() -> bool:
    """Whether scripts/setup.sh would find the venv installed (and so install nothing)."""
    digest = hashlib.sha256(
        b"".join(
            (ROOT / name).read_bytes()
            for name in ("requirements-serve.txt", "requirements.txt", "requirements-dev.txt")
        )
    ).hexdigest()[:12]
    return any((ROOT / ".venv" / f".installed-{digest}-{kind}").exists() for kind in ("run", "dev"))


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The project's files (tracked, or new and not ignored) in a folder of their own, as a
    `git clone` of them would be: no .venv, no instance/."""
    if not _installed():
        pytest.skip("the .venv is not set up: scripts/setup.sh would install packages")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    target = tmp_path / "clone"
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to((ROOT / ".venv").resolve())
    return target


def _fresh_shell_env(tmp_path: Path) -> dict[str, str]:
    """A new login's environment: no venv on PATH, none of our settings."""
    keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "TMPDIR")}
    return {
        **keep,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        # Where this test run keeps ONNX exports, so a checkout never writes elsewhere.
        "MODERATION_MODEL_CACHE": str(tmp_path / "model-cache"),
    }


def _serve_until_it_starts_gunicorn(checkout: Path, env: dict[str, str]) -> str:
    """Run scripts/serve.sh; stop it (and gunicorn) once it says where it serves."""
    process = subprocess.Popen(
        ["scripts/serve.sh"],
        cwd=checkout,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    # Stop the script if it hangs instead of failing; a kill ends the read loop below.
    watchdog = threading.Timer(240, os.killpg, (process.pid, signal.SIGKILL))
    watchdog.start()
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith(SERVING):
                break
    finally:
        watchdog.cancel()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)
    output = "".join(lines)
    assert SERVING in output, f"serve.sh stopped before serving:\n{output}"
    return output


@pytest.mark.slow
def test_serve_runs_twice_in_a_fresh_checkout_and_the_cli_works_from_any_shell(
    checkout: Path, tmp_path: Path
) -> None:
    env = {**_fresh_shell_env(tmp_path), "MODERATION_BIND": f"127.0.0.1:{free_port()}"}
    first = _serve_until_it_starts_gunicorn(checkout, env)
    assert re.search(r"API key \(shown once, store it now\): msk_\S+", first)
    # More sites than a pipe's buffer holds in a listing: serve.sh once piped `sites list`
    # into `grep -q`, which left at "demo" while the listing was still being written, and
    # under pipefail the broken pipe read as "no demo site" (half the time with a few).
    engine = sa.create_engine(f"sqlite:///{checkout / 'instance' / 'moderation.db'}")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sites (id, name, policy, webhook_secret, policy_version, created_at)"
                " VALUES (:id, :name, '{}', 'whsec_x', 1, '2026-01-01 00:00:00')"
            ),
            [{"id": f"site_{i:020d}", "name": f"paper-{i:04d}"} for i in range(3000)],
        )
    again = _serve_until_it_starts_gunicorn(checkout, env)
    assert "site demo exists" in again and "msk_" not in again
    with engine.connect() as conn:
        names = conn.execute(sa.text("SELECT name FROM sites")).scalars().all()
        assert names.count("demo") == 1 and len(names) == 3001
    engine.dispose()

    # From a fresh shell in another folder, the wrapper reaches the same database, and
    # --json output is JSON only.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cli = str(checkout / "scripts" / "cli.sh")
    made = subprocess.run(
        [cli, "keys", "create", "demo", "--json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["api_key"].startswith("msk_")
    listed = subprocess.run(
        [cli, "keys", "list", "demo"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 2
    assert not (elsewhere / "instance").exists()


def _healthcheck_code() -> str:
    """The Python the image's HEALTHCHECK runs (`python -c CODE` in the Dockerfile)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    command = re.search(r"^HEALTHCHECK .*? CMD (.+)$", text, re.MULTILINE)
    assert command, "the Dockerfile has no HEALTHCHECK ... CMD"
    given = command.group(1).strip()
    # Exec form (a JSON array, as hadolint asks) or shell form.
    words = json.loads(given) if given.startswith("[") else shlex.split(given)
    assert words[:2] == ["python", "-c"], words
    return words[2]


@pytest.fixture
def served(app: Any) -> Iterator[str]:
    """The app on a loopback port (werkzeug, in this process): its MODERATION_BIND."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"0.0.0.0:{server.server_port}"
    finally:
        server.shutdown()


def test_the_image_is_healthy_only_when_ready(
    served: str, client: Any, auth: dict[str, str]
) -> None:
    def healthcheck() -> int:
        env = {**os.environ, "MODERATION_BIND": served}
        return subprocess.run(
            [sys.executable, "-c", _healthcheck_code()], env=env, capture_output=True, timeout=30
        ).returncode

    # The process is up (/healthz answers) but the model is not loaded: not healthy.
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
    assert healthcheck() != 0
    client.post("/v1/comments", json={"text": "Lovely photos."}, headers=auth)  # loads it
    assert client.get("/readyz").status_code == 200
    assert healthcheck() == 0
