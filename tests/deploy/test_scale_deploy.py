"""deploy/scale/: the scaled-out topology for Docker Compose and Kubernetes, which cannot run
here.  Checked instead: `docker-compose config` on each compose file; each Kubernetes object
against the Kubernetes OpenAPI schema (the pinned `kubernetes-validate` package, strict: an
unknown field fails); and, against what `fleetwatch build` writes from the variant's
inventory, that every file a service reads exists, every address of the inventory is a
service, every exporter replica and every shard x replica scraper runs, and Mimir's config
holds the build's HA and ruler blocks."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetwatch.build import build
from fleetwatch.inventory import Inventory, load_inventory
from servers import needs

ROOT = Path(__file__).resolve().parents[2]
SCALE = ROOT / "deploy" / "scale"
VARIANTS = ("victoriametrics-single", "victoriametrics-cluster", "mimir")
#: the Kubernetes version the manifests are checked against (a schema the package ships)
K8S_VERSION = "1.30.0"
#: what the user creates by hand (deploy/scale/README.md); optional ones may be absent
CREATED_BY_HAND = {"configmap": {"fleetwatch-inventory", "fleetwatch-mimir"},
                   "secret": {"alertmanager-secrets"}}  # fmt: skip
#: a path below the build folder named in a command (relative: the engines run in it)
BUILD_PATH = re.compile(r"(?:^|[\s=/])((?:scale|prometheus|alertmanager)/[\w./${}#*-]+)")


def _built(variant: str, out: Path) -> Inventory:
    inventory = load_inventory(SCALE / "inventories" / f"{variant}.yaml")
    build(inventory, ROOT, out)
    return inventory


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Inventory, Path]]:
    base = tmp_path_factory.mktemp("deploy-builds")
    return {v: (_built(v, base / v), base / v) for v in VARIANTS}


def _hosts(inventory: Inventory) -> set[str]:
    """The host part of every address the inventory's scale: and stack: name."""
    from urllib.parse import urlsplit

    scale = inventory.scale
    assert scale is not None and scale.alertmanager is not None
    addresses = [e.address for e in scale.exporters] + list(scale.alertmanager.peers)
    addresses.append(inventory.stack.inbox)
    hosts = {a.rpartition(":")[0] for a in addresses}
    hosts |= {
        urlsplit(u).hostname or "" for u in (scale.storage.write_url, scale.storage.query_url)
    }
    return hosts


def _referenced(text: str) -> set[str]:
    """Build-relative paths in a command, with a pod's `${HOSTNAME##*-}` ordinal kept."""
    return {m.group(1) for m in BUILD_PATH.finditer(text)}


def _exists(build_dir: Path, path: str, replicas: int) -> bool:
    if "${HOSTNAME##*-}" in path:  # a StatefulSet pod's ordinal: every replica's file
        return all(
            _exists(build_dir, path.replace("${HOSTNAME##*-}", str(i)), 1) for i in range(replicas)
        )
    if "*" in path:
        return any(build_dir.glob(path))
    return (build_dir / path).exists()


# --------------------------------------------------------------------------- compose


def _compose(variant: str) -> dict[str, Any]:
    return dict(yaml.safe_load((SCALE / "compose" / f"{variant}.yml").read_text()))


#: every compose file users get: the scaled variants and the single-machine stack
COMPOSE_FILES = [SCALE / "compose" / f"{v}.yml" for v in VARIANTS] + [
    SCALE.parent / "docker-compose.yml"
]


