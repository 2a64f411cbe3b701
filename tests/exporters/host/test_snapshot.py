"""Snapshot lookups: glob and under over a sorted index, the same answers as a plain scan."""

import fnmatch

from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.exporters.host.snapshot import Snapshot


def _glob_by_scan(files: dict[str, str], pattern: str) -> list[tuple[str, str]]:
    # the reference: fnmatch component by component, so "*" never crosses "/"
    parts = pattern.split("/")
    out = []
    for path, text in files.items():
        pp = path.split("/")
        if len(pp) == len(parts) and all(
            fnmatch.fnmatchcase(a, b) for a, b in zip(pp, parts, strict=True)
        ):
            out.append((path, text))
    return sorted(out)


_NAMES = st.sampled_from(["a", "b", "ab", "cpu0", "cpu12", "x.y", "]", "!", "-", "[", "\n", ""])
_PATHS = st.lists(_NAMES, min_size=1, max_size=4).map(lambda p: "/" + "/".join(p))
_PAT = st.sampled_from(
    ["*", "?", "a", "b*", "cpu[0-9]*", "[!a]*", "[]]", "[a", "[z-a]", "*[!0-9]", "x.?", "[-a]", ""]
)
_PATTERNS = st.lists(_PAT, min_size=1, max_size=4).map(lambda p: "/" + "/".join(p))


@given(st.dictionaries(_PATHS, st.text(max_size=3), max_size=12), _PATTERNS)
@settings(max_examples=600, deadline=None)
def test_glob_matches_what_fnmatch_matches_per_component(files, pattern) -> None:
    assert Snapshot(files=dict(files)).glob(pattern) == _glob_by_scan(files, pattern)


@given(st.dictionaries(_PATHS, st.text(max_size=3), max_size=12), _PATHS)
@settings(max_examples=300, deadline=None)
def test_under_is_every_path_with_the_prefix(files, prefix) -> None:
    expected = sorted((p[len(prefix) :], t) for p, t in files.items() if p.startswith(prefix))
    assert sorted(Snapshot(files=dict(files)).under(prefix)) == expected


def test_glob_and_under_on_sysfs_like_paths() -> None:
    snap = Snapshot(
        files={
            "/sys/class/net/lo/mtu": "65536\n",
            "/sys/class/net/eth0/mtu": "1500\n",
            "/sys/class/net/eth0/statistics/rx_nohandler": "0\n",
            "/sys/class/netx/mtu": "1\n",
        }
    )
    assert snap.glob("/sys/class/net/*/mtu") == [
        ("/sys/class/net/eth0/mtu", "1500\n"),
        ("/sys/class/net/lo/mtu", "65536\n"),
    ]
    assert [rest for rest, _ in snap.under("/sys/class/net/")] == [
        "eth0/mtu",
        "eth0/statistics/rx_nohandler",
        "lo/mtu",
    ]
