"""User catalogs: YAML lists and saved /metrics texts; hostile input is a file:line error."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.catalog import load_catalog
from fleetwatch.catalog.exposition import parse_families
from fleetwatch.errors import ConfigError

PROM_TEXT = """\
# HELP app_requests_total Requests.
# TYPE app_requests_total counter
app_requests_total{code="200",path="/"} 3
app_requests_total{code="500",path="/"} 1
# HELP app_latency_seconds Latency.
# TYPE app_latency_seconds histogram
app_latency_seconds_bucket{le="0.1"} 1
app_latency_seconds_bucket{le="+Inf"} 2
app_latency_seconds_sum 0.3
app_latency_seconds_count 2
# TYPE app_rpc_seconds summary
app_rpc_seconds{quantile="0.5"} 0.1
app_rpc_seconds_sum 1
app_rpc_seconds_count 3
app_untyped_thing{a="x \\" y"} 7 1700000000000
"""

OPENMETRICS = """\
# TYPE jobs counter
# HELP jobs Jobs done.
jobs_total 4
jobs_created 1.7e9
# TYPE build info
build_info{version="1.2"} 1
# TYPE temp gauge
# UNIT temp celsius
temp 21.5
# TYPE lat histogram
lat_bucket{le="0.5"} 3 # {trace_id="a{b}c"} 0.2 1.7e9
lat_bucket{le="+Inf"} 4
lat_count 4
lat_sum 1.1
# TYPE odd unknown
odd{x="1"} 2
# EOF
"""


def _write(tmp_path: Path, text: str, name: str = "cat.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_prometheus_text_format(tmp_path: Path) -> None:
    cat = load_catalog(_write(tmp_path, PROM_TEXT, "app.prom"))
    assert cat.names() == [
        "app_latency_seconds",
        "app_requests_total",
        "app_rpc_seconds",
        "app_untyped_thing",
    ]
    assert cat.sample_type("app_requests_total") == "counter"
    assert cat.sample_type("app_latency_seconds_bucket") == "counter"
    assert cat.sample_type("app_rpc_seconds") == "gauge"
    assert cat.sample_type("app_untyped_thing") == "untyped"
    req = cat.lookup("app_requests_total")
    assert req is not None and req.labels == {"code", "path"} and req.help == "Requests."
    hist = cat.lookup("app_latency_seconds")
    assert hist is not None and hist.labels == frozenset()  # le is not a label of the family
    assert cat.namespaces == {}


def test_openmetrics(tmp_path: Path) -> None:
    cat = load_catalog(_write(tmp_path, OPENMETRICS, "app.txt"))
    assert cat.names() == ["build", "jobs", "lat", "odd", "temp"]
    assert cat.sample_type("lat_bucket") == "counter"  # the exemplar's braces are not labels
    assert cat.sample_type("odd") == "untyped"
    assert cat.sample_type("jobs_total") == "counter"
    assert cat.lookup("jobs_created") is not None
    assert cat.sample_type("build_info") == "gauge"


def test_yaml_catalog_with_globs_and_namespaces(tmp_path: Path) -> None:
    text = """\
name: shop
namespaces: [shop_]
metrics:
  - {name: shop_orders_total, type: counter, help: Orders.}
  - {name: shop_cart_*, type: gauge}
  - name: shop_checkout_seconds
    type: histogram
"""
    cat = load_catalog(_write(tmp_path, text))
    assert cat.claimed_by("shop_anything") == "shop"
    assert cat.sample_type("shop_cart_items") == "gauge"
    assert cat.sample_type("shop_checkout_seconds_count") == "counter"
    assert cat.suggest("shop_order_total") == ["shop_orders_total"]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("metrics:\n  - {name: ok, type: gauge}\n  - {name: x, type: meter}\n", 3, "type must"),
        (
            "metrics:\n  - {name: ok, type: gauge}\n  - {name: '9bad', type: gauge}\n",
            3,
            "bad metric",
        ),
        ("metrics:\n  - {name: ok, typo: gauge}\n", 2, "unknown key"),
        ("metrics:\n  - just a string\n", 2, "a metric is a mapping"),
        ("metrics: {a: 1}\n", 1, "must be a list"),
        ("namespaces: [nope]\nmetrics: []\n", 1, "namespaces"),
        ("metrics:\n  - {name: a, type: gauge\n", 3, ""),
        ("metrics:\n  - {name: a, labels: [1, 2]}\n", 2, "labels"),
        ("- just\n- a list\n", 1, "a catalog is a mapping"),
    ],
)
def test_bad_yaml_names_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_catalog(path)
    assert err.value.file == str(path)
    assert err.value.line == line, err.value.message
    assert words in err.value.message


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("# TYPE a gauge\na 1\n# TYPE b weird\n", 3, "unknown metric type"),
        ("# TYPE a gauge\na{x=1} 1\n", 2, "malformed label"),
        ('# TYPE a gauge\na{x="1" 1\n', 2, "not closed"),
        ("# TYPE a gauge\na\n", 2, "has no value"),
        ('# TYPE a gauge\n{x="1"} 1\n', 2, "not a sample"),
        ("# HELP 1a help\n", 1, "bad metric name"),
    ],
)
def test_bad_exposition_names_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = _write(tmp_path, text, "page.prom")
    with pytest.raises(ConfigError) as err:
        load_catalog(path)
    assert err.value.line == line, err.value.message
    assert words in err.value.message


def test_hostile_files_are_refused_in_bounded_time(tmp_path: Path) -> None:
    big = tmp_path / "big.prom"
    with big.open("wb") as fh:
        fh.truncate(33 * 1024 * 1024)
    with pytest.raises(ConfigError, match="larger than 32 MiB"):
        load_catalog(big)
    nul = _write(tmp_path, "# TYPE a gauge\na 1\x00\n", "nul.prom")
    with pytest.raises(ConfigError, match="NUL"):
        load_catalog(nul)
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)
    )
    with pytest.raises(ConfigError):
        load_catalog(_write(tmp_path, bomb + "metrics: []\n", "bomb.yaml"))
    with pytest.raises(ConfigError, match="not found"):
        load_catalog(tmp_path / "missing.yaml")


def test_many_families_stay_bounded() -> None:
    text = "".join(f"m{i} 1\n" for i in range(20))
    assert len(parse_families(text, "f")) == 20


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet='#{}="\\ ,abcxyz_01.\t', max_size=40),
            st.sampled_from(
                [
                    "# TYPE a histogram",
                    "# TYPE a counter",
                    'a_bucket{le="1"} 1',
                    "# HELP a x",
                    "# EOF",
                    'a{b="c"} 1 # {t="1"} 2',
                ]
            ),
        ),
        max_size=20,
    )
)
def test_any_exposition_text_gives_a_catalog_or_a_config_error(lines: list[str]) -> None:
    try:
        parse_families("\n".join(lines), "page")
    except ConfigError as exc:
        assert exc.file == "page" and exc.line
