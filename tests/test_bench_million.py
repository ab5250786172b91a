"""bench/million.py on a small load: every hot operation runs, answers, and has its plans printed."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import PG_URL
from tests.serving import ROOT

OPERATIONS = ("queue page", "claim", "decision", "webhook claim", "metrics", "simulate")


def test_the_bench_prints_the_plan_and_time_of_every_hot_query() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.million", "--comments", "3000", "--database-url", PG_URL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "loaded 3,000 comments" in out.stdout
    sections = re.split(r"^=== ", out.stdout, flags=re.MULTILINE)[1:]
    assert [s.split(":")[0] for s in sections] == list(OPERATIONS)
    for section in sections:
        head = section.splitlines()[0]
        assert re.search(r": [\d.]+ ms \((200|ok)\), [1-9]\d* statements$", head), head
        # One plan with actual times per statement sent.
        assert section.count("Execution Time:") == int(head.rsplit(", ", 1)[1].split()[0])
    # The delivery claim reads the partial index of undelivered events (migration 0006).
    claim = sections[OPERATIONS.index("webhook claim")]
    assert "ix_webhook_outbox_due" in claim
