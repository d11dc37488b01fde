"""The deployment files validate: every command they run parses as a `mallflow` command, every
reference resolves, and the Kubernetes manifests render with kustomize (kubectl's built-in)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.cli.main import build_parser
from shared.config import load_site_config
from shared.schema.topics import DEFAULT_TOPICS, EVENTS_TOPIC

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
REPO = DEPLOY.parent


def _parses(args: list[str]) -> None:
    """argparse exits on an unknown subcommand or option: a deployment file's typo fails here."""
    parsed = build_parser().parse_args(args)
    assert callable(parsed.handler), args


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "cloud" / "compose.yaml").read_text())


def test_compose_services_reference_each_other_and_run_real_commands(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"kafka", "postgres", "migrate", "topics", "consumer", "api"} <= set(services)
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)
        if service.get("image", "").startswith("mallflow-cloud"):
            _parses(service["command"])
    # Migrations finish before anything that uses the schema starts.
    for name in ("consumer", "api"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    # Secrets come from the environment, never from the file.
    text = (DEPLOY / "cloud" / "compose.yaml").read_text()
    assert "${MALLFLOW_PG_PASSWORD:?" in text and "${MALLFLOW_API_KEYS:?" in text
    assert not re.search(r"(read|admin):[A-Za-z0-9]{8,}", text)


def test_compose_mounts_and_dockerfile_sources_exist(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / "cloud" / source).is_dir(), volume
    for line in (DEPLOY / "cloud" / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (REPO / source).exists(), line


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (it renders the kustomization)")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY / "k8s")], check=True, capture_output=True, text=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {})
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod = spec.get("template", {}).get("spec", {})
    return list(pod.get("containers", []))


def test_kubernetes_manifests(manifests: list[dict[str, Any]]) -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in manifests}
    assert {
        ("Deployment", "mallflow-consumer"),
        ("Deployment", "mallflow-api"),
        ("Service", "mallflow-api"),
        ("Job", "mallflow-migrate"),
        ("CronJob", "mallflow-retention"),
    } <= kinds
    config_maps = {d["metadata"]["name"] for d in manifests if d["kind"] == "ConfigMap"}
    for doc in manifests:
        assert doc["apiVersion"] and doc["metadata"]["name"]
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "mallflow", doc["metadata"]
        for container in _containers(doc):
            assert container["image"] == "mallflow-cloud:0.1"
            assert container["resources"]["limits"]["memory"]
            _parses(container["args"])
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                assert ref is None or ref["name"] == "mallflow", env
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps
    consumer = next(d for d in manifests if d["metadata"]["name"] == "mallflow-consumer")
    partitions = next(t.partitions for t in DEFAULT_TOPICS if t.name == EVENTS_TOPIC)
    # More consumers than partitions would idle.
    assert consumer["spec"]["replicas"] <= partitions
    # The generated ConfigMap carries the site file the pods mount.
    sites = next(
        d for d in manifests if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("mallflow-sites")
    )
    assert "mall.yaml" in sites["data"]


def test_the_sample_site_file_is_valid() -> None:
    load_site_config(DEPLOY / "k8s" / "sites" / "mall.yaml")
