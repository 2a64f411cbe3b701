from fixture_paths import FIXTURES
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.textfile import (
    TextfileCollector,
    parse_mtimes,
    parse_textfile,
)
from fleetwatch.exporters.host.snapshot import Snapshot

GOOD = (FIXTURES / "textfile/good.prom").read_text()
BAD = (FIXTURES / "textfile/bad.prom").read_text()
DIR = "/var/lib/node_exporter"
OPTS = Options(textfile_directory=DIR)


def collect(files: dict[str, str], listing: str, opts: Options = OPTS) -> Families:
    out = Families()
    snap = Snapshot(files=files, commands={"textfile_mtimes": listing})
    TextfileCollector().collect(snap, out, opts)
    return out


def test_without_directory_only_the_error_gauge() -> None:
    collector = TextfileCollector()
    assert collector.files(Options()) == ()
    assert collector.commands(Options()) == {}
    out = Families()
    collector.collect(Snapshot(), out, Options())
    assert out.names() == {"node_textfile_scrape_error"}
    assert out.get("node_textfile_scrape_error") == 0


def test_good_file_reemitted_with_types_and_mtime() -> None:
    listing = f"1700000000.123 {DIR}/good.prom\n"
    out = collect({f"{DIR}/good.prom": GOOD}, listing)
    assert out.get("node_textfile_scrape_error") == 0
    assert out.get("node_textfile_mtime_seconds", {"file": f"{DIR}/good.prom"}) == 1700000000.123
    # labels missing from a sample are "", as node_exporter fills them
    assert out.get("backup_last_success_seconds", {"job": "db", "host": ""}) == 1.7e9
    assert out.get("backup_last_success_seconds", {"job": "files", "host": "a"}) == 1.6e9
    assert out.get("backup_runs_total") == 42
    assert out.get("raid_disks_untyped", {"array": "md0"}) == 2
    specs = {spec.name: spec for spec, _ in parse_textfile(GOOD, f"{DIR}/good.prom")}
    assert specs["backup_runs_total"].type == "counter"
    assert specs["backup_last_success_seconds"].type == "gauge"
    assert specs["backup_last_success_seconds"].help == "Time of the last successful backup."
    assert specs["raid_disks_untyped"].type == "untyped"
    assert specs["raid_disks_untyped"].help == f"Metric read from {DIR}/good.prom"


def test_bad_file_sets_scrape_error_and_others_still_count() -> None:
    listing = f"1700000000 {DIR}/bad.prom\n1700000001 {DIR}/good.prom\n"
    out = collect({f"{DIR}/bad.prom": BAD, f"{DIR}/good.prom": GOOD}, listing)
    assert out.get("node_textfile_scrape_error") == 1
    assert out.get("backup_runs_total") == 42
    assert out.get("node_textfile_mtime_seconds", {"file": f"{DIR}/bad.prom"}) is None


def test_unreadable_file_timestamps_and_missing_directory_are_errors() -> None:
    out = collect({}, f"1700000000 {DIR}/secret.prom\n")
    assert out.get("node_textfile_scrape_error") == 1
    out = collect({f"{DIR}/ts.prom": "a 1 1700000000000\n"}, "")
    assert out.get("node_textfile_scrape_error") == 1
    assert out.get("a") is None
    out = collect({}, "fleetwatch-textfile: no directory\n")
    assert out.get("node_textfile_scrape_error") == 1


def test_counter_without_total_suffix_keeps_its_name() -> None:
    [(spec, rows)] = parse_textfile("# TYPE jobs counter\njobs 3\n", "/x.prom")
    assert (spec.name, spec.type, rows) == ("jobs", "counter", [((), 3.0)])


def test_histograms_become_untyped_families() -> None:
    text = '# TYPE lat histogram\nlat_bucket{le="1"} 2\nlat_bucket{le="+Inf"} 3\nlat_sum 4.5\nlat_count 3\n'  # noqa: E501
    specs = {spec.name: spec for spec, _ in parse_textfile(text, "/x.prom")}
    assert set(specs) == {"lat_bucket", "lat_sum", "lat_count"}
    assert specs["lat_bucket"].labels == ("le",)


def test_mtimes_listing() -> None:
    text = "1700000000.5 /d/a b.prom\nstat: cannot stat '/d/x.prom': No such file\n"
    assert parse_mtimes(text) == {"/d/a b.prom": 1700000000.5}


def test_conflicting_families_across_files_are_errors() -> None:
    files = {
        f"{DIR}/a.prom": 'jobs{x="1"} 1\n',
        f"{DIR}/b.prom": 'jobs{y="2",z="3"} 2\nnode_textfile_scrape_error 0\nok 1\n',
    }
    out = collect(files, "")
    assert out.get("node_textfile_scrape_error") == 1
    assert out.samples("jobs") == [({"x": "1"}, 1.0)]
    assert out.get("ok") == 1
