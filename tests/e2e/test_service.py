"""End to end: gunicorn with the real model, a site made with the CLI, real HTTP."""

from __future__ import annotations

import signal
from pathlib import Path

import requests

from tests.serving import running_service


def test_benign_approved_toxic_held_through_gunicorn(tmp_path: Path) -> None:
    with running_service(tmp_path) as service:
        site = service.create_site("harbour-news")
        auth = {"Authorization": f"Bearer {site['api_key']}"}
        benign = requests.post(
            f"{service.url}/v1/comments",
            headers=auth,
            timeout=30,
            json={
                "text": "Thanks for covering the harbour festival, the photos of the boats are great.",
                "author": {"id": "r1", "name": "June"},
                "external_id": "c-1",
            },
        ).json()
        toxic = requests.post(
            f"{service.url}/v1/comments",
            headers=auth,
            timeout=30,
            json={
                "text": "The regatta was fun. You are a pathetic moron and everyone here hates you.",
                "author": {"id": "r2"},
                "external_id": "c-2",
            },
        ).json()
        assert benign["status"] == "approved", benign
        assert toxic["status"] == "held", toxic
        assert toxic["scores"]["toxicity"] > 0.8 > benign["scores"]["toxicity"]
        assert any(r.get("category") == "insult" for r in toxic["reasons"])
        worst = max(toxic["spans"], key=lambda s: s["scores"]["toxicity"])
        assert "moron" in toxic["text"][worst["begin"] : worst["end"]]
        assert toxic["model"]["name"] and len(toxic["model"]["version"]) == 12
        again = requests.post(
            f"{service.url}/v1/comments",
            headers=auth,
            timeout=30,
            json={"text": "edited", "external_id": "c-2"},
        )
        assert again.status_code == 200 and again.json()["id"] == toxic["id"]
        got = requests.get(f"{service.url}/v1/comments/{toxic['id']}", headers=auth, timeout=10)
        assert got.json()["status"] == "held"
        ready = requests.get(f"{service.url}/readyz", timeout=5).json()
        assert ready["status"] == "ready"
        # The default fast path: int8 in ONNX Runtime, checked against fp32 at load.
        assert (ready["model"]["engine"], ready["model"]["precision"]) == ("onnxruntime", "int8")
        assert 0 < ready["model"]["parity_mae"] <= 0.02
        for pid in service.worker_pids():  # serving workers never import torch
            maps = Path(f"/proc/{pid}/maps").read_text()
            assert "onnxruntime" in maps and "libtorch" not in maps
        metrics = requests.get(f"{service.url}/metrics", timeout=5).text
        assert 'moderation_queue_depth{site="harbour-news"} 1.0' in metrics
        assert "moderation_decisions_total" in metrics
        # Stopped the way a process manager stops it (SIGTERM to the master only),
        # the workers exit cleanly: no native runtime state inherited across the
        # fork that aborts them at exit.
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(30) == 0
    log = service.log.read_text()
    assert "terminate called" not in log and "SIGABRT" not in log, log[-2000:]
