"""textfile: the *.prom files of the host's textfile directory (Prometheus text format).

    backup_last_success_seconds{job="db"} 1.7e+09
    node_textfile_mtime_seconds{file="/var/lib/node_exporter/backup.prom"} 1.700000012e+09
    node_textfile_scrape_error 0

Without a directory only node_textfile_scrape_error 0 is emitted, as node_exporter does.  The
mtimes come from ``stat -c`` (GNU or busybox); where stat has no ``-c`` they are left out.
Deviation: histogram and summary families are re-emitted as one untyped family per sample
name (``_bucket``, ``_sum``, ``_count``), since a Spec carries one value per label set.
"""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from fleetwatch.exporters.families import Families, MetricType, Spec, gauge
from fleetwatch.exporters.host.collectors._sysfs import sh_quote
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

CMD = "textfile_mtimes"
NO_DIRECTORY = "fleetwatch-textfile: no directory"
SCRAPE_ERROR = gauge(
    "node_textfile_scrape_error",
    "1 if there was an error opening or reading a file, 0 otherwise",
)
MTIME = gauge(
    "node_textfile_mtime_seconds", "Unixtime mtime of textfiles successfully read.", "file"
)
_TYPES: dict[str, MetricType] = {"counter": "counter", "gauge": "gauge"}
_MTIME_LINE = re.compile(r"([0-9]+(?:\.[0-9]+)?) (/.*)")


def mtimes_snippet(directory: str) -> str:
    # %.3Y: millisecond mtimes as node_exporter has them; older stats print whole seconds
    return (
        "(\n"
        f"d={sh_quote(directory)}\n"
        f'[ -d "$d" ] && [ -r "$d" ] && [ -x "$d" ] || {{ echo \'{NO_DIRECTORY}\'; exit 0; }}\n'
        'set -- "$d"/*.prom\n'
        '[ -e "$1" ] || exit 0\n'
        "stat -c '%.3Y %n' \"$@\" 2>/dev/null || stat -c '%Y %n' \"$@\"\n"
        ")"
    )


def parse_mtimes(text: str) -> dict[str, float]:
    """``{path: mtime}`` from the snippet's output (error lines are ignored)."""
    out = {}
    for line in text.splitlines():
        m = _MTIME_LINE.fullmatch(line)
        if m is not None:
            out[m.group(2)] = float(m.group(1))
    return out


def _exposed_name(sample: str, family: str, typ: str | None, text: str) -> str:
    # the parser renames a counter "foo" to foo_total: keep the name the file has
    if typ == "counter" and not re.search(rf"^{re.escape(sample)}[ \t{{]", text, re.M):
        return family
    return sample


def parse_textfile(text: str, path: str) -> list[tuple[Spec, list[tuple[tuple[str, ...], float]]]]:
    """The families of one file as (spec, [(label values, value)]).

    Raises ValueError on a parse error or a client-side timestamp (node_exporter then skips
    the whole file and reports node_textfile_scrape_error 1).
    """
    result = []
    for fam in text_string_to_metric_families(text):
        typ = _TYPES.get(fam.type)
        help_ = fam.documentation or f"Metric read from {path}"
        # histograms and summaries: one family per sample name; others: one family
        groups: dict[str, list[tuple[dict[str, str], float]]] = {}
        names: dict[str, str] = {}
        for sample in fam.samples:
            if sample.timestamp is not None:
                raise ValueError(f"{path}: client-side timestamps are not supported")
            name = names.get(sample.name)
            if name is None:
                name = names[sample.name] = _exposed_name(sample.name, fam.name, typ, text)
            groups.setdefault(name, []).append((sample.labels, float(sample.value)))
        for name, samples in groups.items():
            labels = tuple(sorted({k for lbls, _ in samples for k in lbls}))
            spec = Spec(name, typ or "untyped", help_, labels)
            rows = [(tuple(lbls.get(k, "") for k in labels), v) for lbls, v in samples]
            result.append((spec, rows))
    return result


def _directory(opts: Options) -> str:
    # "/dir/" and "/dir" name the same files (node_exporter joins paths cleanly)
    return opts.textfile_directory.rstrip("/") or opts.textfile_directory


class TextfileCollector(Collector):
    name = "textfile"
    specs = (SCRAPE_ERROR, MTIME)

    def files(self, opts: Options) -> tuple[str, ...]:
        directory = _directory(opts)
        return (f"{directory}/*.prom",) if directory else ()

    def commands(self, opts: Options) -> dict[str, str]:
        directory = _directory(opts)
        return {CMD: mtimes_snippet(directory)} if directory else {}

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        directory = _directory(opts)
        if not directory:
            out.add(SCRAPE_ERROR, 0)
            return
        listing = snap.command(CMD) or ""
        errored = NO_DIRECTORY in listing
        mtimes = parse_mtimes(listing)
        contents = dict(snap.glob(f"{directory}/*.prom"))
        # a family must keep one type and label set across files (else it cannot be rendered)
        seen = {spec.name: spec for spec in self.specs}
        for path in sorted(set(mtimes) | set(contents)):
            text = contents.get(path)
            if text is None:
                errored = True  # listed but could not be opened
                continue
            try:
                families = parse_textfile(text, path)
            except Exception:  # any failure of the third-party parser is a bad file
                errored = True
                continue
            for spec, rows in families:
                first = seen.setdefault(spec.name, spec)
                if (first.type, first.labels) != (spec.type, spec.labels) or first in self.specs:
                    errored = True
                    continue
                for labelvalues, value in rows:
                    out.add(spec, value, *labelvalues)
            if path in mtimes:
                out.add(MTIME, mtimes[path], path)
        out.add(SCRAPE_ERROR, 1 if errored else 0)


COLLECTORS = [TextfileCollector]
