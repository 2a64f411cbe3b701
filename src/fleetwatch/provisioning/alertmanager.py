"""Alertmanager as code: ``alerting.yaml`` (receivers, routing policy) → ``alertmanager.yml``.

Pipeline: read → YAML with positions (``yamlpos``) → inline secrets refused → JSON Schema
(``alerting_schema.json``) → semantic checks (every receiver named exists, overrides unique) →
``AlertingSpec`` → ``render`` (a plain dict) → ``write_yaml`` (deterministic bytes).

The route tree: overrides first (one child route per ``match`` block, in file order, each with
its own severity split), then one route per severity; the root receives alerts without a known
severity.  ``route_expectations`` states, from the declared intent alone, which receivers each
(severity, override labels) pair must reach; ``fleetwatch validate`` proves them with
``amtool config routes test``.  The format is documented at the top of ``alerting.yaml``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator

from fleetwatch.config.findings import Findings, string_keys
from fleetwatch.config.inputs import read_input
from fleetwatch.config.schema import schema_messages
from fleetwatch.config.secrets import check_secrets, secret_key
from fleetwatch.config.writers import write_yaml
from fleetwatch.config.yamlpos import Document, JsonPath, load_yaml
from fleetwatch.layout import ALERTMANAGER_CONFIG

SEVERITIES = ("critical", "warning", "info")
NULL_RECEIVER = "null"
DEFAULT_GROUP_BY = ("alertname", "deployment", "instance")
DEFAULT_TIMING = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}
DEFAULT_RESOLVE_TIMEOUT = "5m"
DEFAULT_PRIORITIES = {"critical": "P1", "warning": "P3", "info": "P5", "default": "P3"}
DEFAULT_INHIBIT_EQUAL = ("alertname", "instance")
DEFAULT_HOST_DOWN_ALERT = "HostDown"
TIMING_KEYS = ("group_wait", "group_interval", "repeat_interval")
#: where `fleetwatch up` runs its alert inbox unless the inventory's stack.inbox says otherwise
DEFAULT_INBOX = "127.0.0.1:9719"
INBOX_PATH = "/alerts"

#: keys whose value would be a secret written inline; the ``*_file`` form is required
SECRET_KEYS = frozenset(
    {"password", "secret", "token", "api_key", "routing_key", "service_key", "credentials"}
)
SECRET_SUFFIXES = ("_password", "_secret", "_token", "_key")

_FIRST = "(index .Alerts 0)"
_PD_SEVERITY = (
    '{{ if eq .CommonLabels.severity "critical" "error" "warning" "info" }}'
    "{{ .CommonLabels.severity }}{{ else }}critical{{ end }}"
)
_SUMMARY = f"{{{{ {_FIRST}.Annotations.summary }}}}"
_DESCRIPTION = f"{{{{ {_FIRST}.Annotations.description }}}}"


# --------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class Override:
    """A child route for alerts carrying every label of ``match`` (e.g. ``team: database``)."""

    match: Mapping[str, str]
    receivers: Mapping[str, str]  # severity (and "default") → receiver, fully resolved
    continue_: bool
    options: Mapping[str, Any]  # group_by / timing overrides, as given
    line: int


@dataclass(frozen=True)
class AlertingSpec:
    """A validated ``alerting.yaml``; every receiver reference resolved (``null`` = nobody)."""

    file: str
    receivers: Mapping[str, Mapping[str, Any]]
    routing: Mapping[str, str]  # critical / warning / info / default → receiver
    overrides: tuple[Override, ...]
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY
    timing: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TIMING))
    resolve_timeout: str = DEFAULT_RESOLVE_TIMEOUT
    critical_mutes_warning: bool = True
    inhibit_equal: tuple[str, ...] = DEFAULT_INHIBIT_EQUAL
    host_down_alert: str | None = DEFAULT_HOST_DOWN_ALERT
    #: ``inhibit.dependency_down_alerts``: replaces the rules' ``down: true`` alerts if given
    dependency_down_alerts: tuple[str, ...] | None = None
    lines: Mapping[str, int] = field(default_factory=dict)  # "routing.critical" → line
    #: receivers that get every alert first, whatever its labels (``copy_to``)
    copy_to: tuple[str, ...] = ()

    def receivers_for(self, labels: Mapping[str, str]) -> list[str]:
        """The receivers an alert with ``labels`` must reach, in route order (the intent)."""
        severity = labels.get("severity", "")
        key = severity if severity in SEVERITIES else "default"
        out: list[str] = list(self.copy_to)
        for o in self.overrides:
            if all(labels.get(k) == v for k, v in o.match.items()):
                out.append(o.receivers[key])
                if not o.continue_:
                    return out
        return [*out, self.routing[key]]


@dataclass(frozen=True)
class RouteExpectation:
    """Labels of a test alert and the receivers (in order) it must be routed to."""

    labels: Mapping[str, str]
    receivers: tuple[str, ...]
    line: int
    key: str


# --------------------------------------------------------------------------- public API


def build_alertmanager(
    alerting_yaml: Path,
    out_dir: Path,
    inbox: str = DEFAULT_INBOX,
    dependencies: Sequence[tuple[str, str]] = (),
    down_alerts: Sequence[str] = (),
    mute_by_label: Sequence[tuple[str, str]] = (),
) -> list[Path]:
    """Compile ``alerting_yaml`` into ``out_dir/alertmanager.yml``; ConfigErrors on bad input.
    ``inbox`` is the host:port of the local inbox that ``inbox:`` receivers post to;
    ``dependencies`` the inventory's ``(dependent, dependency)`` edges and ``down_alerts``
    the built rules' alerts marked ``down: true`` (inhibit rules; alerting.yaml's
    ``inhibit.dependency_down_alerts`` replaces them); ``mute_by_label`` ``(alert, label)``
    pairs: while the alert fires, the down alerts with its value of the label are muted (the
    scale-out's ExporterDown and ``exporter``), appended last."""
    spec = load_alerting(alerting_yaml)
    document = render(spec, inbox)
    down = down_alerts if spec.dependency_down_alerts is None else spec.dependency_down_alerts
    document["inhibit_rules"] += dependency_inhibit_rules(dependencies, down)
    document["inhibit_rules"] += label_inhibit_rules(mute_by_label, down)
    path = write_yaml(out_dir / ALERTMANAGER_CONFIG, document, alerting_yaml.name)
    return [path]


def expected_routes(alerting_yaml: Path) -> list[tuple[dict[str, str], list[str]]]:
    """(labels, receivers) for every severity, alone and with each override's labels."""
    return [(dict(e.labels), list(e.receivers)) for e in route_expectations(alerting_yaml)]


def route_expectations(source: Path | AlertingSpec) -> list[RouteExpectation]:
    """``expected_routes`` with the alerting.yaml line and key each expectation comes from."""
    spec = source if isinstance(source, AlertingSpec) else load_alerting(source)
    out: list[RouteExpectation] = []
    for severity in SEVERITIES:
        labels = {"severity": severity}
        key = f"routing.{severity}"
        out.append(_expect(spec, labels, spec.lines.get(key, 1), key))
    for index, o in enumerate(spec.overrides):
        for severity in SEVERITIES:
            labels = {"severity": severity, **o.match}
            out.append(_expect(spec, labels, o.line, f"overrides[{index}].{severity}"))
    return out


def _expect(spec: AlertingSpec, labels: dict[str, str], line: int, key: str) -> RouteExpectation:
    return RouteExpectation(labels, tuple(spec.receivers_for(labels)), line, key)


def load_alerting(path: Path) -> AlertingSpec:
    """Read and validate ``path``: ConfigError (unreadable) or ConfigErrors (every problem)."""
    name = str(path)
    return alerting_from_text(read_input(name, "alerting file"), name)


def alerting_from_text(text: str, file: str = "<string>") -> AlertingSpec:
    doc = load_yaml(text, file)
    problems = _Problems(file, doc)
    data = doc.data
    if not isinstance(data, dict):
        problems.add((), "expected a mapping with version: 1, receivers: and routing:")
        raise problems.error()
    data = string_keys(data, (), problems)
    check_secrets(data, (), problems, _is_secret, _INSTEAD)
    for error in _validator().iter_errors(data):
        for path, message in schema_messages(error, skip_key=_is_secret):
            problems.add(path, message)
    if not problems:
        _check_references(data, problems)
    if problems:
        raise problems.error()
    return _spec(file, data, doc)


# --------------------------------------------------------------------------- validation


_Problems = Findings  # file:line:key problems of alerting.yaml


_secret_word = secret_key(SECRET_KEYS, SECRET_SUFFIXES)
_INSTEAD = "give the file holding it ({key}_file, e.g. /etc/alertmanager/secrets/<name>.key)"


def _is_secret(path: JsonPath, key: str) -> bool:
    if _secret_word(path, key):
        return True
    # a Slack webhook URL is the credential itself
    return key.lower() in ("api_url", "webhook_url", "url") and bool(path) and path[-1] == "slack"


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of alerting.yaml v1."""
    pkg = resources.files("fleetwatch.provisioning")
    text = pkg.joinpath("alerting_schema.json").read_text("utf-8")
    return cast(dict[str, Any], json.loads(text))


@cache
def _validator() -> Any:
    return Draft202012Validator(schema())


def _check_references(data: dict[str, Any], problems: _Problems) -> None:
    declared = list(data["receivers"])

    def ref(value: Any, path: JsonPath) -> None:
        if value is None or value == NULL_RECEIVER or value in declared:
            return
        close = difflib.get_close_matches(str(value), declared, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"declared: {', '.join(declared)}"
        problems.add(path, f"unknown receiver {value!r} (null sends nowhere); {hint}")

    for key, value in data["routing"].items():
        ref(value, ("routing", key))
    for i, value in enumerate(data.get("copy_to") or []):
        ref(value, ("copy_to", i))
    for name, integrations in data["receivers"].items():
        hook = integrations.get("webhook") if isinstance(integrations, dict) else None
        if isinstance(hook, dict) and "@" in urlsplit(str(hook.get("url", ""))).netloc:
            problems.add(
                ("receivers", name, "webhook", "url"),
                "credentials in the URL are not allowed: give username and password_file, "
                "or bearer_token_file",
            )
        if isinstance(hook, dict) and "bearer_token_file" in hook and "password_file" in hook:
            problems.add(
                ("receivers", name, "webhook"),
                "bearer_token_file and password_file exclude each other: give one",
            )
        if isinstance(hook, dict) and ("username" in hook) != ("password_file" in hook):
            problems.add(
                ("receivers", name, "webhook"),
                "basic auth needs both username and password_file",
            )
    seen: dict[str, int] = {}
    for i, o in enumerate(data.get("overrides") or []):
        for key in (*SEVERITIES, "default"):
            if key in o:
                ref(o[key], ("overrides", i, key))
        ident = json.dumps(o["match"], sort_keys=True)
        if ident in seen:
            problems.add(
                ("overrides", i, "match"),
                f"the same match as overrides[{seen[ident]}]: this override would never be used",
            )
        seen.setdefault(ident, i)


# --------------------------------------------------------------------------- building the spec


def _ref(value: Any) -> str:
    return NULL_RECEIVER if value is None else str(value)


def _spec(file: str, data: dict[str, Any], doc: Document) -> AlertingSpec:
    routing = {s: _ref(data["routing"][s]) for s in SEVERITIES}
    routing["default"] = (
        _ref(data["routing"]["default"]) if "default" in data["routing"] else routing["warning"]
    )
    overrides = []
    for i, o in enumerate(data.get("overrides") or []):
        cont = bool(o.get("continue", False))
        # with continue the default routing still notifies, so an unnamed severity adds nobody
        fallback = {k: NULL_RECEIVER if cont else v for k, v in routing.items()}
        receivers = {k: _ref(o[k]) if k in o else fallback[k] for k in routing}
        options = {k: o[k] for k in ("group_by", *TIMING_KEYS) if k in o}
        line = doc.line(("overrides", i, "match"))
        overrides.append(Override(dict(o["match"]), receivers, cont, options, line))
    defaults = data.get("defaults") or {}
    inhibit = data.get("inhibit") or {}
    lines = {f"routing.{s}": doc.line(("routing", s)) for s in SEVERITIES}
    return AlertingSpec(
        file=file,
        receivers=data["receivers"],
        routing=routing,
        overrides=tuple(overrides),
        group_by=tuple(defaults.get("group_by", DEFAULT_GROUP_BY)),
        timing={k: defaults.get(k, v) for k, v in DEFAULT_TIMING.items()},
        resolve_timeout=defaults.get("resolve_timeout", DEFAULT_RESOLVE_TIMEOUT),
        critical_mutes_warning=inhibit.get("critical_mutes_warning", True),
        inhibit_equal=tuple(inhibit.get("equal", DEFAULT_INHIBIT_EQUAL)),
        host_down_alert=inhibit.get("host_down_alert", DEFAULT_HOST_DOWN_ALERT),
        dependency_down_alerts=(
            tuple(inhibit["dependency_down_alerts"])
            if "dependency_down_alerts" in inhibit
            else None
        ),
        lines=lines,
        copy_to=tuple(data.get("copy_to") or ()),
    )


# --------------------------------------------------------------------------- rendering


def matcher(name: str, value: str, op: str = "=") -> str:
    """An Alertmanager matcher string with the value quoted: ``team="database"``."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{name}{op}"{escaped}"'


def render(spec: AlertingSpec, inbox: str = DEFAULT_INBOX) -> dict[str, Any]:
    """The alertmanager.yml document (plain data, insertion-ordered for stable output)."""
    return {
        "global": {"resolve_timeout": spec.resolve_timeout},
        "route": _root_route(spec),
        "inhibit_rules": _inhibit_rules(spec),
        "receivers": _receivers(spec, inbox),
    }


def _severity_routes(receivers: Mapping[str, str]) -> list[dict[str, Any]]:
    return [{"receiver": receivers[s], "matchers": [matcher("severity", s)]} for s in SEVERITIES]


def _root_route(spec: AlertingSpec) -> dict[str, Any]:
    # a copy of every alert first: no matchers, and the walk goes on to the routes below
    routes: list[dict[str, Any]] = [{"receiver": r, "continue": True} for r in spec.copy_to]
    for o in spec.overrides:
        route: dict[str, Any] = {
            "receiver": o.receivers["default"],
            "matchers": [matcher(k, v) for k, v in o.match.items()],
        }
        if o.continue_:
            route["continue"] = True
        if "group_by" in o.options:
            route["group_by"] = list(o.options["group_by"])
        route.update({k: o.options[k] for k in TIMING_KEYS if k in o.options})
        route["routes"] = _severity_routes(o.receivers)
        routes.append(route)
    routes += _severity_routes(spec.routing)
    if spec.copy_to or any(o.continue_ for o in spec.overrides):
        # a route that matched with continue would keep the root receiver from alerts
        # without a known severity: name it as the last, catch-all route
        routes.append({"receiver": spec.routing["default"]})
    return {
        "receiver": spec.routing["default"],
        "group_by": list(spec.group_by),
        **{k: spec.timing[k] for k in TIMING_KEYS},
        "routes": routes,
    }


def _inhibit_rules(spec: AlertingSpec) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    if spec.host_down_alert:
        # the host is down: everything else about that instance is a consequence
        rules.append(
            {
                "source_matchers": [matcher("alertname", spec.host_down_alert)],
                "target_matchers": [matcher("alertname", spec.host_down_alert, "!=")],
                "equal": ["instance"],
            }
        )
    if spec.critical_mutes_warning:
        rules.append(
            {
                "source_matchers": [matcher("severity", "critical")],
                "target_matchers": [matcher("severity", "warning")],
                "equal": list(spec.inhibit_equal),
            }
        )
    return rules


def label_inhibit_rules(
    mutes: Sequence[tuple[str, str]], down_alerts: Sequence[str]
) -> list[dict[str, Any]]:
    """One rule per ``(alert, label)``: while ``alert`` fires, the down alerts carrying the same
    (non-empty) value of ``label`` are muted; the alert itself pages.  No down alert, no rule."""
    if not down_alerts:
        return []
    down = "|".join(sorted(set(down_alerts)))
    return [
        {
            "source_matchers": [matcher("alertname", alert)],
            "target_matchers": [matcher("alertname", down, "=~"), matcher(label, "", "!=")],
            "equal": [label],
        }
        for alert, label in mutes
    ]


def dependency_inhibit_rules(
    edges: Sequence[tuple[str, str]], down_alerts: Sequence[str]
) -> list[dict[str, Any]]:
    """One rule per dependency: while one of its down alerts fires, every alert of the
    targets that depend on it is muted.  The dependency's own alerts are not (the target
    matchers name only its dependents), so the cause keeps paging; ``equal`` is empty as the
    two sides are different instances.  No down alert, no rule (nothing could fire one)."""
    if not down_alerts:
        return []
    dependents: dict[str, set[str]] = {}
    for dependent, dependency in edges:
        dependents.setdefault(dependency, set()).add(dependent)
    down = "|".join(sorted(set(down_alerts)))
    return [
        {
            "source_matchers": [matcher("alertname", down, "=~"), matcher("instance", dep)],
            "target_matchers": [
                matcher("instance", "|".join(_literal(n) for n in sorted(dependents[dep])), "=~")
            ],
        }
        for dep in sorted(dependents)
    ]


def _literal(name: str) -> str:
    """An inventory name (letters, digits, ``.``, ``_``, ``-``) as a regex matching only it."""
    return name.replace(".", r"\.")


def _receivers(spec: AlertingSpec, inbox: str) -> list[dict[str, Any]]:
    used = {
        *spec.routing.values(),
        *spec.copy_to,
        *(r for o in spec.overrides for r in o.receivers.values()),
    }
    out: list[dict[str, Any]] = []
    if NULL_RECEIVER in used:
        out.append({"name": NULL_RECEIVER})  # no integration: notifies nobody
    for name, integrations in spec.receivers.items():
        receiver: dict[str, Any] = {"name": name}
        if "pagerduty" in integrations:
            receiver["pagerduty_configs"] = [_pagerduty(integrations["pagerduty"])]
        if "opsgenie" in integrations:
            receiver["opsgenie_configs"] = [_opsgenie(integrations["opsgenie"])]
        if "slack" in integrations:
            receiver["slack_configs"] = [_slack(integrations["slack"])]
        hooks = []
        if "inbox" in integrations:  # fleetwatch up's own webhook receiver
            url = f"http://{inbox}{INBOX_PATH}"
            hooks.append(_webhook({**integrations["inbox"], "url": url}))
        if "webhook" in integrations:
            hooks.append(_webhook(integrations["webhook"]))
        if hooks:
            receiver["webhook_configs"] = hooks
        if "email" in integrations:
            receiver["email_configs"] = [_email(integrations["email"])]
        out.append(receiver)
    return out


def _link(name: str) -> str:
    """The first alert's annotation ``name``, else Alertmanager's URL: never an empty href."""
    first = f"{_FIRST}.Annotations.{name}"
    return f"{{{{ with {first} }}}}{{{{ . }}}}{{{{ else }}}}{{{{ .ExternalURL }}}}{{{{ end }}}}"


def _details(extra: Mapping[str, str]) -> dict[str, str]:
    details = {
        "alertname": "{{ .CommonLabels.alertname }}",
        "severity": "{{ .CommonLabels.severity }}",
        "deployment": "{{ .CommonLabels.deployment }}",
        "instance": "{{ .CommonLabels.instance }}",
        "summary": _SUMMARY,
        "description": _DESCRIPTION,
        "runbook_url": f"{{{{ {_FIRST}.Annotations.runbook_url }}}}",
        "dashboard_url": f"{{{{ {_FIRST}.Annotations.dashboard_url }}}}",
    }
    return details | dict(extra)


def _pagerduty(cfg: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"routing_key_file": cfg["routing_key_file"]}
    if "url" in cfg:
        out["url"] = cfg["url"]
    out["send_resolved"] = cfg.get("send_resolved", True)
    for key in ("client", "client_url"):
        if key in cfg:
            out[key] = cfg[key]
    out["severity"] = _PD_SEVERITY
    out["description"] = f'{{{{ template "__subject" . }}}} {_SUMMARY}'
    out["links"] = [
        {"href": _link("runbook_url"), "text": "Runbook"},
        {"href": _link("dashboard_url"), "text": "Dashboard"},
    ]
    out["details"] = _details(cfg.get("details", {}))
    return out


def _priority(priorities: Mapping[str, str]) -> str:
    p = DEFAULT_PRIORITIES | dict(priorities)
    branches = "".join(
        f'{{{{ {"if" if i == 0 else "else if"} eq .CommonLabels.severity "{s}" }}}}{p[s]}'
        for i, s in enumerate(SEVERITIES)
    )
    return f"{branches}{{{{ else }}}}{p['default']}{{{{ end }}}}"


def _opsgenie(cfg: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"api_key_file": cfg["api_key_file"]}
    if "api_url" in cfg:
        out["api_url"] = cfg["api_url"]
    out["send_resolved"] = cfg.get("send_resolved", True)
    out["message"] = f"{{{{ .CommonLabels.alertname }}}}: {_SUMMARY}"
    out["priority"] = _priority(cfg.get("priorities", {}))
    out["details"] = _details(cfg.get("details", {}))
    if "responders" in cfg:
        out["responders"] = [dict(r) for r in cfg["responders"]]
    if "tags" in cfg:
        out["tags"] = cfg["tags"]
    return out


def _slack(cfg: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"api_url_file": cfg["api_url_file"]}
    if "channel" in cfg:
        out["channel"] = cfg["channel"]
    out["send_resolved"] = cfg.get("send_resolved", True)
    out["text"] = (
        "{{ range .Alerts }}[{{ .Labels.severity }}] {{ .Annotations.summary }}"
        "{{ with .Annotations.runbook_url }} <{{ . }}|runbook>{{ end }}"
        "{{ with .Annotations.dashboard_url }} <{{ . }}|dashboard>{{ end }}\n{{ end }}"
    )
    return out


def _webhook(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Alertmanager's generic webhook (JSON payload version 4); credentials by file only."""
    out: dict[str, Any] = {"url": cfg["url"], "send_resolved": cfg.get("send_resolved", True)}
    if "max_alerts" in cfg:
        out["max_alerts"] = cfg["max_alerts"]
    http: dict[str, Any] = {}
    if "bearer_token_file" in cfg:
        http["authorization"] = {"type": "Bearer", "credentials_file": cfg["bearer_token_file"]}
    if "password_file" in cfg:
        http["basic_auth"] = {"username": cfg["username"], "password_file": cfg["password_file"]}
    if "ca_file" in cfg:
        http["tls_config"] = {"ca_file": cfg["ca_file"]}
    if http:
        out["http_config"] = http
    return out


def _email(cfg: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"to": cfg["to"], "from": cfg["from"], "smarthost": cfg["smarthost"]}
    for key in ("auth_username", "auth_password_file", "auth_identity", "require_tls"):
        if key in cfg:
            out[key] = cfg[key]
    out["send_resolved"] = cfg.get("send_resolved", False)  # Alertmanager's default for email
    out["headers"] = {"Subject": f'{{{{ template "__subject" . }}}} {_SUMMARY}'} | dict(
        cfg.get("headers", {})
    )
    return out
