"""A small Alertmanager API v2 client: alerts, silences (urllib only, a timeout on every call).

Errors are ``FleetwatchError`` naming the Alertmanager URL (unreachable, HTTP error, bad
answer); a bad matcher or duration from the user is a ``UsageError``.  Matchers are written as
on the command line and in Alertmanager's UI: ``alertname=HostDown``, ``instance=~"web-.*"``,
``severity!=info``, ``job!~"test.*"``.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fleetwatch.config import durations
from fleetwatch.errors import FleetwatchError, UsageError

DEFAULT_URL = "http://127.0.0.1:9093"
DEFAULT_TIMEOUT = 10.0

_MATCHER = re.compile(r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=~|!~|!=|=)(?P<value>.*)$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_FRACTION = re.compile(r"\.(\d{1,6})\d*")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Matcher:
    """One label matcher (``name op value``) of a silence or an alert filter."""

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    @property
    def op(self) -> str:
        """``=``, ``!=``, ``=~`` or ``!~``."""
        if self.is_regex:
            return "=~" if self.is_equal else "!~"
        return "=" if self.is_equal else "!="

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'

    def matches(self, value: str) -> bool:
        """Whether a label value (``""`` when absent) satisfies this matcher."""
        hit = re.fullmatch(self.value, value) is not None if self.is_regex else value == self.value
        return hit == self.is_equal

    def to_api(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "isRegex": self.is_regex,
            "isEqual": self.is_equal,
        }

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Matcher:
        return cls(
            str(data["name"]),
            str(data["value"]),
            bool(data.get("isRegex", False)),
            bool(data.get("isEqual", True)),
        )


def parse_matcher(text: str) -> Matcher:
    """``name=value``, ``name!=value``, ``name=~regex``, ``name!~regex``; value maybe quoted."""
    m = _MATCHER.match(text)
    if m is None:
        raise UsageError(
            f"bad matcher {text!r}: expected NAME=VALUE, NAME!=VALUE, NAME=~REGEX or "
            'NAME!~REGEX (e.g. alertname=HostDown instance=~"web-.*")'
        )
    op, value = m["op"], m["value"].strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    elif len(value) >= 2 and value[0] == value[-1] == "'":
        value = value[1:-1]
    matcher = Matcher(m["name"], value, is_regex="~" in op, is_equal=not op.startswith("!"))
    if matcher.is_regex:
        try:
            re.compile(value)
        except re.error as exc:
            raise UsageError(f"bad matcher {text!r}: invalid regular expression: {exc}") from None
    return matcher


def parse_matchers(texts: Sequence[str]) -> list[Matcher]:
    """Matchers for a silence: at least one, and not all matching an empty label."""
    matchers = [parse_matcher(t) for t in texts]
    if not matchers:
        raise UsageError("give at least one matcher, e.g. alertname=HostDown")
    if all(m.matches("") for m in matchers):
        raise UsageError(
            "these matchers also match alerts without those labels, so they would silence "
            "everything: at least one must require a non-empty value (e.g. alertname=HostDown)"
        )
    return matchers


def parse_duration(text: str) -> timedelta:
    """``2h``, ``30m``, ``1d12h``, ``1w``: a positive duration (Prometheus syntax)."""
    try:
        span = timedelta(seconds=durations.parse_duration(text.strip()))
    except ValueError:
        raise UsageError(f"bad duration {text!r}: expected e.g. 30m, 2h, 1d12h, 1w") from None
    if span <= timedelta(0):
        raise UsageError(f"bad duration {text!r}: must be longer than zero")
    return span


def is_silence_id(text: str) -> bool:
    return _UUID.match(text.strip()) is not None


def parse_time(text: str | None) -> datetime | None:
    """An Alertmanager timestamp (RFC 3339, maybe with nanoseconds) as an aware datetime."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(_FRACTION.sub(r".\1", text.replace("Z", "+00:00")))
    except ValueError:
        return None


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Alert:
    """An alert as Alertmanager holds it; ``state`` is active, suppressed or unprocessed."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    state: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    fingerprint: str = ""
    receivers: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        """firing, silenced, inhibited or unprocessed (silenced wins over inhibited)."""
        if self.silenced_by:
            return "silenced"
        if self.inhibited_by:
            return "inhibited"
        return "firing" if self.state == "active" else self.state

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Alert:
        status = data.get("status") or {}
        return cls(
            labels=dict(data.get("labels") or {}),
            annotations=dict(data.get("annotations") or {}),
            state=str(status.get("state", "unprocessed")),
            starts_at=parse_time(data.get("startsAt")),
            ends_at=parse_time(data.get("endsAt")),
            silenced_by=tuple(status.get("silencedBy") or ()),
            inhibited_by=tuple(status.get("inhibitedBy") or ()),
            fingerprint=str(data.get("fingerprint", "")),
            receivers=tuple(str(r.get("name", "")) for r in data.get("receivers") or ()),
        )


@dataclass(frozen=True)
class Silence:
    """A silence; ``state`` is active, pending or expired."""

    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime | None
    ends_at: datetime | None
    created_by: str = ""
    comment: str = ""
    state: str = ""

    @property
    def matcher_set(self) -> frozenset[Matcher]:
        return frozenset(self.matchers)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Silence:
        return cls(
            id=str(data["id"]),
            matchers=tuple(Matcher.from_api(m) for m in data.get("matchers") or ()),
            starts_at=parse_time(data.get("startsAt")),
            ends_at=parse_time(data.get("endsAt")),
            created_by=str(data.get("createdBy", "")),
            comment=str(data.get("comment", "")),
            state=str((data.get("status") or {}).get("state", "")),
        )


# --------------------------------------------------------------------------- the client


@dataclass
class AlertmanagerClient:
    """Alertmanager's API v2 at ``url`` (e.g. ``http://127.0.0.1:9093``).

    ``peers``: the other members of an Alertmanager cluster, tried in turn when ``url`` cannot
    be reached (silences replicate between peers, so any one will do); ``url`` then becomes the
    peer that answered.  A POST that timed out is not sent again elsewhere: it may have landed.
    """

    url: str = DEFAULT_URL
    timeout: float = DEFAULT_TIMEOUT
    peers: Sequence[str] = ()
    _opener: urllib.request.OpenerDirector = field(init=False, repr=False)

    def __post_init__(self) -> None:
        urls = [u.rstrip("/") for u in (self.url, *self.peers)]
        for url in urls:
            parsed = urllib.parse.urlsplit(url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise UsageError(f"bad Alertmanager URL {url!r}: expected http://HOST:PORT")
        self.url, self.peers = urls[0], tuple(dict.fromkeys(urls[1:]))
        # loopback never goes through a proxy from the environment
        loopback = all(urllib.parse.urlsplit(u).hostname in _LOOPBACK for u in urls)
        handlers = [urllib.request.ProxyHandler({})] if loopback else []
        self._opener = urllib.request.build_opener(*handlers)

    def alerts(
        self,
        filters: Sequence[Matcher] = (),
        *,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
        unprocessed: bool = True,
    ) -> list[Alert]:
        """Current alerts (not resolved ones), optionally filtered by matchers."""
        flags = {"active": active, "silenced": silenced, "inhibited": inhibited}
        query: list[tuple[str, str]] = [(k, str(v).lower()) for k, v in flags.items()]
        query.append(("unprocessed", str(unprocessed).lower()))
        query += [("filter", str(m)) for m in filters]
        data = self._call("GET", "/api/v2/alerts", query=query)
        return [Alert.from_api(a) for a in _list(data, "alerts")]

    def post_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """Send alerts as Prometheus does (``labels``, ``annotations``, ``startsAt``...)."""
        self._call("POST", "/api/v2/alerts", body=list(alerts))

    def silences(self, filters: Sequence[Matcher] = ()) -> list[Silence]:
        """Every silence Alertmanager still knows (active, pending and recently expired)."""
        query = [("filter", str(m)) for m in filters]
        data = self._call("GET", "/api/v2/silences", query=query)
        return [Silence.from_api(s) for s in _list(data, "silences")]

    def create_silence(
        self,
        matchers: Sequence[Matcher],
        duration: timedelta,
        comment: str,
        created_by: str,
        starts_at: datetime | None = None,
    ) -> str:
        """Create a silence from now (or ``starts_at``) for ``duration``; returns its id."""
        start = starts_at or datetime.now(UTC)
        body = {
            "matchers": [m.to_api() for m in matchers],
            "startsAt": format_time(start),
            "endsAt": format_time(start + duration),
            "createdBy": created_by,
            "comment": comment,
        }
        data = self._call("POST", "/api/v2/silences", body=body)
        if not isinstance(data, dict) or not data.get("silenceID"):
            raise FleetwatchError(f"Alertmanager at {self.url} returned no silence id: {data!r}")
        return str(data["silenceID"])

    def expire_silence(self, silence_id: str) -> None:
        """Expire (end now) the silence ``silence_id``."""
        self._call("DELETE", f"/api/v2/silence/{urllib.parse.quote(silence_id, safe='')}")

    # -- transport ---------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
    ) -> Any:
        tried = []
        for url in (self.url, *self.peers):
            if url in tried:
                continue
            tried.append(url)
            try:
                answer = self._call_one(url, method, path, query, body)
            except _Unreachable as exc:
                if exc.timed_out and method != "GET":
                    raise exc.error from None
                last = exc.error
                continue
            if url != self.url:  # the next calls go to the peer that answered
                self.peers = tuple(u for u in (self.url, *self.peers) if u != url)
                self.url = url
            return answer
        if len(tried) > 1:
            raise FleetwatchError(
                f"no Alertmanager peer is reachable ({', '.join(tried)}): {last}"
            ) from None
        raise last

    def _call_one(
        self,
        base: str,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        body: Any,
    ) -> Any:
        url = base + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                detail = _error_text(exc.read())
            # Alertmanager 0.25 answers 500 "silence not found" to an unknown id
            unknown = exc.code == 404 or "not found" in detail
            if unknown and path.startswith("/api/v2/silence/"):
                raise FleetwatchError(
                    f"Alertmanager at {base} has no silence {path.rsplit('/', 1)[1]}"
                ) from None
            raise FleetwatchError(
                f"Alertmanager at {base} answered {exc.code} to {method} {path}: {detail}"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            error = FleetwatchError(
                f"Alertmanager at {base} is unreachable: {reason} "
                "(is it running? `fleetwatch up`, or pass --alertmanager URL)"
            )
            raise _Unreachable(error, isinstance(reason, TimeoutError)) from None
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise FleetwatchError(
                f"Alertmanager at {base} sent a non-JSON answer to {method} {path}: "
                f"{_error_text(raw)}"
            ) from None


class _Unreachable(Exception):
    """One peer could not be reached (the next may be)."""

    def __init__(self, error: FleetwatchError, timed_out: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.timed_out = timed_out


def _list(data: Any, what: str) -> list[Mapping[str, Any]]:
    if not isinstance(data, list):
        raise FleetwatchError(f"Alertmanager answered something else than a list of {what}")
    return [d for d in data if isinstance(d, dict)]


def _error_text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("message"):
        text = str(doc["message"])
    elif isinstance(doc, str):
        text = doc
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."
