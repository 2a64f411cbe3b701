"""Rendezvous assignment of targets to exporter replicas."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.inventory.scale_fixtures import scale_inventory, scale_yaml

from fleetwatch.inventory import inventory_from_text
from fleetwatch.inventory.assign import assign, assignment, owner, targets_of, weight

names = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-", min_size=1, max_size=20),
    min_size=1,
    max_size=200,
    unique=True,
)
ids = st.lists(
    st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), min_size=1, max_size=8, unique=True
)


def test_weight_is_stable_across_processes() -> None:
    """Not Python's salted hash(): another interpreter computes the same weights."""
    code = "from fleetwatch.inventory.assign import weight; print(weight('ex-a', 'web-1'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(other.stdout) == weight("ex-a", "web-1")
    assert weight("ab", "c") != weight("a", "bc")


@given(names, ids, st.randoms(use_true_random=False))
def test_order_of_targets_and_exporters_changes_nothing(
    targets: list[str], exporters: list[str], rnd: random.Random
) -> None:
    first = assign(targets, exporters)
    t2, e2 = list(targets), list(exporters)
    rnd.shuffle(t2)
    rnd.shuffle(e2)
    assert assign(t2, e2) == first
    assert list(first) == sorted(targets)  # byte-stable order
    assert set(first.values()) <= set(exporters)


@given(names, ids)
def test_union_is_every_target_once(targets: list[str], exporters: list[str]) -> None:
    got = assign(targets, exporters)
    per_exporter = [[t for t, e in got.items() if e == x] for x in exporters]
    assert sorted(t for ts in per_exporter for t in ts) == sorted(targets)


@given(names, ids, st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True))
def test_adding_an_exporter_moves_only_targets_to_it(
    targets: list[str], exporters: list[str], new: str
) -> None:
    if new in exporters:
        return
    before, after = assign(targets, exporters), assign(targets, [*exporters, new])
    moved = {t for t in targets if before[t] != after[t]}
    assert all(after[t] == new for t in moved)


@given(names, ids)
def test_removing_an_exporter_moves_only_its_targets(
    targets: list[str], exporters: list[str]
) -> None:
    if len(exporters) < 2:
        return
    gone = exporters[0]
    before, after = assign(targets, exporters), assign(targets, exporters[1:])
    assert {t for t in targets if before[t] != after[t]} == {
        t for t in targets if before[t] == gone
    }


def test_one_more_of_n_exporters_moves_about_one_in_n_plus_one() -> None:
    """1000 hosts, 4 -> 5 exporters: about 1/5 move (mod-N would move about 4/5).  Fixed name
    sets, so the figure is deterministic (binomial spread: sd 1.3 points per set)."""
    four = [f"ex-{i}" for i in range(4)]
    fractions = []
    for seed in range(20):
        hosts = [f"host-{seed}-{i}" for i in range(1000)]
        before, after = assign(hosts, four), assign(hosts, [*four, "ex-4"])
        moved = [h for h in hosts if before[h] != after[h]]
        assert all(after[h] == "ex-4" for h in moved)
        fractions.append(len(moved) / len(hosts))
    assert all(0.15 <= f <= 0.25 for f in fractions), fractions
    assert 0.19 <= sum(fractions) / len(fractions) <= 0.21


@given(names, ids)
def test_pins_win(targets: list[str], exporters: list[str]) -> None:
    pinned = {t: exporters[-1] for t in targets[::3]}
    got = assign(targets, exporters, pinned)
    assert all(got[t] == e for t, e in pinned.items())
    unpinned = assign(targets, exporters)
    assert all(got[t] == unpinned[t] for t in targets if t not in pinned)


def test_no_exporter_and_unknown_pin_are_errors() -> None:
    with pytest.raises(ValueError, match="no exporter"):
        assign(["a"], [])
    with pytest.raises(ValueError, match="unknown exporter"):
        assign(["a"], ["x"], {"a": "y"})


def test_inventory_assignment_ignores_labels_and_order() -> None:
    plain = scale_yaml(hosts=40, exporters=3)
    labelled = plain.replace(
        "address: 127.0.0.1\n", "address: 127.0.0.1\n        labels: {role: db}\n", 7
    )
    lines = plain.split("      - name: ")
    reordered = (
        lines[0]
        + "".join("      - name: " + x for x in reversed(lines[1:-1]))
        + "      - name: "
        + lines[-1]
    )
    got = assignment(inventory_from_text(plain, "a.yaml"))
    assert len(got) == 40
    assert assignment(inventory_from_text(labelled, "b.yaml")) == got
    assert assignment(inventory_from_text(reordered, "c.yaml")) == got


def test_pins_from_inventory_and_targets_of() -> None:
    inv = scale_inventory(hosts=10, exporters=2, extra="  pins:\n    host-0003: ex-1\n")
    got = assignment(inv)
    assert got["host-0003"] == "ex-1"
    assert targets_of(inv, "ex-1") == {t for t, e in got.items() if e == "ex-1"}
    assert targets_of(inv, "ex-0") | targets_of(inv, "ex-1") == set(inv.targets())
    with pytest.raises(KeyError):
        targets_of(inv, "ex-7")
    assert owner("host-0003", ["ex-0", "ex-1"]) in ("ex-0", "ex-1")