@needs("docker-compose")
@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_docker_compose_accepts_it(path: Path) -> None:
    compose = shutil.which("docker-compose")
    assert compose is not None
    run = subprocess.run(
        [compose, "-f", str(path), "config", "-q"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("variant", VARIANTS)
def test_compose_runs_the_build(variant: str, builds: dict[str, tuple[Inventory, Path]]) -> None:
    inventory, out = builds[variant]
    scale = inventory.scale
    assert scale is not None
    services = _compose(variant)["services"]
    assert _hosts(inventory) <= set(services), "every inventory address is a compose service"
    for e in scale.exporters:
        name = e.address.rpartition(":")[0]
        command = services[name]["command"]
        assert command[command.index("--replica") + 1] == e.id
        assert command[command.index("--listen") + 1] == e.address
    scrapers = {n for n in services if n.startswith("scraper-")}
    wanted = {f"scraper-{s}-{r}" for s in range(scale.scraper.shards)
              for r in range(scale.scraper.replicas)}  # fmt: skip
    assert scrapers == wanted
    for name, svc in services.items():
        text = " ".join(str(a) for k in ("entrypoint", "command") for a in svc.get(k) or [])
        for path in _referenced(text):
            assert _exists(out, path, 1), f"{variant}: {name} reads {path}, not in the build"
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("../../../build"):
                rel = source.removeprefix("../../../build").lstrip("/")
                assert (out / rel).exists(), f"{name} mounts {source}"
            elif source.startswith(".") and "secrets" not in source:  # secrets/: the user's
                assert (SCALE / "compose" / source).resolve().exists(), f"{name} mounts {source}"


# --------------------------------------------------------------------------- Kubernetes


def _kustomize(folder: Path) -> list[dict[str, Any]]:
    """The objects of a kustomization (its resources, recursively; no patches are used)."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert kustomization["kind"] == "Kustomization"
    assert set(kustomization) <= {"apiVersion", "kind", "namespace", "resources"}
    objects: list[dict[str, Any]] = []
    for resource in kustomization["resources"]:
        path = (folder / resource).resolve()
        assert path.exists(), f"{folder}/kustomization.yaml: {resource} does not exist"
        if path.is_dir():
            objects += _kustomize(path)
        else:
            objects += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return objects


def _manifests() -> list[Path]:
    return sorted(
        p for p in (SCALE / "kubernetes").rglob("*.yaml") if p.name != "kustomization.yaml"
    )


@pytest.mark.parametrize("path", _manifests(), ids=lambda p: str(p.relative_to(SCALE)))
def test_manifest_matches_the_kubernetes_schema(path: Path) -> None:
    import kubernetes_validate

    for doc in yaml.safe_load_all(path.read_text()):
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            kind, name = doc.get("kind"), doc.get("metadata", {}).get("name")
            pytest.fail(f"{path}: {kind} {name}: {str(exc).splitlines()[0]}")


def test_a_wrong_field_is_caught() -> None:
    """The schema check is strict: a misspelt field fails, it is not ignored."""
    import kubernetes_validate

    doc = next(yaml.safe_load_all((SCALE / "kubernetes/base/inbox.yaml").read_text()))
    doc["spec"]["template"]["spec"]["containers"][0]["readynessProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readynessProbe"):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def _pod(obj: dict[str, Any]) -> dict[str, Any] | None:
    if obj["kind"] in ("Deployment", "StatefulSet"):
        return dict(obj["spec"]["template"]["spec"])
    return None


@pytest.mark.parametrize("variant", VARIANTS)
def test_kubernetes_runs_the_build(variant: str, builds: dict[str, tuple[Inventory, Path]]) -> None:
    inventory, out = builds[variant]
    scale = inventory.scale
    assert scale is not None
    objects = _kustomize(SCALE / "kubernetes" / variant)
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    workloads = [o for o in objects if _pod(o) is not None]
    assert _hosts(inventory) <= set(services), "every inventory address is a Service"
    defined = {(o["kind"].lower(), o["metadata"]["name"]) for o in objects}
    labels = [o["spec"]["template"]["metadata"]["labels"] for o in workloads]
    for svc in services.values():  # each Service selects some workload's pods
        selector = svc["spec"]["selector"]
        pod_name = selector.get("statefulset.kubernetes.io/pod-name")
        if pod_name:
            sets = [o for o in workloads if o["kind"] == "StatefulSet"]
            assert any(pod_name.rpartition("-")[0] == s["metadata"]["name"]
                       and int(pod_name.rpartition("-")[2]) < s["spec"]["replicas"]
                       for s in sets), svc["metadata"]["name"]  # fmt: skip
        else:
            assert any(selector.items() <= lab.items() for lab in labels), svc["metadata"]
    replicas_of: dict[str, int] = {}
    for w in workloads:
        name = w["metadata"]["name"]
        assert w["spec"]["selector"]["matchLabels"].items() <= (
            w["spec"]["template"]["metadata"]["labels"].items()
        ), name
        if w["kind"] == "StatefulSet":
            assert w["spec"]["serviceName"] in services, name
        pod = _pod(w)
        assert pod is not None
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for v in volumes.values():
            for kind in ("configMap", "secret"):
                ref = v.get(kind)
                if ref:
                    ref_name = ref.get("name") or ref.get("secretName")
                    assert (kind.lower(), ref_name) in defined or ref_name in CREATED_BY_HAND[
                        kind.lower()
                    ], f"{name} uses {kind} {ref_name}"
            claim = v.get("persistentVolumeClaim")
            if claim:
                assert ("persistentvolumeclaim", claim["claimName"]) in defined
        claims = {t["metadata"]["name"] for t in w["spec"].get("volumeClaimTemplates", [])}
        for c in [*pod.get("initContainers", []), *pod["containers"]]:
            assert re.fullmatch(r"[a-z0-9-]{1,63}", c["name"]) and c.get("image"), name
            for port in c.get("ports", []):
                assert re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?", port["name"]), port
            for m in c.get("volumeMounts", []):
                assert m["name"] in volumes or m["name"] in claims, f"{name}: {m['name']}"
            text = " ".join(str(a) for a in (c.get("command") or []) + (c.get("args") or []))
            for path in _referenced(text):
                assert c.get("workingDir") == "/fw/build", f"{name}: relative {path}"
                replicas = int(w["spec"].get("replicas", 1))
                assert _exists(out, path, replicas), f"{variant}: {name} reads {path}"
        if "--replica" in str(pod["containers"][0].get("args")):
            args = pod["containers"][0]["args"]
            replicas_of[args[args.index("--replica") + 1]] = int(w["spec"]["replicas"])
            assert pod["hostname"] == args[args.index("--listen") + 1].rpartition(":")[0]
    assert replicas_of == {e.id: 1 for e in scale.exporters}  # one process per replica id
    shards = {w["metadata"]["name"]: w["spec"]["replicas"] for w in workloads
              if w["metadata"]["name"].startswith("scraper-shard-")}  # fmt: skip
    want = {f"scraper-shard-{s}": scale.scraper.replicas for s in range(scale.scraper.shards)}
    assert shards == want


# --------------------------------------------------------------------------- Mimir


def _contains(big: Any, small: Any) -> bool:
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and _contains(big[k], v)
                                             for k, v in small.items())  # fmt: skip
    return bool(big == small)


def test_mimir_config_holds_the_build_blocks(builds: dict[str, tuple[Inventory, Path]]) -> None:
    _, out = builds["mimir"]
    config = yaml.safe_load((SCALE / "mimir" / "mimir.yaml").read_text())
    for part in ("storage/mimir-ha.yaml", "rules/mimir-ruler.yaml"):
        block = yaml.safe_load((out / "scale" / part).read_text())
        assert _contains(config, block), f"deploy/scale/mimir/mimir.yaml lacks build/scale/{part}"
