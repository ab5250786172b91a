"""The command line: `--json` prints JSON only; `sites create --exist-ok` for setup scripts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.services import services


@pytest.fixture
def cli(app: Any) -> Any:
    runner = app.test_cli_runner()

    def run(*args: str) -> Any:
        return runner.invoke(args=list(args))

    return run


def test_json_flags_print_one_json_object_and_nothing_else(app: Any, cli: Any) -> None:
    store = services(app).store
    made = cli("sites", "create", "daily-bugle", "--json")
    assert made.exit_code == 0, made.output
    site = json.loads(made.stdout)  # the whole output, as `| jq` reads it
    assert site["created"] is True and site["site_id"] == store.sites.get("daily-bugle").id
    assert store.sites.for_key(site["api_key"]).name == "daily-bugle"

    key = json.loads(cli("keys", "create", "daily-bugle", "--json").stdout)
    assert store.sites.for_key(key["api_key"]).name == "daily-bugle"
    assert key["key_id"] in {k.id for k in store.sites.keys(site["site_id"])}

    user = json.loads(
        cli(
            "users", "create", "mia", "--role", "moderator", "--site", "daily-bugle", "--json"
        ).stdout
    )
    assert store.users.for_token(user["token"]).id == user["user_id"]

    # Without --json the same commands speak to a person, and still show the secret once.
    plain = cli("keys", "create", "daily-bugle")
    assert plain.exit_code == 0 and "shown once" in plain.stdout and "msk_" in plain.stdout


def test_sites_create_exist_ok_keeps_the_site_and_its_keys(app: Any, cli: Any) -> None:
    store = services(app).store
    first = cli("sites", "create", "demo", "--exist-ok")
    assert first.exit_code == 0 and "API key (shown once" in first.stdout
    site = store.sites.get("demo")
    again = cli("sites", "create", "demo", "--exist-ok")
    assert again.exit_code == 0, again.output
    assert f"site demo exists: id {site.id}" in again.stdout and "msk_" not in again.stdout
    assert json.loads(cli("sites", "create", "demo", "--exist-ok", "--json").stdout) == {
        "site_id": site.id,
        "api_key": None,
        "created": False,
    }
    assert [s.name for s in store.sites.all()] == ["demo"]
    assert len(store.sites.keys(site.id)) == 1
    # Without the flag a taken name is still an error.
    taken = cli("sites", "create", "demo")
    assert taken.exit_code == 1 and "already exists" in taken.output


def test_rescore_all_without_a_broker_runs_the_chunks_here_and_shows_progress(
    app: Any, cli: Any, scorer: Any
) -> None:
    from moderation.comments import NewComment

    store = services(app).store
    site, _ = store.sites.create("daily-bugle")
    ids = [
        services(app).service.submit(site, NewComment(f"Kind words number {i}.")).comment.id
        for i in range(7)
    ]
    scorer.version = "v2"  # the model changed since those were scored
    out = cli("rescore", "--all", "--model-version", "test", "--chunk-size", "3")
    assert out.exit_code == 0, out.output
    assert "7 comment(s) in 3 chunk(s) of 3, 0 done" in out.output
    assert (
        "  3/7 (42.9 %), chunks 1/3" in out.output and "  7/7 (100.0 %), chunks 3/3" in out.output
    )
    assert "finished: 7 comment(s) re-scored" in out.output
    assert {store.comments.get(i).model.version for i in ids} == {"v2"}
    status = cli("rescore", "--status")
    assert "every comment" not in status.output and "model version test" in status.output
    assert "7/7 (100.0 %)" in status.output and "finished" in status.output
    again = cli("rescore", "--all", "--model-version", "test")
    assert "0 comment(s) in 0 chunk(s)" in again.output  # none left scored by "test"
    metrics = app.test_client().get("/metrics/database").get_data(as_text=True)
    assert "moderation_backfill_remaining 0.0" in metrics
    assert "moderation_job_queue_depth" not in metrics  # no broker: no queue to measure
