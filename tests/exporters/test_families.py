"""Families.render is the hot path of every probe: byte-identical to prometheus_client."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import generate_latest

from fleetwatch.exporters.families import Families, Spec, counter, gauge, untyped
from fleetwatch.exporters.host.collectors import select
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.runner import run_collectors
from fleetwatch.exporters.host.script import build_script, new_nonce, parse_output


def test_render_equals_generate_latest_on_a_real_probe() -> None:
    collectors, opts, nonce = select(), Options(), new_nonce()
    raw = subprocess.run(
        ["/bin/sh", "-c", build_script(collectors, opts, nonce)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    families = run_collectors(collectors, parse_output(raw, nonce), opts).families
    assert len(families) > 200
    assert families.render() == generate_latest(families)


SPECS: list[Spec] = [
    gauge("fw_test_gauge", "A gauge\\ with \n odd help.", "zeta", "alpha"),
    counter("fw_test_total", "A counter.", "mode"),
    untyped("fw_test_untyped", "Untyped."),
]


@given(
    values=st.lists(
        st.tuples(
            st.sampled_from(range(len(SPECS))),
            st.floats(allow_nan=True, allow_infinity=True),
            st.text(max_size=8),
            st.text(max_size=8),
        ),
        max_size=20,
    )
)
def test_render_equals_generate_latest_on_odd_values(values: list) -> None:  # type: ignore[type-arg]
    fams = Families()
    for index, value, a, b in values:
        spec = SPECS[index]
        fams.add(spec, value, *(a, b)[: len(spec.labels)])
    assert fams.render() == generate_latest(fams)


def test_histograms_render_as_generate_latest_and_read_back() -> None:
    from fleetwatch.exporters.families import histogram

    spec = histogram("fw_test_latency_seconds", "Latency.", "zone", "app")
    fams = Families()
    fams.add(gauge("fw_test_a", "A."), 1)
    fams.add_histogram(spec, [(0.005, 1), (0.25, 3), (float("inf"), 4)], 0.75, "b", "x")
    fams.add_histogram(spec, [(0.005, 0), (0.25, 0), (float("inf"), 0)], 0.0, "a", "y")
    text = fams.render()
    assert text == generate_latest(fams)
    assert b"# TYPE fw_test_latency_seconds histogram\n" in text
    assert b'fw_test_latency_seconds_bucket{app="x",le="0.25",zone="b"} 3.0\n' in text
    assert fams.get("fw_test_latency_seconds_count", {"zone": "b", "app": "x"}) == 4
    assert fams.get("fw_test_latency_seconds_sum", {"zone": "b", "app": "x"}) == 0.75
    assert fams.get("fw_test_latency_seconds_bucket", {"zone": "a", "app": "y", "le": "+Inf"}) == 0
    assert len(fams.samples("fw_test_latency_seconds_bucket")) == 6
    assert len(fams) == 1 + 2 * (3 + 2)
    with pytest.raises(ValueError, match="last bucket"):
        fams.add_histogram(spec, [(0.1, 1)], 0.1, "a", "y")
    with pytest.raises(ValueError, match="add_histogram"):
        fams.add(spec, 1, "a", "y")
