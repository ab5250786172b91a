"""Start the real service (gunicorn, real model) on a free loopback port for end-to-end tests."""

from __future__ import annotations

import json
import os
import secrets
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
    _, key = services(app).store.sites.create(site)
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
    workers: int = 1

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


def start_service(
    tmp: Path,
    workers: int = 1,
    database_url: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Service:
    """Start gunicorn -c gunicorn.conf.py 'api:create_app()' with the real model (not waiting)."""
    port = free_port()
    env = {
        **os.environ,
        "MODERATION_BIND": f"127.0.0.1:{port}",
        "MODERATION_WORKERS": str(workers),
        "MODERATION_INSTANCE_PATH": str(tmp / "instance"),
        "MODERATION_DATABASE_URL": database_url or f"sqlite:///{tmp / 'service.db'}",
        "MODERATION_MODEL": str(real_model_path()),
        "MODERATION_LOG_REQUESTS": "0",
        # Required on PostgreSQL (replicas share it); replicas of one test pass one in extra_env.
        "MODERATION_SECRET_KEY": "e2e-" + secrets.token_hex(16),
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if "MODERATION_INSTANCE_ID" not in (extra_env or {}):
        # This test process names itself once it has logged (api.logs.instance_id): each
        # service started here is an instance of its own, as a replica is.
        env.pop("MODERATION_INSTANCE_ID", None)
    log = tmp / "gunicorn.log"
    tmp.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "api:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Service(f"http://127.0.0.1:{port}", env, process, log, workers)


# A first start exports both shipped models to ONNX (each test run has its own cache):
# about 10 s each on an idle machine, minutes each on a busy shared one.
READY_TIMEOUT = 420.0


def wait_ready(service: Service, ready_timeout: float = READY_TIMEOUT) -> None:
    """Poll /readyz until every worker answers ready; fail if gunicorn exits first."""
    deadline = time.monotonic() + ready_timeout
    ready = 0
    while True:
        if service.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{service.log.read_text()[-3000:]}")
        try:
            # Every worker must be ready: poll until readiness holds repeatedly.
            if requests.get(f"{service.url}/readyz", timeout=2).status_code == 200:
                ready += 1
                if ready >= 3 * service.workers:
                    return
        except requests.RequestException:
            pass  # not listening yet, or the worker is still loading the model
        if time.monotonic() > deadline:
            raise RuntimeError(f"service not ready:\n{service.log.read_text()[-3000:]}")
        time.sleep(0.2)  # polling a starting server, not waiting on a result


def stop_service(service: Service) -> None:
    """SIGTERM gunicorn's process group (SIGKILL after 30 s)."""
    try:
        os.killpg(service.process.pid, signal.SIGTERM)
        service.process.wait(30)
    except ProcessLookupError:
        pass  # a test stopped it already
    except subprocess.TimeoutExpired:
        os.killpg(service.process.pid, signal.SIGKILL)


@contextmanager
def running_service(
    tmp: Path,
    workers: int = 1,
    database_url: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    ready_timeout: float = READY_TIMEOUT,
) -> Iterator[Service]:
    """gunicorn -c gunicorn.conf.py 'api:create_app()' with the real model; waits for /readyz."""
    service = start_service(tmp, workers, database_url, extra_env)
    try:
        wait_ready(service, ready_timeout)
        yield service
    finally:
        stop_service(service)


@contextmanager
def running_replicas(
    tmps: list[Path],
    database_url: str,
    workers: int = 1,
    extra_env: Mapping[str, str] | None = None,
    ready_timeout: float = 300.0,
) -> Iterator[list[Service]]:
    """Replicas started at the same moment on one database (one folder each); waits for all."""
    services: list[Service] = []
    try:
        for tmp in tmps:
            services.append(start_service(tmp, workers, database_url, extra_env))
        for service in services:
            wait_ready(service, ready_timeout)
        yield services
    finally:
        for service in services:
            stop_service(service)


@contextmanager
def worker_processes(
    env: dict[str, str], n: int, log: Path, *, wait: float = 600.0
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`n` processes of the real `flask --app api worker` command, logging to `log`.

    With `wait` (seconds), returns once each has logged "worker started" (its model
    loaded); 0: at once. Stopped with SIGTERM (jobs under way finish) on the way out.
    """
    procs: list[subprocess.Popen[bytes]] = []
    with log.open("ab") as out:
        start_at = log.stat().st_size
        try:
            for _ in range(n):
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "flask", "--app", "api", "worker"],
                        env=env,
                        cwd=ROOT,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
            deadline = time.monotonic() + wait
            while wait and _read_from(log, start_at).count("worker started") < n:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError(f"the workers did not start; see {log}")
                time.sleep(0.5)
            yield procs
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def _read_from(path: Path, offset: int) -> str:
    with path.open("rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")
