"""The one finishing step every dashboard goes through (YAML-rendered or grafanalib-built).

``normalize(dashboard, file, uid)`` returns a new dict: schemaVersion >= 39, the ``datasource``
variable (type datasource, query prometheus) first in the templating list, every panel and
target on ``${datasource}`` unless it names another datasource type, a unit on every data
panel, unique panel ids and query refIds, a gridPos on every panel (auto-placed when missing),
a stable uid, refresh / time defaults, and no Angular panel: ``graph``, ``singlestat`` and
``table-old`` are converted (``angular``), others are rejected.  Problems raise ``ConfigErrors``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from fleetwatch.dashboards import angular
from fleetwatch.dashboards.layout import Request, place
from fleetwatch.dashboards.model import Grid
from fleetwatch.errors import ConfigError, ConfigErrors

SCHEMA_VERSION = 39
DEFAULT_REFRESH = "30s"
DEFAULT_TIME = {"from": "now-6h", "to": "now"}
UID_MAX = 40
_UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
#: panel types that show no numbers (no unit needed)
UNITLESS = frozenset(
    {"row", "text", "alertlist", "dashlist", "news", "logs", "nodeGraph", "traces", "annolist"}
)
#: panel types that query no datasource
NO_DATA = frozenset({"row", "text", "alertlist", "dashlist", "news", "annolist", "welcome"})
_REF_LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)]


def prometheus() -> dict[str, str]:
    return {"type": "prometheus", "uid": "${datasource}"}


def datasource_variable() -> dict[str, Any]:
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "regex": "",
        "refresh": 1,
        "hide": 0,
        "options": [],
        "current": {},
        "skipUrlSync": False,
    }


def normalize(dashboard: dict[str, Any], file: str, uid: str) -> dict[str, Any]:
    d = copy.deepcopy(dashboard)
    errors: list[ConfigError] = []

    def fail(key: str, message: str) -> None:
        errors.append(ConfigError(file, message, None, key))

    if not isinstance(d.get("title"), str) or not d["title"].strip():
        fail("title", "the dashboard has no title")
    if d.get("rows"):
        fail("rows", "legacy 'rows' are not supported: use panels with gridPos (and Row panels)")
    for key in ("rows", "__inputs", "__requires"):
        d.pop(key, None)
    d["id"] = None
    d["uid"] = d.get("uid") or uid
    if not _UID.match(str(d["uid"])):
        fail("uid", f"invalid uid {d['uid']!r}: 1 to {UID_MAX} letters, digits, '-' or '_'")
    d["schemaVersion"] = max(SCHEMA_VERSION, int(d.get("schemaVersion") or 0))
    if not d.get("refresh") and d.get("refresh") != "":
        d["refresh"] = DEFAULT_REFRESH
    if not isinstance(d.get("time"), dict) or not d["time"].get("from"):
        d["time"] = dict(DEFAULT_TIME)
    d.setdefault("timezone", "browser")
    d.setdefault("annotations", {"list": []})
    d.setdefault("links", [])
    d.setdefault("tags", [])
    d["templating"] = {"list": _variables(d.get("templating"), fail)}
    d["panels"] = _panels(d.get("panels") or [], "panels", fail)
    _unique_ids(d["panels"])
    if errors:
        raise ConfigErrors(errors)
    return d


def _variables(templating: Any, fail: Any) -> list[dict[str, Any]]:
    variables = list((templating or {}).get("list") or [])
    found = [i for i, v in enumerate(variables) if v.get("name") == "datasource"]
    if not found:
        variables.insert(0, datasource_variable())
    elif variables[found[0]].get("type") != "datasource":
        fail(f"templating.list[{found[0]}]", "the variable 'datasource' must be of type datasource")
    else:
        variables.insert(0, datasource_variable() | variables.pop(found[0]) | {"hide": 0})
    for v in variables:
        if v.get("type") == "query":
            v["datasource"] = _datasource(v.get("datasource"), prometheus())
            if v.get("refresh") in (None, 0, 1):
                v["refresh"] = 2
    return variables


def _is_other(ds: Any) -> bool:
    """A datasource reference that is not Prometheus (Loki, Mixed, -- Grafana --...)."""
    return isinstance(ds, dict) and ds.get("type") not in (None, "", "prometheus")


def _datasource(ds: Any, inherited: dict[str, str]) -> dict[str, str]:
    if _is_other(ds):
        return dict(ds)
    if ds is None:
        return dict(inherited)
    return prometheus()


def _panels(panels: list[Any], key: str, fail: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, panel in enumerate(panels):
        where = f"{key}[{i}]"
        if not isinstance(panel, dict):
            fail(where, "a panel must be a mapping")
            continue
        name = f"panel {panel.get('title')!r} ({where})" if panel.get("title") else where
        try:
            panel = angular.convert(panel, name)
        except ValueError as exc:
            fail(where, str(exc))
            continue
        out.append(_panel(panel, where, name, fail))
    _grid(out, key, fail)
    return out


def _panel(p: dict[str, Any], where: str, name: str, fail: Any) -> dict[str, Any]:
    p = {k: v for k, v in p.items() if v is not None}
    kind = p.get("type", "")
    if kind == "row":
        p["panels"] = _panels(p.get("panels") or [], f"{where}.panels", fail)
        return p
    if not p.get("title") and kind != "text":
        fail(f"{where}.title", f"{name}: a {kind} panel needs a title")
    if kind in NO_DATA:
        return p
    p["datasource"] = _datasource(p.get("datasource"), prometheus())
    used: set[str] = set()
    targets = []
    for t in p.get("targets") or []:
        t = {k: v for k, v in t.items() if v is not None}
        t["datasource"] = _datasource(t.get("datasource"), p["datasource"])
        if not t.get("refId") or t["refId"] in used:
            t["refId"] = next(r for r in _refs() if r not in used)
        used.add(t["refId"])
        if t["datasource"]["type"] == "prometheus":
            _drop_legacy_target_keys(t)
        targets.append(t)
    p["targets"] = targets
    field_config = p.setdefault("fieldConfig", {})
    defaults = {k: v for k, v in (field_config.get("defaults") or {}).items() if v is not None}
    field_config["defaults"] = defaults
    field_config.setdefault("overrides", [])
    steps = (defaults.get("thresholds") or {}).get("steps")
    if not isinstance(steps, list) or not steps:
        defaults["thresholds"] = {"mode": "absolute", "steps": [{"color": "green", "value": None}]}
    if kind not in UNITLESS and not defaults.get("unit"):
        fail(
            f"{where}.fieldConfig.defaults.unit",
            f"{name} has no unit: set one (a Grafana unit id like percentunit, bytes, s, short)",
        )
    return p


def _drop_legacy_target_keys(t: dict[str, Any]) -> None:
    """grafanalib's Graphite-era defaults that a Prometheus query does not want."""
    for key, default in (("intervalFactor", 2), ("step", 10), ("metric", ""), ("target", "")):
        if t.get(key) == default:
            del t[key]
    if t.get("query") == t.get("expr"):
        t.pop("query", None)


