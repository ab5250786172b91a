"""The hot queries at a million comments: each one's plan (EXPLAIN ANALYZE) and time, on PostgreSQL.

    python -m bench.million [--comments 1000000] [--database-url postgresql://...]

Makes a fresh database on the server (dropped afterwards unless --keep), migrates it,
loads the comments server-side (one INSERT ... SELECT over generate_series: 2 % held,
10 % decided by a moderator, the rest approved automatically, a webhook event per
moderator decision, a hundred of them due), then runs each hot operation the way the
service runs it (through the API with a moderator's and an operator's token, the
delivery claim through the outbox repository, as the Deliverer makes it): the queue page, a claim, a decision, the
webhook claim, the metrics scrape (/metrics/database) and a policy simulation.
For each it prints the wall time of the whole operation and, for every statement it
sent, PostgreSQL's plan with actual times (writes explained in a transaction that is
rolled back). The scorer is the keyword fake: no query depends on the model.
"""

from __future__ import annotations

import argparse
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from moderation.db import make_engine

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"

LOAD = """
INSERT INTO comments (id, site_id, external_id, text, author_id, status, decided_by,
    scoring_state, language, scores, reasons, spans, model_name, model_version, risk,
    decision_reason, decided_at, version, created_at, updated_at)
SELECT 'cmt_' || lpad(i::text, 10, '0'), :site, 'ext-' || i,
    'Comment number ' || i || ' about the harbour festival.', 'reader-' || (i % 50000),
    CASE WHEN i % 50 = 0 THEN 'held' WHEN i % 10 = 1 THEN
        CASE WHEN i % 3 = 0 THEN 'rejected' ELSE 'approved' END ELSE 'approved' END,
    CASE WHEN i % 50 <> 0 AND i % 10 = 1 THEN :moderator ELSE 'auto' END,
    'scored', 'en',
    json_build_object('toxicity', (i % 997) / 997.0, 'severe_toxicity', (i % 89) / 89.0,
        'insult', (i % 991) / 991.0, 'profanity', (i % 83) / 83.0,
        'threat', (i % 79) / 79.0, 'identity_attack', (i % 73) / 73.0),
    '[]', '[]', 'minilm-toxicity', 'bench', (i % 1000) / 1000.0,
    CASE WHEN i % 50 <> 0 AND i % 10 = 1 AND i % 3 = 0 THEN 'abusive' END,
    CASE WHEN i % 50 <> 0 AND i % 10 = 1 THEN now() - (i || ' seconds')::interval END,
    1, now() - (i || ' seconds')::interval, now() - (i || ' seconds')::interval
FROM generate_series(1, :n) AS i
"""

OUTBOX = """
INSERT INTO webhook_outbox (site_id, event, payload, created_at, attempts, next_attempt_at,
    delivered_at)
SELECT :site, 'comment.decided', json_build_object('id', id), decided_at, 1,
    decided_at + interval '1 minute',
    CASE WHEN row_number() OVER (ORDER BY id) <= 100 THEN NULL ELSE decided_at END
FROM comments WHERE decided_by <> 'auto'
"""


@contextmanager
def fresh_database(server: str, keep: bool) -> Iterator[str]:
    name = "bench_million_" + secrets.token_hex(4)
    admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


class Statements:
    """Records what an engine sends while it is on."""

    def __init__(self, engine: sa.Engine) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.on = False
        sa.event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if self.on and statement.lstrip().split(None, 1)[0].upper() in {
            "SELECT",
            "UPDATE",
            "INSERT",
            "DELETE",
            "WITH",
        }:
            self.sent.append((statement, params))

    @contextmanager
    def recording(self) -> Iterator[list[tuple[str, Any]]]:
        self.sent, self.on = [], True
        try:
            yield self.sent
        finally:
            self.on = False


def explain(engine: sa.Engine, statement: str, params: Any) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement, rolled back."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        lines = [row[0] for row in cursor.fetchall()]
        raw.rollback()
        return "\n".join(lines)
    finally:
        raw.close()


def run(args: argparse.Namespace) -> None:
    from api import create_app
    from api.services import services
    from moderation.clock import utcnow
    from moderation.sites import Role
    from moderation.webhooks import DISPATCH_LEASE, MAX_ATTEMPTS, PER_SITE
    from tests.fakes import KeywordScorer

    with fresh_database(args.database_url, args.keep) as url:
        app = create_app(
            {
                "DATABASE_URL": url,
                "SCORER": KeywordScorer(),
                "SECRET_KEY": "bench",
                "BACKGROUND_INTERVAL": 0,
                "RATE_LIMIT_ENABLED": False,
                "LOG_REQUESTS": False,
                "WEBHOOK_POST": lambda *a: None,
            }
        )
        store = services(app).store
        engine = store.engine
        site, _ = store.sites.create("bench", webhook_url="https://receiver.example/hook")
        moderator, mod_token = store.users.create("mia", Role.MODERATOR, [site.id])
        _, op_token = store.users.create("olga", Role.OPERATOR, [site.id])
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(
                sa.text(LOAD),
                {"site": site.id, "moderator": f"user:{moderator.id}", "n": args.comments},
            )
            conn.execute(sa.text(OUTBOX), {"site": site.id})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        print(f"loaded {args.comments:,} comments in {time.perf_counter() - started:.0f} s")

        client = app.test_client()
        mod = {"Authorization": f"Bearer {mod_token}"}
        op = {"Authorization": f"Bearer {op_token}"}
        policy = client.get(f"/v1/sites/{site.id}/policy", headers=op).get_json()["policy"]
        claimed: dict[str, Any] = {}

        def claim() -> Any:
            r = client.post("/v1/queue/claim", json={"n": 10}, headers=mod)
            claimed.update(r.get_json()["items"][0])
            return r

        def decide() -> Any:
            body = {"action": "approve", "version": claimed["version"]}
            return client.post(f"/v1/comments/{claimed['id']}/decision", json=body, headers=mod)

        operations: list[tuple[str, Callable[[], Any]]] = [
            ("queue page", lambda: client.get("/v1/queue?sort=risk&limit=20", headers=mod)),
            ("claim", claim),
            ("decision", decide),
            (
                "webhook claim",
                lambda: store.outbox.claim_due(
                    utcnow(), 50, DISPATCH_LEASE, MAX_ATTEMPTS, per_site=PER_SITE
                ),
            ),
            ("metrics", lambda: client.get("/metrics/database")),
            (
                "simulate",
                lambda: client.post(
                    f"/v1/sites/{site.id}/policy/simulate", json={"policy": policy}, headers=op
                ),
            ),
        ]
        recorder = Statements(engine)
        for name, operation in operations:
            if name in args.skip:
                print(f"\n=== {name}: skipped")
                continue
            with recorder.recording() as sent:
                started = time.perf_counter()
                result = operation()
                elapsed = (time.perf_counter() - started) * 1000
            status = getattr(result, "status_code", "ok")
            print(f"\n=== {name}: {elapsed:.1f} ms ({status}), {len(sent)} statements")
            for statement, params in sent:
                print("--- " + " ".join(statement.split())[:300])
                print(explain(engine, statement, params))
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--comments", type=int, default=1_000_000)
    ap.add_argument("--database-url", default=DEFAULT_SERVER, help="a PostgreSQL server")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    ap.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="NAME",
        help="leave an operation out, e.g. --skip simulate (minutes at a million comments)",
    )
    run(ap.parse_args())


if __name__ == "__main__":
    main()
