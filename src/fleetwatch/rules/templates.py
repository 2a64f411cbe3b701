"""Prometheus alert templates: the subset fleetwatch expands itself for generated tests.

promtool compares expanded annotations exactly, so the generated tests must know what
``{{ $value | humanizePercentage }}`` becomes.  Supported actions (anything else is a build
error naming the annotation)::

    {{ $labels.NAME }}   {{ .Labels.NAME }}   {{ $value }}   {{ .Value }}
    {{ $value | humanize }}  humanize1024  humanizePercentage   (or `humanize $value`)
    {{ printf "%.2f" $value }}   {{ $value | printf "%.2f" }}   (any %.Nf / %.Ng / %d-free verb)

The number formats follow Go's ``fmt`` (``%v`` = shortest digits, exponent from 1e+06).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal

ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_LABEL = re.compile(r"^(?:\$labels|\.Labels)\.([a-zA-Z_][a-zA-Z0-9_]*)$")
_VALUE = r"(?:\$value|\.Value)"
_PIPE = re.compile(rf"^{_VALUE}\s*\|\s*(\w+)$")
_CALL = re.compile(rf"^(\w+)\s+{_VALUE}$")
_PRINTF = re.compile(rf'^printf\s+"(%[-+ 0#]*\d*(?:\.\d+)?[fgeG])"\s+{_VALUE}$')
_PRINTF_PIPE = re.compile(rf'^{_VALUE}\s*\|\s*printf\s+"(%[-+ 0#]*\d*(?:\.\d+)?[fgeG])"$')
FUNCTIONS = ("humanize", "humanize1024", "humanizePercentage")


class UnsupportedTemplate(ValueError):
    """An action fleetwatch cannot expand; the message names it."""


def _special(v: float) -> str | None:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return None


def go_value(v: float) -> str:
    """``fmt.Sprint(v)`` of a float64: shortest digits, %e when exp < -4 or exp >= 6."""
    if (s := _special(v)) is not None:
        return s
    if v == 0:
        return "-0" if math.copysign(1, v) < 0 else "0"
    sign, digits, exponent = Decimal(repr(v)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).rstrip("0") or "0"
    exponent += len(digits) - len(text)
    point = len(text) + exponent  # digits before the decimal point
    exp = point - 1
    neg = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mant = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{neg}{mant}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{text}"
    if point >= len(text):
        return f"{neg}{text}{'0' * (point - len(text))}"
    return f"{neg}{text[:point]}.{text[point:]}"


def go_printf(verb: str, v: float) -> str:
    """``fmt.Sprintf(verb, v)`` for the float verbs %f %g %e (Go and C agree on these)."""
    if (s := _special(v)) is not None:
        return s
    return verb % v


def humanize(v: float) -> str:
    if v == 0 or _special(v) is not None:
        return go_printf("%.4g", v)
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
    else:
        for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
            if abs(v) >= 1:
                break
            prefix, v = p, v * 1000
    return go_printf("%.4g", v) + prefix


def humanize1024(v: float) -> str:
    if abs(v) <= 1 or _special(v) is not None:
        return go_printf("%.4g", v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix, v = p, v / 1024
    return go_printf("%.4g", v) + prefix


def humanize_percentage(v: float) -> str:
    return go_printf("%.4g", v * 100) + "%"


_FUNCS = {
    "humanize": humanize,
    "humanize1024": humanize1024,
    "humanizePercentage": humanize_percentage,
}


def _action(body: str, labels: Mapping[str, str], value: float) -> str:
    if m := _LABEL.match(body):
        return labels.get(m.group(1), "")
    if re.fullmatch(_VALUE, body):
        return go_value(value)
    if (m := _PIPE.match(body) or _CALL.match(body)) and m.group(1) in _FUNCS:
        return _FUNCS[m.group(1)](value)
    if m := _PRINTF.match(body) or _PRINTF_PIPE.match(body):
        return go_printf(m.group(1), value)
    raise UnsupportedTemplate(
        f"template action {{{{ {body} }}}} cannot be expanded for the generated tests; use "
        "$labels.NAME, $value, $value | humanize / humanize1024 / humanizePercentage or "
        'printf "%.2f" $value'
    )


def check(template: str) -> None:
    """Raise ``UnsupportedTemplate`` if ``template`` has an action outside the subset."""
    expand(template, {}, 1.0)


def expand(template: str, labels: Mapping[str, str], value: float) -> str:
    """``template`` as Prometheus renders it for an alert with ``labels`` and ``value``."""
    return ACTION.sub(lambda m: _action(m.group(1), labels, value), template)


def has_template(text: str) -> bool:
    return "{{" in text
