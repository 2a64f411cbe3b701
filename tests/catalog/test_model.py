"""Catalog lookups: sample names back to families, globs, claims, did-you-mean."""

from __future__ import annotations

from fleetwatch.catalog import Catalog, Metric


def _cat() -> Catalog:
    return Catalog.of(
        [
            Metric("http_request_duration_seconds", "histogram", source="app"),
            Metric("rpc_latency_seconds", "summary", source="app"),
            Metric("jobs", "counter", source="app"),  # OpenMetrics: family without _total
            Metric("errors_total", "counter", source="app"),  # text format: with _total
            Metric("build", "info", source="app"),
            Metric("queue_depth", "gauge", source="app"),
            Metric("app_status_*", "gauge", source="app"),
            Metric("app_status_special", "counter", source="app"),
            Metric("old_name", "gauge", source="app", deprecated="renamed to queue_depth"),
        ],
        {"app_": "app", "queue_": "app"},
    )


def test_histogram_parts_resolve_to_the_family_and_behave_as_counters() -> None:
    cat = _cat()
    for part in ("_bucket", "_sum", "_count"):
        metric = cat.lookup(f"http_request_duration_seconds{part}")
        assert metric is not None and metric.name == "http_request_duration_seconds"
        assert cat.sample_type(f"http_request_duration_seconds{part}") == "counter"
    assert cat.lookup("http_request_duration_seconds_total") is None
    assert cat.lookup("http_request_duration_seconds_created") is not None


def test_summary_quantiles_are_gauges_and_its_sum_count_counters() -> None:
    cat = _cat()
    assert cat.sample_type("rpc_latency_seconds") == "gauge"
    assert cat.sample_type("rpc_latency_seconds_sum") == "counter"
    assert cat.sample_type("rpc_latency_seconds_count") == "counter"
    assert cat.lookup("rpc_latency_seconds_bucket") is None


def test_counters_with_and_without_total() -> None:
    cat = _cat()
    assert cat.lookup("jobs_total") is not None and cat.sample_type("jobs_total") == "counter"
    assert cat.sample_type("errors_total") == "counter"
    assert cat.lookup("errors_total_total") is None
    assert cat.lookup("queue_depth_total") is None  # a gauge has no _total sample


def test_info_and_gauge() -> None:
    cat = _cat()
    assert cat.lookup("build_info") is not None
    assert cat.sample_type("build_info") == "gauge"
    assert cat.sample_type("queue_depth") == "gauge"
    assert cat.sample_type("nothing_here") is None


def test_exact_names_before_globs() -> None:
    cat = _cat()
    exact = cat.lookup("app_status_special")
    assert exact is not None and exact.type == "counter"
    glob = cat.lookup("app_status_anything")
    assert glob is not None and glob.name == "app_status_*"
    assert cat.lookup("app_other") is None


def test_claims_take_the_longest_prefix() -> None:
    cat = _cat().merge(Catalog.of([Metric("app_x_y", "gauge", source="sub")], {"app_x_": "sub"}))
    assert cat.claimed_by("app_x_z") == "sub"
    assert cat.claimed_by("app_y") == "app"
    assert cat.claimed_by("other_metric") is None


def test_suggest_from_the_claiming_catalog_only() -> None:
    cat = _cat().merge(Catalog.of([Metric("queue_depthh_other", "gauge", source="elsewhere")]))
    assert cat.suggest("queue_dept") == ["queue_depth"]
    assert cat.suggest("unclaimed_depth") == []
    assert "old_name" not in cat.suggest("old_nam")  # deprecated names are not suggested


def test_merge_len_names_and_deprecated() -> None:
    a = Catalog.of([Metric("a_one", "gauge", source="a")], ["a_"])
    b = Catalog.of([Metric("b_one", "counter", source="b")], ["b_"])
    both = a.merge(b)
    assert len(both) == 2 and both.names() == ["a_one", "b_one"]
    assert both.namespaces == {"a_": "a", "b_": "b"}
    assert len(a) == 1  # merge builds a new catalog
    old = _cat().lookup("old_name")
    assert old is not None and old.deprecated == "renamed to queue_depth"
    # a current declaration wins over a deprecated one of the same name, in either order
    cur = Catalog.of([Metric("x", "gauge")])
    dep = Catalog.of([Metric("x", "gauge", deprecated="gone")])
    assert cur.merge(dep).lookup("x").deprecated == ""  # type: ignore[union-attr]
    assert dep.merge(cur).lookup("x").deprecated == ""  # type: ignore[union-attr]
