"""deploy/: the docker compose file against the Compose specification's JSON schema (vendored in
check-jsonschema) and the Kubernetes manifests against the API's schemas (kubernetes-validate,
offline), plus the project's rules: every service has a health check, a restart policy and
resource limits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))
BIN = Path(sys.executable).parent
SERVICES = {"postgres", "redis", "actions", "rasa", "gateway", "worker"}


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_compose_file_matches_the_compose_spec():
    done = run(
        str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "compose.yaml")
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compose_validator_catches_a_broken_file(tmp_path):
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  web:\n    restart: sometimes\n    healthcheck: {interval: 5}\n")
    assert (
        run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(broken)).returncode
        != 0
    )


def test_compose_services_have_health_checks_restart_policies_and_limits():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert set(compose["services"]) == SERVICES
    for name, service in compose["services"].items():
        assert service.get("healthcheck", {}).get("test"), name
        assert service.get("restart") in ("always", "unless-stopped", "on-failure"), name
        limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("cpus") and limits.get("memory"), name


def test_kubernetes_manifests_match_the_api_schemas():
    done = run(str(BIN / "kubernetes-validate"), "--strict", *map(str, MANIFESTS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_kubernetes_validator_catches_a_broken_manifest(tmp_path):
    broken = tmp_path / "bad.yaml"
    broken.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
        "spec: {replicas: two, selector: {}, template: {}}\n"
    )
    assert run(str(BIN / "kubernetes-validate"), "--strict", str(broken)).returncode != 0


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_kubernetes_workloads_have_probes_and_limits(path):
    for doc in yaml.safe_load_all(path.read_text()):
        if doc["kind"] not in ("Deployment", "StatefulSet"):
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod.get("restartPolicy", "Always") == "Always"
        for container in pod["containers"]:
            assert container.get("readinessProbe") and container.get("livenessProbe"), container["name"]
            limits = container.get("resources", {}).get("limits", {})
            assert limits.get("cpu") and limits.get("memory"), container["name"]


def test_kubernetes_covers_every_service():
    kinds = {(d["kind"], d["metadata"]["name"]) for p in MANIFESTS for d in yaml.safe_load_all(p.read_text())}
    assert {name for kind, name in kinds if kind in ("Deployment", "StatefulSet")} == SERVICES
    assert {name for kind, name in kinds if kind == "Service"} == SERVICES
