"""The fast paths of the busiest parsers give what the slow parse gives, filtered.

netstat / snmp / snmp6 / vmstat / meminfo read only the selected values when a text has the
kernel's exact shape and fall back to the slow parse (and its error messages) otherwise.  These
tests feed both the real fixture texts and texts edited line by line (duplicated, dropped,
swapped, values changed, spacing changed) and compare results or errors.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.collectors import meminfo, netstat, vmstat
from fleetwatch.exporters.host.collectors._sysfs import selected
from fleetwatch.inventory.collector_options import DEFAULT_NETSTAT_FIELDS, DEFAULT_VMSTAT_FIELDS

TEXTS = {
    "netstat": (FIXTURES / "net" / "netstat").read_text(),
    "snmp": (FIXTURES / "net" / "snmp").read_text(),
    "snmp6": (FIXTURES / "net" / "snmp6").read_text(),
    "vmstat": (FIXTURES / "vmstat").read_text(),
    "meminfo": (FIXTURES / "meminfo").read_text(),
}
NETSTAT_FIELDS = (DEFAULT_NETSTAT_FIELDS, r"Tcp", r"^$", ".")
VMSTAT_FIELDS = (DEFAULT_VMSTAT_FIELDS, r"nr_", ".")


def _outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except (ParseError, ValueError, OverflowError) as exc:
        return ("error", type(exc).__name__, str(exc))


def _as_names(result):
    """Family name -> value, as Families keeps them (a later sample of a name wins)."""
    if result[0] != "ok":
        return result
    value = result[1]
    if isinstance(value, dict):
        return ("ok", {p: {s.name: v for s, v in pairs} for p, pairs in value.items()})
    return ("ok", {s.name: v for s, v in value})


def slow_netstat(text: str, path: str, fields: str):
    stats = netstat.parse_netstat(text, path)
    return {
        p: [(netstat.spec_for(p, f), v) for f, v in d.items() if selected(fields, f"{p}_{f}")]
        for p, d in stats.items()
    }


def slow_snmp6(text: str, fields: str):
    stats = netstat.parse_snmp6(text)
    return {
        p: [(netstat.spec_for(p, f), v) for f, v in d.items() if selected(fields, f"{p}_{f}")]
        for p, d in stats.items()
    }


def slow_vmstat(text: str, fields: str):
    values = vmstat.parse_vmstat(text)
    return [(vmstat.spec_for(k), v) for k, v in values.items() if selected(fields, k)]


def slow_meminfo(text: str):
    return [(meminfo.spec_for(k), v) for k, v in meminfo.parse_meminfo(text).items()]


_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["dup", "drop", "swap", "digit", "minus", "space", "tab", "name", "huge"]),
        st.integers(0, 10_000),
    ),
    max_size=4,
)


def edit(text: str, edits: list[tuple[str, int]]) -> str:
    lines = text.split("\n")
    for op, k in edits:
        i = k % len(lines)
        line = lines[i]
        if op == "dup":
            lines.insert(i, line)
        elif op == "drop" and len(lines) > 1:
            del lines[i]
        elif op == "swap" and len(lines) > 1:
            j = (k // 7) % len(lines)
            lines[i], lines[j] = lines[j], line
        elif op == "digit":
            lines[i] = line.replace("0", "x", 1) if k % 2 else line.replace("1", "9", 1)
        elif op == "minus":
            lines[i] = line.replace(" ", " -", 1)
        elif op == "space":
            lines[i] = line.replace(" ", "  ", 1)
        elif op == "tab":
            lines[i] = line.replace(" ", "\t", 1)
        elif op == "name":
            lines[i] = line.replace(":", "(x):", 1) if k % 2 else line.replace("_", "-", 1)
        elif op == "huge":
            lines[i] = line.replace(" 0", " 99999999999999999999999", 1)
    return "\n".join(lines)


def test_real_texts_take_the_fast_path_and_agree() -> None:
    for fields in NETSTAT_FIELDS:
        for name in ("netstat", "snmp"):
            text, path = TEXTS[name], f"/proc/net/{name}"
            assert netstat._PAIRS_TEXT.fullmatch(text)
            fast = _as_names(_outcome(netstat.select_netstat, text, path, fields))
            assert fast == _as_names(_outcome(slow_netstat, text, path, fields))
        assert netstat._SNMP6_TEXT.fullmatch(TEXTS["snmp6"])
        fast6 = _as_names(_outcome(netstat.select_snmp6, TEXTS["snmp6"], fields))
        assert fast6 == _as_names(_outcome(slow_snmp6, TEXTS["snmp6"], fields))
    for fields in VMSTAT_FIELDS:
        assert vmstat._KERNEL_TEXT.fullmatch(TEXTS["vmstat"])
        fast = _as_names(_outcome(vmstat.select_vmstat, TEXTS["vmstat"], fields))
        assert fast == _as_names(_outcome(slow_vmstat, TEXTS["vmstat"], fields))
    assert meminfo._KERNEL_TEXT.fullmatch(TEXTS["meminfo"])
    fast = _as_names(_outcome(meminfo.select_meminfo, TEXTS["meminfo"]))
    assert fast == _as_names(_outcome(slow_meminfo, TEXTS["meminfo"]))
    assert len(fast[1]) == len(TEXTS["meminfo"].splitlines())


# (source text, fast path, slow path, field regexes), each called (text, *extra, fields)
PAIRS = {
    "netstat": ("netstat", netstat.select_netstat, slow_netstat, ("/proc/net/netstat",)),
    "snmp": ("snmp", netstat.select_netstat, slow_netstat, ("/proc/net/snmp",)),
    "snmp6": ("snmp6", netstat.select_snmp6, slow_snmp6, ()),
    "vmstat": ("vmstat", vmstat.select_vmstat, slow_vmstat, ()),
}
FIELDS = {"netstat": NETSTAT_FIELDS, "snmp": NETSTAT_FIELDS, "snmp6": NETSTAT_FIELDS}


@pytest.mark.parametrize("name", sorted(PAIRS))
@given(edits=_EDITS, pick=st.integers(0, 10))
@settings(max_examples=200, deadline=None)
def test_edited_texts_agree(name: str, edits, pick: int) -> None:
    source, fast_fn, slow_fn, extra = PAIRS[name]
    choices = FIELDS.get(name, VMSTAT_FIELDS)
    fields = choices[pick % len(choices)]
    text = edit(TEXTS[source], edits)
    fast = _as_names(_outcome(fast_fn, text, *extra, fields))
    assert fast == _as_names(_outcome(slow_fn, text, *extra, fields))


@given(_EDITS)
@settings(max_examples=200, deadline=None)
def test_edited_meminfo_texts_agree(edits) -> None:
    text = edit(TEXTS["meminfo"], edits)
    assert _as_names(_outcome(meminfo.select_meminfo, text)) == _as_names(
        _outcome(slow_meminfo, text)
    )
