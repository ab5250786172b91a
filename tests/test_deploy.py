"""Deployment files: the Dockerfile (hadolint), compose.yaml and the Kubernetes manifests in deploy/.

Images cannot be built or run here (no container registry), so these check what can be
checked without one: the linters and schemas, and that the files agree with each other
and with the code (commands, settings, labels, ports, probes).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from api import config
from tests.serving import ROOT

BIN = Path(sys.executable).parent
MANIFESTS = sorted((ROOT / "deploy").glob("*.yaml"))
TRAINING_ONLY = ("torch", "transformers", "safetensors", "onnx=", "onnx ")


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


# -- Dockerfile ---------------------------------------------------------------------------


def stages() -> dict[str, str]:
    """The Dockerfile's stages by name: {name: the stage's text}."""
    text = (ROOT / "Dockerfile").read_text()
    parts = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    return {re.match(r"\S+ AS (\S+)", p).group(1): "FROM " + p for p in parts}  # type: ignore[union-attr]


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    out = _run(str(BIN / "hadolint"), "--failure-threshold", "info", "Dockerfile")
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_default_image_serves_without_torch_and_training_is_a_target() -> None:
    found = stages()
    assert list(found)[-1] == "runtime"  # `docker build .` builds the last stage
    assert "training" in found
    runtime = found["runtime"]
    # The runtime stage installs nothing itself: it copies the serving venv and the export.
    assert "pip install" not in runtime
    assert "COPY --from=serve-deps /opt/venv /opt/venv" in runtime
    assert "COPY --from=training /app/model-cache /app/model-cache" in runtime
    assert "pip install -r requirements-serve.txt" in found["serve-deps"]
    assert "requirements.txt" not in found["serve-deps"].replace("requirements-serve.txt", "")
    assert "torch" in found["training"] and "python -m models.onnx" in found["training"]
    assert re.search(r"^USER \d+$", runtime, re.MULTILINE)  # numeric: runAsNonRoot can check
    for source in re.findall(r"^COPY (?!--from)(\S+) ", (ROOT / "Dockerfile").read_text(), re.M):
        assert (ROOT / source).exists(), source


def test_the_serving_requirements_leave_the_training_packages_out() -> None:
    serve = (ROOT / "requirements-serve.txt").read_text().lower()
    pins = [line.split("#")[0].strip() for line in serve.splitlines() if line.split("#")[0].strip()]
    assert not [p for p in pins if p.startswith(TRAINING_ONLY)], pins
    assert any(p.startswith("onnxruntime==") for p in pins)
    assert any(p.startswith("tokenizers==") for p in pins)
    full = (ROOT / "requirements.txt").read_text()
    assert "-r requirements-serve.txt" in full and "torch==" in full


def known_settings() -> set[str]:
    """Every MODERATION_* variable something reads: the app's settings and gunicorn.conf.py's."""
    read_by_gunicorn = re.findall(r"MODERATION_[A-Z_]+", (ROOT / "gunicorn.conf.py").read_text())
    return {config.ENV_PREFIX + k for k in config.defaults("/tmp")} | set(read_by_gunicorn)


# -- Kubernetes -----------------------------------------------------------------------------


def documents() -> dict[tuple[str, str], dict[str, Any]]:
    """Every manifest in deploy/ by (kind, name)."""
    found = {}
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def test_every_manifest_passes_kubernetes_validate_strictly() -> None:
    assert len(MANIFESTS) >= 8
    out = _run(str(BIN / "kubernetes-validate"), "--strict", *map(str, MANIFESTS))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("passed for resource") == len(documents())


def test_kubernetes_validate_would_catch_a_mistake(tmp_path: Path) -> None:
    broken = (ROOT / "deploy" / "web-deployment.yaml").read_text()
    broken = broken.replace("readinessProbe:", "readynessProbe:")
    (tmp_path / "broken.yaml").write_text(broken)
    out = _run(str(BIN / "kubernetes-validate"), "--strict", str(tmp_path / "broken.yaml"))
    assert out.returncode != 0


def test_the_manifests_fit_together_and_fit_the_code() -> None:
    docs = documents()
    kinds = {kind for kind, _ in docs}
    assert {
        "Deployment",
        "Job",
        "Secret",
        "ConfigMap",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    } <= kinds
    web = docs[("Deployment", "moderation-web")]
    worker = docs[("Deployment", "moderation-worker")]
    job = docs[("Job", "moderation-migrate")]
    settings = docs[("ConfigMap", "moderation-config")]["data"]
    secrets = docs[("Secret", "moderation-secrets")]["stringData"]
    # Every setting named is one the service reads.
    known = known_settings()
    assert set(settings) | set(secrets) <= known
    assert "MODERATION_SECRET_KEY" in secrets and "MODERATION_DATABASE_URL" in secrets
    assert settings["MODERATION_AUTO_MIGRATE"] == "0"
    assert settings["MODERATION_DATABASE_METRICS"] == "0"
    for pod in (web, worker, job):
        spec = pod["spec"]["template"]["spec"]
        container = spec["containers"][0]
        refs = {r.get("configMapRef", r.get("secretRef"))["name"] for r in container["envFrom"]}
        assert refs == {"moderation-config", "moderation-secrets"}
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert "limits" in container["resources"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "flask", "--app", "api", "db", "upgrade"
    ]  # fmt: skip
    assert worker["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "flask", "--app", "api", "worker"
    ]  # fmt: skip
    # Web: probes on the endpoints that exist; port and labels agree with Service, PDB, HPA.
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["ports"][0]["containerPort"] == int(settings["MODERATION_BIND"].split(":")[1])
    labels = web["spec"]["template"]["metadata"]["labels"]
    assert web["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = docs[("Service", "moderation-web")]
    assert service["spec"]["selector"].items() <= labels.items()
    worker_labels = worker["spec"]["template"]["metadata"]["labels"]
    assert not service["spec"]["selector"].items() <= worker_labels.items()
    pdb = docs[("PodDisruptionBudget", "moderation-web")]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = docs[("HorizontalPodAutoscaler", "moderation-web")]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "moderation-web"
    assert hpa["spec"]["minReplicas"] >= 2 > pdb["spec"]["minAvailable"]
    # The requested CPUs are what gunicorn counts for its workers: whole CPUs.
    assert float(container["resources"]["limits"]["cpu"]).is_integer()


# -- compose ------------------------------------------------------------------------------

COMPOSE_TOP = {"name", "services", "volumes", "networks", "secrets", "configs"}
SERVICE_KEYS = {
    "build",
    "image",
    "command",
    "environment",
    "depends_on",
    "deploy",
    "ports",
    "volumes",
    "healthcheck",
    "restart",
}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_compose_validates() -> None:
    """`docker compose config` where the compose plugin is installed, else our own checks."""
    docker = shutil.which("docker")
    if docker and _run(docker, "compose", "version").returncode == 0:
        out = subprocess.run(
            [docker, "compose", "config", "--quiet"],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "MODERATION_SECRET_KEY": "k" * 64},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
    spec = compose()
    assert {k for k in spec if not k.startswith("x-")} <= COMPOSE_TOP
    services = spec["services"]
    for name, service in services.items():
        assert set(service) <= SERVICE_KEYS, (name, set(service) - SERVICE_KEYS)
        assert "image" in service or "build" in service, name
        for needed, how in service.get("depends_on", {}).items():
            assert needed in services, (name, needed)
            assert how["condition"] in CONDITIONS, (name, how)
            if how["condition"] == "service_healthy":
                assert "healthcheck" in services[needed], needed
        for volume in service.get("volumes", []):
            named = volume.split(":")[0]
            assert named.startswith(("/", ".")) or named in spec.get("volumes", {}), volume
        for setting in service.get("environment", {}):
            if setting.startswith(config.ENV_PREFIX):
                assert setting in known_settings(), setting


def test_compose_runs_two_web_replicas_a_worker_and_a_one_shot_migration() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "web", "worker"} <= set(services)
    assert services["web"]["deploy"]["replicas"] == 2
    assert services["migrate"]["command"] == ["flask", "--app", "api", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["worker"]["command"] == ["flask", "--app", "api", "worker"]
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        env = services[name]["environment"]
        assert env["MODERATION_AUTO_MIGRATE"] == "0"
        assert env["MODERATION_DATABASE_METRICS"] == "0"
        assert env["MODERATION_DATABASE_URL"].startswith("postgresql://")
        # Required, and the same for all: compose refuses to start without it.
        assert env["MODERATION_SECRET_KEY"].startswith("${MODERATION_SECRET_KEY:?")
    # Two replicas on one host cannot publish one port: a range, one port each.
    assert services["web"]["ports"] == ["8000-8001:8000"]


@pytest.mark.parametrize("path", ["compose.yaml", *[str(p.relative_to(ROOT)) for p in MANIFESTS]])
def test_deployment_files_are_plain_yaml_without_tabs(path: str) -> None:
    text = (ROOT / path).read_text()
    assert "\t" not in text
    list(yaml.safe_load_all(text))
