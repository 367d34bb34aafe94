"""deploy/: the Kubernetes manifests validate against the Kubernetes schemas (kubernetes-validate ships them,
so this works offline, where kubeconform's run-time schema download cannot), and they say what the
operations guide and the server need: runners labelled `app=runner`, readiness on `/readyz`, the data
directory on a PersistentVolumeClaim, tokens from a Secret, and container arguments that the real command
lines accept. The Dockerfile is checked for what it builds; no docker daemon is here to build it."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]  # ships no type information
import pytest
import yaml

from conftest import REPO, child_env

DEPLOY = REPO / "deploy"
#: The Kubernetes version the manifests are written for.
K8S = "1.31.0"


def documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                doc.setdefault("metadata", {}).setdefault("annotations", {})
                doc["metadata"]["annotations"]["test/file"] = path.name
                docs.append(doc)
    return docs


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents() if d["kind"] == kind}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def flag(args: list[str], name: str) -> str:
    assert name in args, (name, args)
    return args[args.index(name) + 1]


@pytest.mark.parametrize("doc", documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_every_manifest_validates_against_the_kubernetes_schema(doc: dict[str, Any]) -> None:
    doc = {**doc, "metadata": {k: v for k, v in doc["metadata"].items() if k != "annotations"}}
    kubernetes_validate.validate(doc, K8S, strict=True)


def test_a_broken_manifest_is_caught() -> None:
    runner = dict(by_kind("Deployment")["toron-runner"])
    runner["spec"] = {**runner["spec"], "replicas": "two"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(runner, K8S, strict=True)


def test_runners_are_labelled_app_runner_and_point_at_the_api_service() -> None:
    deployments = by_kind("Deployment")
    runner = deployments["toron-runner"]
    assert runner["metadata"]["labels"]["app"] == "runner"
    assert runner["spec"]["selector"]["matchLabels"] == {"app": "runner"}
    assert runner["spec"]["template"]["metadata"]["labels"]["app"] == "runner"
    args = container(runner)["args"]
    assert args[0] == "runner"
    service = by_kind("Service")["toron-api"]
    port = service["spec"]["ports"][0]["port"]
    assert flag(args, "--server") == f"http://toron-api:{port}"
    assert service["spec"]["selector"] == deployments["toron-api"]["spec"]["selector"]["matchLabels"]
    # Readiness: registered with the server (the file it writes then).
    probe = container(runner)["readinessProbe"]["exec"]["command"]
    assert probe[-1] == flag(args, "--ready-file")


def test_the_api_is_ready_on_readyz_keeps_its_data_on_the_pvc_and_hands_runs_to_runners() -> None:
    api = by_kind("Deployment")["toron-api"]
    c = container(api)
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    args = c["args"]
    assert args[0] == "serve" and flag(args, "--runners") == "0"
    assert flag(args, "--addr").endswith(f":{c['ports'][0]['containerPort']}")
    volumes = {v["name"]: v for v in api["spec"]["template"]["spec"]["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    data = volumes[mounts[flag(args, "--data")]]
    assert data["persistentVolumeClaim"]["claimName"] in by_kind("PersistentVolumeClaim")
    # One writer of the data directory: never two pods at once.
    assert api["spec"]["replicas"] == 1 and api["spec"]["strategy"]["type"] == "Recreate"


def test_tokens_come_from_the_secret() -> None:
    secret = by_kind("Secret")["toron-tokens"]
    data = secret["stringData"]
    assert 'role = "runner"' in data["tokens.toml"] and data["runner-token"] in data["tokens.toml"]
    for name, flag_name, key in [
        ("toron-api", "--tokens", "tokens.toml"),
        ("toron-runner", "--token-file", "runner-token"),
    ]:
        d = by_kind("Deployment")[name]
        c = container(d)
        path = flag(c["args"], flag_name)
        mount = next(m for m in c["volumeMounts"] if path.startswith(m["mountPath"] + "/"))
        volume = next(v for v in d["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"])
        assert volume["secret"]["secretName"] == "toron-tokens"
        item = next(i for i in volume["secret"]["items"] if i["key"] == key)
        assert f"{mount['mountPath']}/{item['path']}" == path


def test_the_containers_arguments_are_flags_the_commands_take() -> None:
    env = child_env()
    for name, command in [("toron-api", "serve"), ("toron-runner", "runner")]:
        args = container(by_kind("Deployment")[name])["args"]
        assert args[0] == command
        helped = subprocess.run(
            [sys.executable, "-m", "toron", command, "--help"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        ).stdout
        for a in args[1:]:
            if a.startswith("--"):
                assert f"{a} " in helped or f"{a}\n" in helped, (command, a)


def test_the_dockerfile_builds_the_server_binary_from_the_locked_workspace() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert "cargo build --release --locked -p toron-server" in text
    assert 'ENTRYPOINT ["toron-server"]' in text
    image = container(by_kind("Deployment")["toron-api"])["image"]
    assert image.split(":")[1] in (REPO / "Cargo.toml").read_text()
    for line in text.splitlines():
        if line.startswith("COPY --chown"):
            source = line.split()[2]
            assert (REPO / source).exists(), line
