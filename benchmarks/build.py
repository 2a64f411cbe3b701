"""``fleetwatch build`` + ``validate`` for a large inventory: time, and byte-identical rebuild.

Usage: python -m benchmarks.build [--hosts 1000] [--deployments 20]
"""

from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def inventory(hosts: int, deployments: int) -> str:
    lines = ["version: 1", "defaults: {scrape_interval: 30s}", "deployments:"]
    per = hosts // deployments
    for d in range(deployments):
        provider = ("hetzner", "aws", "gcp", "ovh")[d % 4]
        lines += [
            f"  - name: dep-{d:02d}",
            f"    provider: {provider}",
            f"    labels: {{env: {'prod' if d % 2 else 'staging'}, team: team-{d % 5}}}",
            "    resources: {cpu_cores: 256, memory: 1TiB, storage: 20TB}",
            "    hosts:",
        ]
        for h in range(per):
            extra = ", maintenance: true" if h % 97 == 0 else ""
            interval = ", scrape_interval: 15s" if h % 10 == 0 else ""
            lines.append(
                f"      - {{name: host-{d:02d}-{h:03d}, address: 10.{d}.{h // 250}.{h % 250}"
                f"{extra}{interval}}}"
            )
    return "\n".join(lines) + "\n"


def fleetwatch(*args: str) -> float:
    t0 = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "fleetwatch", *args], cwd=ROOT, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - t0
    if run.returncode != 0:
        raise SystemExit(f"fleetwatch {' '.join(args)} failed:\n{run.stdout}{run.stderr}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--deployments", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inv = Path(tmp) / "fleet.yaml"
        inv.write_text(inventory(args.hosts, args.deployments))
        a, b = Path(tmp) / "a", Path(tmp) / "b"
        t_build = fleetwatch("build", "--inventory", str(inv), "-o", str(a))
        t_validate = fleetwatch("validate", str(a))
        fleetwatch("build", "--inventory", str(inv), "-o", str(b))
        diff = filecmp.dircmp(a, b)
        same = _identical(diff)
        files = sum(1 for p in a.rglob("*") if p.is_file())
        print(f"\n== build + validate: {args.hosts} hosts in {args.deployments} deployments ==")
        print(f"build     {t_build:6.2f} s  ({files} files)")
        print(f"validate  {t_validate:6.2f} s")
        print(f"total     {t_build + t_validate:6.2f} s (goal < 10 s)")
        print(f"rebuild byte-identical: {'yes' if same else 'NO'}")


def _identical(cmp: filecmp.dircmp[str]) -> bool:
    if cmp.diff_files or cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    # dircmp compares by stat signature first; compare contents for real
    for name in cmp.common_files:
        if Path(cmp.left, name).read_bytes() != Path(cmp.right, name).read_bytes():
            return False
    return all(_identical(sub) for sub in cmp.subdirs.values())


if __name__ == "__main__":
    main()
