"""Two replicas (real gunicorn, real model) started at the same moment on a fresh PostgreSQL database."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from api import config
from moderation import migrate
from moderation.db import make_engine
from tests.conftest import PG_URL
from tests.serving import Service, running_replicas

pytestmark = pytest.mark.slow

PASSWORD = "replicas-share-one-key"


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A PostgreSQL database made for this test: no schema, no alembic_version."""
    name = "replicas_" + secrets.token_hex(6)
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def gunicornc(service: Service, command: str) -> dict[str, object]:
    """Ask a replica's gunicorn master over its own control socket."""
    socket = config.control_socket(
        service.env["MODERATION_INSTANCE_PATH"], service.env["MODERATION_BIND"]
    )
    out = subprocess.run(
        [str(Path(sys.executable).parent / "gunicornc"), "-s", socket, "-j", "-c", command],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    answer: dict[str, object] = json.loads(out.stdout)
    return answer


def csrf_token(session: requests.Session, url: str) -> str:
    html = session.get(url).text
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, html[:300]
    return found.group(1)


def test_two_replicas_started_together_on_a_fresh_postgresql_database_share_sessions(
    tmp_path: Path, fresh_database: str
) -> None:
    shared = {"MODERATION_SECRET_KEY": secrets.token_hex(32)}
    folders = [tmp_path / "replica-a", tmp_path / "replica-b"]
    with running_replicas(folders, fresh_database, extra_env=shared) as (a, b):
        # Both came up: each migrated or waited for the other's migration, none died.
        for replica in (a, b):
            assert requests.get(f"{replica.url}/readyz", timeout=10).status_code == 200
        engine = make_engine(fresh_database)
        assert migrate.is_current(engine)

        # Each master has a control socket of its own: each answers with its own pid.
        assert gunicornc(a, "show stats")["pid"] == a.process.pid
        assert gunicornc(b, "show stats")["pid"] == b.process.pid

        a.flask("sites", "create", "harbour-news")
        site_key = json.loads(b.flask("keys", "create", "harbour-news", "--json"))["api_key"]
        b.flask("users", "create", "maria", "--role", "moderator", "--site", "harbour-news")
        a.flask("users", "set-password", "maria", "--password-stdin", input=PASSWORD + "\n")

        # Signed in on replica a ...
        browser = requests.Session()
        token = csrf_token(browser, f"{a.url}/signin")
        signed_in = browser.post(
            f"{a.url}/signin",
            data={"csrf_token": token, "name": "maria", "password": PASSWORD},
            allow_redirects=False,
        )
        assert signed_in.status_code == 302
        assert signed_in.headers["Location"].endswith("/queue")
        # ... the same browser session is valid on replica b (ports share cookies).
        page = browser.get(f"{b.url}/queue", allow_redirects=False)
        assert page.status_code == 200, page.headers.get("Location")
        assert "maria" in page.text
        # b accepts a's CSRF token too: signing out on b ends the session on a.
        token = csrf_token(browser, f"{b.url}/queue")
        out = browser.post(f"{b.url}/signout", data={"csrf_token": token}, allow_redirects=False)
        assert out.status_code == 302
        assert "/signin" in browser.get(f"{a.url}/queue", allow_redirects=False).headers["Location"]

        # One reader's e-mail is stored under one hash, whichever replica took the comment.
        ids = []
        for replica in (a, b):
            r = requests.post(
                f"{replica.url}/v1/comments",
                json={"text": "Lovely photos.", "author": {"id": "r-1", "email": "r@example.org"}},
                headers={"Authorization": f"Bearer {site_key}"},
                timeout=30,
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        with engine.connect() as conn:
            hashes = conn.execute(
                sa.text("SELECT author_email_hash FROM comments WHERE id IN (:a, :b)"),
                {"a": ids[0], "b": ids[1]},
            ).scalars()
            assert len(set(hashes)) == 1
        engine.dispose()
    instances = set()
    for replica in (a, b):
        log = replica.log.read_text()
        assert "UniqueViolation" not in log and "Traceback" not in log, log[-3000:]
        # gunicorn's own lines are JSON naming the replica, as every log line is.
        booting = [
            json.loads(line) for line in log.splitlines() if '"Booting worker with pid' in line
        ]
        assert booting, log[-3000:]
        assert all(line["logger"] == "gunicorn.error" for line in booting)
        instances |= {line["instance"] for line in booting}
    assert len(instances) == 2  # one name per replica, shared by its master and workers


def test_with_auto_migrate_off_replicas_wait_for_the_migration_step(
    tmp_path: Path, fresh_database: str
) -> None:
    env = {"MODERATION_SECRET_KEY": secrets.token_hex(32), "MODERATION_AUTO_MIGRATE": "0"}
    from tests.serving import start_service, stop_service, wait_ready

    replica = start_service(tmp_path / "web", 1, fresh_database, env)
    try:
        engine = make_engine(fresh_database)
        # The master waits, saying for what, and migrates nothing itself.
        wait_for_log(replica, "waiting: the database schema is at nothing")
        assert migrate.current(engine) is None
        replica.flask("db", "upgrade")  # the migration step: a Job, a one-shot service
        wait_ready(replica)
        assert migrate.is_current(engine)
        engine.dispose()
    finally:
        stop_service(replica)


def wait_for_log(service: Service, text: str, timeout: float = 120) -> None:
    import time

    deadline = time.monotonic() + timeout
    while text not in service.log.read_text():
        assert service.process.poll() is None, service.log.read_text()[-3000:]
        assert time.monotonic() < deadline, service.log.read_text()[-3000:]
        time.sleep(0.2)  # polling a starting server's log
