"""Findings of ``fleetwatch validate`` on a folder of third-party files (figures printed).

``python -m benchmarks.validate_corpus FOLDER [--profile P]``: each file is validated alone
(as a CI user would name it), then counted: files that fail (exit 1), findings by rule and
severity, and the time of one call over the whole folder.  The corpus is not part of the
repository (public files are read, not vendored); see docs/validate.md for how it was picked.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from fleetwatch.validate import engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--show", default="", help="print findings of these rules (comma list)")
    args = parser.parse_args()
    suffixes = (".json", ".yml", ".yaml")
    files = sorted(p for p in args.folder.rglob("*") if p.is_file() and p.suffix in suffixes)
    kwargs = {} if args.profile is None else {"profile": args.profile}
    failing = 0
    by_rule: Counter[tuple[str, str]] = Counter()
    show = set(filter(None, args.show.split(",")))
    for path in files:
        result = engine.run([path], **kwargs)  # type: ignore[arg-type]
        failing += bool(result.errors)
        for f in result.findings:
            by_rule[(f.severity, f.rule)] += 1
            if f.rule in show:
                print(f"  {path.name}:{f.line or ''} {f.rule} {f.location} {f.message}"[:300])
    start = time.perf_counter()
    engine.run(files, **kwargs)  # type: ignore[arg-type]
    took = time.perf_counter() - start
    print(f"{len(files)} files, {failing} fail (exit 1); one call over all: {took:.2f} s")
    for (severity, rule), n in sorted(by_rule.items(), key=lambda kv: (kv[0][0], -kv[1])):
        print(f"  {severity:8} {rule:28} {n}")


if __name__ == "__main__":
    main()
