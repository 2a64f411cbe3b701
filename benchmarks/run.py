"""``make bench``: every benchmark, one after the other (figures printed, never asserted)."""

from __future__ import annotations

import sys

from benchmarks import assign, build, exporter_cpu, host, load, scale, services


def main() -> None:
    argv = sys.argv
    sys.argv = [argv[0]]
    host.main()
    load.main()
    exporter_cpu.main()
    services.main()
    build.main()
    assign.main()
    scale.main()
    sys.argv = argv


if __name__ == "__main__":
    main()
