"""Imports run one way: inventory → model → exporters / renderers → build → validate → cli.

Read from the source (every import, the lazy ones inside functions too), not from what a run
happens to import: no package imports one of a later layer, and no two packages import each
other, directly or round a longer cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "fleetwatch"

LAYERS = {
    # the toolkit everything stands on
    "errors": 0, "config": 0, "layout": 0, "rule_names": 0, "fleetwatch": 0,
    "inventory": 1,
    # what the model feeds: exporters and the renderers of each kind of content
    "exporters": 2, "catalog": 2, "dashboards": 2, "rules": 2, "provisioning": 2,
    "alerting_client": 2, "inbox": 2,
    "build": 3,
    "validate": 4,
    "stack": 5, "stack_scale": 5,
    "cli": 6, "__main__": 7,
}  # fmt: skip


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "fleetwatch"


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        source = _package(".".join(rel.parts).removesuffix(".__init__"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "fleetwatch":  # from fleetwatch import layout, __version__
                    targets = [f"fleetwatch.{a.name}" for a in node.names]
                else:
                    targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                if target.startswith("fleetwatch"):
                    package = _package(target)
                    edges[source].add(package if package in LAYERS else "fleetwatch")
    return edges


def test_every_package_has_a_layer() -> None:
    packages = {p.stem if p.is_file() else p.name for p in SRC.iterdir()}
    packages = {p for p in packages if not p.startswith(("_", ".")) or p == "__main__"}
    packages -= {"py", "__pycache__"}
    assert packages - {"__init__"} <= set(LAYERS), packages - set(LAYERS)


def test_no_import_goes_against_the_layers() -> None:
    wrong = sorted(
        f"{source} (layer {LAYERS[source]}) imports {target} (layer {LAYERS[target]})"
        for source, targets in _graph().items()
        for target in targets
        if target != source and LAYERS[target] > LAYERS[source]
    )
    assert wrong == []


def test_no_cycle_between_packages() -> None:
    graph = {s: {t for t in ts if t != s} for s, ts in _graph().items()}
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        assert node not in path, " -> ".join([*path, node])
        if node in done:
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*path, node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])


def test_checking_an_inventory_imports_no_exporter_code() -> None:
    code = (
        "import sys\n"
        "from fleetwatch.inventory import inventory_from_text\n"
        "inventory_from_text('version: 1\\ndeployments:\\n- name: d\\n  provider: p\\n"
        "  collectors: {enable: [systemd], disable: [zfs]}\\n  hosts: [{name: h, address: a}]\\n"
        "  services: [{name: r, module: redis, address: \"127.0.0.1:6379\"}]\\n', 'f.yaml')\n"
        "print(sorted(m for m in sys.modules if m.startswith('fleetwatch.exporters')))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_the_collector_names_the_inventory_reads_are_the_registry() -> None:
    import json

    from fleetwatch.exporters.host.collectors import all_collectors

    data = json.loads((SRC / "exporters/host/collectors/collectors.json").read_text())
    registry = {c.name: c.default for c in all_collectors()}
    assert data == registry, (
        "refresh src/fleetwatch/exporters/host/collectors/collectors.json with:\n"
        + json.dumps(registry, indent=2, sort_keys=True)
    )
