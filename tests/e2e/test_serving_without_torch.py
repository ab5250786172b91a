"""The runtime image's promise: the service starts and scores with requirements-serve.txt alone.

The image cannot be built here (no container registry), so the same claim is made on a
process that sees only what the image would install: a meta-path hook makes every
installed package that is not pinned in requirements-serve.txt (nor required by one
that is) fail to import as if it were missing — torch, transformers, safetensors and
onnx among them, and the test and benchmark tools. In it the app starts with the real
model and scores comments; optional imports of missing packages fail as they would in
the image.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from tests.serving import ROOT, real_model_path

TRAINING_ONLY = ("torch", "transformers", "safetensors", "onnx")
OURS = {"api", "moderation", "models", "tests"}

SERVE = """
import importlib.abc, json, sys

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

BLOCKED = set(json.loads(open(sys.argv[3]).read()))
STARTUP = sorted(sys.modules)  # what the interpreter imported on its own (site, .pth files)
sys.meta_path.insert(0, NotInstalled())

from api import create_app
from api.services import services

app = create_app({"DATABASE_URL": sys.argv[1], "MODEL": sys.argv[2], "SECRET_KEY": "k",
                  "LOG_REQUESTS": False, "RATE_LIMIT_ENABLED": False, "PRELOAD_MODEL": True})
_, key = services(app).store.sites.create("harbour-news")
client = app.test_client()
auth = {"Authorization": f"Bearer {key}"}
answers = [client.post("/v1/comments", json={"text": text}, headers=auth).get_json()
           for text in ("Lovely photos of the harbour at dawn.",
                        "You are a pathetic idiot and nobody wants you here.")]
print(json.dumps({"answers": answers, "ready": client.get("/readyz").get_json(),
                  "modules": sorted(set(sys.modules) - set(STARTUP))}))
"""


def serving_distributions() -> set[str]:
    """requirements-serve.txt's distributions and, recursively, what they require."""
    wanted = [
        Requirement(line.split("#")[0].strip())
        for line in (ROOT / "requirements-serve.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    found: set[str] = set()
    while wanted:
        req = wanted.pop()
        name = req.name.lower().replace("_", "-")
        if name in found:
            continue
        found.add(name)
        for line in metadata.requires(req.name) or []:
            dep = Requirement(line)
            extras = req.extras or {""}
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in extras):
                wanted.append(dep)
    return found


def not_in_the_image() -> set[str]:
    """Top-level modules of installed distributions that requirements-serve.txt leaves out."""
    serving = serving_distributions()
    owners = metadata.packages_distributions()
    return {
        module
        for module, dists in owners.items()
        if module not in OURS
        and module not in sys.stdlib_module_names
        and not any(d.lower().replace("_", "-") in serving for d in dists)
    }


def test_the_app_starts_and_scores_without_torch_or_transformers(tmp_path: Path) -> None:
    from models import onnx

    model = real_model_path()
    assert onnx.ensure_export(model) is not None  # the image makes it at build time
    blocked = not_in_the_image()
    assert set(TRAINING_ONLY) <= blocked
    assert {"onnxruntime", "tokenizers", "flask", "gunicorn"}.isdisjoint(blocked)
    (tmp_path / "blocked.json").write_text(json.dumps(sorted(blocked)))
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            SERVE,
            f"sqlite:///{tmp_path / 'm.db'}",
            str(model),
            str(tmp_path / "blocked.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.splitlines()[-1])
    benign, toxic = result["answers"]
    assert benign["status"] == "approved" and toxic["status"] == "held", result["answers"]
    assert toxic["scores"]["insult"] > 0.5
    assert result["ready"]["model"]["engine"] == "onnxruntime"
    assert result["ready"]["model"]["precision"] == "int8"
    modules = {name.partition(".")[0] for name in result["modules"]}
    assert "onnxruntime" in modules and "tokenizers" in modules
    assert not modules & blocked, modules & blocked
