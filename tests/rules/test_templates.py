"""The template subset expanded for generated tests follows Go's formatting."""

from __future__ import annotations

import pytest

from fleetwatch.rules.templates import UnsupportedTemplate, expand, go_value


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.9, "0.9"), (100.0, "100"), (123456.0, "123456"), (1234567.0, "1.234567e+06"),
     (1e-05, "1e-05"), (0.0001, "0.0001"), (-2.5, "-2.5"), (float("nan"), "NaN")],
)  # fmt: skip
def test_go_value(value: float, text: str) -> None:
    assert go_value(value) == text


def test_expand() -> None:
    t = (
        "{{ $labels.instance }} {{ $value | humanizePercentage }} {{ humanize $value }} "
        '{{ $value | humanize1024 }} {{ printf "%.2f" $value }} {{.Labels.job}}'
    )
    assert expand(t, {"instance": "a", "job": "j"}, 1536.0) == "a 1.536e+05% 1.536k 1.5ki 1536.00 j"


def test_unsupported() -> None:
    with pytest.raises(UnsupportedTemplate):
        expand("{{ range $labels }}x{{ end }}", {}, 1.0)
