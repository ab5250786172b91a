"""Start the real service (gunicorn, real model) on a free loopback port for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from api.services import services

ROOT = Path(__file__).resolve().parent.parent


def real_model_path() -> Path:
    """The checkpoint end-to-end tests serve: MODERATION_MODEL if set, else the shipped one."""
    from models import DEFAULT_MODEL_PATH

    return Path(os.environ.get("MODERATION_MODEL") or DEFAULT_MODEL_PATH)


def in_process_client(folder: Path, site: str) -> Any:
    """A Flask test client of the app with the real model on a SQLite file, as `site`'s key."""
    from api import create_app

    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'moderation.db'}",
            "MODEL": str(real_model_path()),
            "LOG_REQUESTS": False,
            "RATE_LIMIT_ENABLED": False,
            "SECRET_KEY": site,
        }
    )
    _, key = services(app).store.create_site(site)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def flask(self, *args: str, input: str | None = None) -> str:
        """Run a `flask --app api ...` command against this service's database."""
        out = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "api", *args],
            env=self.env,
            cwd=ROOT,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    def create_site(self, name: str) -> dict[str, str]:
        result: dict[str, str] = json.loads(self.flask("sites", "create", name, "--json"))
        return result

    def create_user(self, name: str, role: str, *sites: str) -> dict[str, str]:
        args = ["users", "create", name, "--role", role, "--json"]
        for s in sites:
            args += ["--site", s]
        result: dict[str, str] = json.loads(self.flask(*args))
        return result

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]


@contextmanager
def running_service(
    tmp: Path,
    workers: int = 1,
    database_url: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    ready_timeout: float = 180.0,
) -> Iterator[Service]:
    """gunicorn -c gunicorn.conf.py 'api:create_app()' with the real model; waits for /readyz."""
    port = free_port()
    env = {
        **os.environ,
        "MODERATION_BIND": f"127.0.0.1:{port}",
        "MODERATION_WORKERS": str(workers),
        "MODERATION_INSTANCE_PATH": str(tmp / "instance"),
        "MODERATION_DATABASE_URL": database_url or f"sqlite:///{tmp / 'service.db'}",
        "MODERATION_MODEL": str(real_model_path()),
        "MODERATION_LOG_REQUESTS": "0",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp / "gunicorn.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "api:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    service = Service(url, env, process, log)
    try:
        deadline = time.monotonic() + ready_timeout
        ready = 0
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
            try:
                # Every worker must be ready: poll until readiness holds repeatedly.
                if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                    ready += 1
                    if ready >= 3 * workers:
                        break
            except requests.RequestException:
                pass  # not listening yet, or the worker is still loading the model
            if time.monotonic() > deadline:
                raise RuntimeError(f"service not ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)  # polling a starting server, not waiting on a result
        yield service
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)
        except ProcessLookupError:
            pass  # a test stopped it already
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
