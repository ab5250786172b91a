"""Configuration: defaults, then MODERATION_* environment variables, then the test mapping."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from api import cpus
from moderation.privacy import AddressStorage

ENV_PREFIX = "MODERATION_"


def available_cores() -> int:
    """The CPUs this process may keep busy: its affinity, capped by its container's CPU quota."""
    return cpus.available_cores()


def adapt_threads(cfg: Mapping[str, Any]) -> int:
    """Torch threads of a site model's training: ADAPT_THREADS, or half the cores (at least 1)."""
    return int(cfg["ADAPT_THREADS"]) or max(1, available_cores() // 2)


def defaults(instance_path: str) -> dict[str, Any]:
    """Every setting the service reads, with its embedded default."""
    return {
        "DATABASE_URL": f"sqlite:///{Path(instance_path) / 'moderation.db'}",
        "MODEL": "",  # empty: the checkpoint shipped under models/
        # The model for comments in German, Spanish, French, Italian and Portuguese (the
        # languages its thresholds.json lists). Empty: models/multilingual-toxicity when it
        # is shipped; "off": none, and those comments follow the policy's other_languages.
        "MULTILINGUAL_MODEL": "",
        "FAST_PATH": True,  # int8 scorer, used only if it passes its parity check at load
        "SCORING_TIMEOUT": 10.0,  # seconds before a comment is held as scoring_unavailable
        "FAST_ENGINE": "auto",  # the fast path's runtime: auto, onnxruntime or torch
        "TORCH_THREADS": 1,  # inference threads per worker, whichever the runtime
        # ONNX Runtime threads for passes of 256+ tokens (long comments); 1: same as the
        # rest; 0: 2 where the process may use 2 cores or more, else 1
        "LONG_PASS_THREADS": 0,
        "BATCH_SIZE": 8,  # model windows per forward pass: bounds a worker's peak memory
        "BATCH_TOKENS": 512,  # padded tokens per forward pass, shared by concurrent requests
        "PRELOAD_MODEL": False,  # load at startup instead of on the first request
        "AUTO_MIGRATE": True,  # create/upgrade the schema when the app starts
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,  # bytes of request body (413 above)
        "MAX_COMMENT_CHARS": 20_000,  # characters of comment text (422 above)
        "MAX_JSON_DEPTH": 32,  # levels of nested JSON arrays and objects in a body (400 above)
        "BATCH_LIMIT": 100,
        "RESCORE_INTERVAL": 60.0,  # seconds between re-scoring runs in each worker
        "BACKGROUND_INTERVAL": 5.0,  # seconds between webhook delivery runs; 0: no background job
        "WEBHOOK_TIMEOUT": 10.0,
        "WEBHOOK_CONCURRENCY": 8,  # deliveries to one site under way at once, all workers together
        # Retention defaults, per site overridable (PUT /v1/sites/{site}/retention); 0: for ever.
        "RETENTION_DAYS": 365,  # days a decided comment's text (and author data) is kept
        "WEBHOOK_RETENTION_DAYS": 30,  # days delivered (or given-up) webhook events are kept
        "RETENTION_INTERVAL": 3600.0,  # seconds between retention runs in each worker; 0: none
        "SECRET_KEY": "",
        "LOG_REQUESTS": True,
        # The database's backlog gauges (queue depth, webhook backlog, pending re-scores) in
        # this instance's /metrics. Off on replicas of a shared database: the figures are
        # the database's, so they are scraped once, from /metrics/database (docs/scaling.md).
        "DATABASE_METRICS": True,
        "RATE_LIMIT": "600/minute",  # per site API key, /v1/comments* and Perspective together
        "RATE_LIMIT_ENABLED": True,
        # The job queue: redis://HOST:6379/1 or amqp://USER:PASS@HOST:5672/. Set: background
        # work runs as jobs in `flask --app api worker` processes, none in the web processes.
        # Empty: in-process, every web worker's background thread (one machine, one command).
        "BROKER_URL": "",
        "JOB_QUEUE": "moderation",  # the queue's name (and Redis key prefix): one per installation
        "WORKER_THREADS": 8,  # jobs one `flask --app api worker` process runs at once
        "REDIS_URL": "",  # e.g. redis://127.0.0.1:6379/0: every worker shares one count
        "SESSION_COOKIE_SECURE": False,  # true behind HTTPS: the sign-in cookie only travels over it
        "SESSION_HOURS": 12.0,  # a web sign-in lasts this long
        # Failed sign-ins in a row (no gap of SIGNIN_LOCKOUT_MINUTES) per account and per
        # address: from half of these on, each next try waits 1, 2, 4 ... 30 s; at these, the
        # account or address is locked until SIGNIN_LOCKOUT_MINUTES after the last failure.
        # Counted in Redis when REDIS_URL is set, else in each worker's memory.
        "SIGNIN_ACCOUNT_FAILURES": 5,
        "SIGNIN_ADDRESS_FAILURES": 20,
        "SIGNIN_LOCKOUT_MINUTES": 15.0,
        # What is kept of a reader's IP address: truncate (IPv4 /24, IPv6 /48), hash (keyed,
        # per site) or none.
        "AUTHOR_IP": "truncate",
        "QUEUE_CLAIM": 20,  # comments the queue page claims for a moderator when it opens
        "DEMO": True,  # serve /demo, an article page whose comments go through a "demo" site
        # Sites' adapted models (docs/site-models.md): where their files live (empty: the
        # instance folder's site-models/), how many one worker keeps loaded (least recently
        # used out), and the training settings (1 epoch of 128 tokens at a learning rate of
        # 3e-5). Training runs in a child process at niceness ADAPT_NICE (19: it takes only
        # the CPU serving leaves) with ADAPT_THREADS torch threads (0: half the cores, at
        # least one, so a 2-core machine keeps a core for its web workers).
        "SITE_MODELS_DIR": "",
        "SITE_MODELS_MAX": 4,
        "ADAPT_EPOCHS": 1,
        "ADAPT_LR": 3e-5,
        "ADAPT_MAX_LENGTH": 128,
        "ADAPT_THREADS": 0,
        "ADAPT_NICE": 19,
        # Seconds between looks for sites whose stored settings ask to retrain on new labels
        # (PUT /v1/sites/{site}/models/settings); once across all workers. 0: never look.
        "RETRAIN_INTERVAL": 3600.0,
    }


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected a boolean, got {raw!r}")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def load(instance_path: str, test_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge defaults, environment and test mapping, in that order."""
    config = defaults(instance_path)
    for key, default in list(config.items()):
        raw = os.environ.get(ENV_PREFIX + key)
        if raw is not None:
            try:
                config[key] = _coerce(raw, default)
            except ValueError as exc:
                raise SystemExit(f"{ENV_PREFIX}{key}: {exc}") from exc
    if test_config:
        config.update(test_config)
    from models import ENGINES  # a constant: importing it loads no model runtime

    if config["FAST_ENGINE"] not in ENGINES:
        raise SystemExit(f"{ENV_PREFIX}FAST_ENGINE: expected one of {', '.join(ENGINES)}")
    if not 0 <= int(config["ADAPT_NICE"]) <= 19:
        # Below 0 would raise a training above serving (and needs root): never what we want.
        raise SystemExit(f"{ENV_PREFIX}ADAPT_NICE: expected 0 to 19 (19: the lowest priority)")
    if config["AUTHOR_IP"] not in set(AddressStorage):
        choices = ", ".join(AddressStorage)
        raise SystemExit(f"{ENV_PREFIX}AUTHOR_IP: expected one of {choices}")
    if not config["SECRET_KEY"]:
        if shared_database(config["DATABASE_URL"]):
            raise SystemExit(MISSING_SECRET)
        config["SECRET_KEY"] = _instance_secret(Path(instance_path))
    return config


# Replicas on one PostgreSQL database must share the key: each one making its own in its
# instance folder signs sessions the others reject, and hashes one e-mail address (and,
# with AUTHOR_IP=hash, one address) differently on each.
MISSING_SECRET = f"""{ENV_PREFIX}SECRET_KEY is not set, and the database is PostgreSQL.
Every replica (web and worker) must have the same key: it signs web sessions and keys
the hashes of authors' e-mail addresses and IP addresses, so a key generated per
replica would sign sessions the others reject and store one e-mail under several hashes.
Make one and give it to every replica, e.g.
    export {ENV_PREFIX}SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')
If this installation already has an instance/secret_key file, use its content instead,
so that existing sessions and stored hashes stay valid."""


def control_socket(instance_path: str | Path, bind: str, host: str | None = None) -> str:
    """Where this gunicorn instance's control socket goes (`gunicornc -s PATH`).

    Gunicorn's default is one path per user ($XDG_RUNTIME_DIR or ~/.gunicorn), so a
    second instance on the host took it over from the first. Here it is named after the
    host and the listen address, in the instance folder: two instances cannot listen on
    one address. A path too long for a Unix socket goes to the temporary folder instead.
    """
    import hashlib
    import socket
    import tempfile

    host = host or socket.gethostname()
    name = re.sub(r"[^A-Za-z0-9.-]+", "-", f"{host}-{bind}").strip("-")
    path = Path(instance_path).absolute() / f"gunicorn-{name}.ctl"
    if len(os.fsencode(path)) <= _MAX_SOCKET_PATH:
        return str(path)
    digest = hashlib.sha256(os.fsencode(path)).hexdigest()[:16]
    return str(Path(tempfile.gettempdir()) / f"moderation-gunicorn-{digest}.ctl")


_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS, with the NUL


def shared_database(url: str) -> bool:
    """Whether the database is a server many replicas may share (not a SQLite file)."""
    return not url.startswith("sqlite")


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in the instance folder, made on first start."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            # A link, unlike a rename, never replaces: of workers starting together, the
            # first one's secret is the one every worker reads.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