def _refs() -> list[str]:
    return _REF_LETTERS + [a + b for a in _REF_LETTERS for b in _REF_LETTERS]


def _grid(panels: list[dict[str, Any]], key: str, fail: Any) -> None:
    requests = []
    for i, p in enumerate(panels):
        pos = p.get("gridPos") or {}
        grid = Grid(pos.get("x"), pos.get("y"), pos.get("w"), pos.get("h"))
        name = f"panel {p.get('title')!r} ({key}[{i}])" if p.get("title") else f"{key}[{i}]"
        requests.append(Request(p.get("type", ""), grid, name))
    boxes, problems = place(requests)
    for problem in problems:
        fail(f"{key}[{problem.index}].gridPos", problem.message)
    for p, box in zip(panels, boxes, strict=True):
        p["gridPos"] = {"x": box.x, "y": box.y, "w": box.w, "h": box.h}


def _unique_ids(panels: list[dict[str, Any]]) -> None:
    flat: list[dict[str, Any]] = []
    for p in panels:
        flat.append(p)
        flat.extend(p.get("panels") or [])
    seen: set[int] = set()
    fresh = max([p["id"] for p in flat if isinstance(p.get("id"), int)] + [0])
    for p in flat:
        pid = p.get("id")
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0 or pid in seen:
            fresh += 1
            p["id"] = pid = fresh
        seen.add(pid)
