"""The inventory model: deployments of hosts, with every default already applied.

Instances are built by ``fleetwatch.inventory.loader`` from a validated ``fleet.yaml``; every
``Host`` carries its fully merged settings (fleet defaults < deployment < host), so consumers
never look anything up elsewhere.  Secrets are never stored: ``SSHSettings.passphrase()`` reads
the referenced environment variable or file at the moment it is needed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from fleetwatch.errors import ConfigError
from fleetwatch.inventory.collector_options import Options
from fleetwatch.inventory.scale import Scale

KnownHosts = Literal["strict", "off"]
#: what runs a host's collection session: perl where the host has it (fewer forks), or sh
Interpreter = Literal["auto", "sh"]

DEFAULT_CPU_THRESHOLD = 90.0
DEFAULT_MEMORY_THRESHOLD = 95.0
DEFAULT_DISK_THRESHOLD = 90.0
DEFAULT_SCRAPE_INTERVAL = "15s"
DEFAULT_MODULES: tuple[str, ...] = ("ssh",)
#: the ``environment`` label of a deployment that names none (its own key or label)
NO_ENVIRONMENT = "none"
MODULES = ("ssh", "local")


def read_secret(env: str | None, path: str | None, what: str) -> str | None:
    """A secret from its environment variable or file, read now; None when neither is set.

    Raises ``ConfigError`` (never containing the secret) when the reference cannot be read.
    A file's trailing newline is dropped (keys written by editors end with one).
    """
    if env:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(
                "<environment>", f"environment variable {env!r} is not set", key=f"{what}_env"
            )
        return value
    if path:
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            raise ConfigError(path, f"cannot read {what} file: {reason}") from None
        return text.rstrip("\r\n")
    return None


@dataclass(frozen=True)
class Thresholds:
    """Alerting thresholds in percent of capacity."""

    cpu: float = DEFAULT_CPU_THRESHOLD
    memory: float = DEFAULT_MEMORY_THRESHOLD
    disk: float = DEFAULT_DISK_THRESHOLD


@dataclass(frozen=True)
class Resources:
    """What a deployment is allocated (from the provider), for capacity dashboards."""

    cpu_cores: float | None = None
    memory_bytes: int | None = None
    storage_bytes: int | None = None


@dataclass(frozen=True)
class SSHSettings:
    """How to reach a host over SSH.  Paths are absolute (``~`` and relative paths resolved)."""

    user: str | None = None
    port: int = 22
    identity_file: str | None = None
    passphrase_env: str | None = None
    passphrase_file: str | None = None
    #: offer the keys of the SSH agent too (off: an agent's keys are not every host's business)
    use_agent: bool = False
    #: SHA-1 algorithms (ssh-rsa signatures, hmac-sha1, group14-sha1 kex) for an old host
    allow_sha1: bool = False
    known_hosts: KnownHosts = "strict"
    known_hosts_file: str | None = None
    connect_timeout_seconds: float = 5.0
    interpreter: Interpreter = "auto"
    #: the host's authorized_keys entry forces the restricted agent (fleetwatch ssh restrict)
    restricted: bool = False

    def warnings(self) -> list[str]:
        """What weakens this host's SSH security (told at check and at the first connect)."""
        out = []
        if self.known_hosts == "off":
            out.append(
                "known_hosts: off accepts any host key: whoever answers at its address gets "
                "the monitoring key's login (give known_hosts_file instead)"
            )
        if self.allow_sha1:
            out.append("allow_sha1: SHA-1 algorithms are on for this host")
        return out

    def passphrase(self) -> str | None:
        """The identity file's passphrase, read now from its env var or file (None if none).

        Raises ``ConfigError`` (without the secret) when the reference cannot be resolved.
        """
        return read_secret(self.passphrase_env, self.passphrase_file, "passphrase")


@dataclass(frozen=True)
class Host:
    """One monitored machine: a Prometheus ``instance`` / probe target named ``name``."""

    name: str
    address: str
    deployment: str
    provider: str
    labels: Mapping[str, str]
    ssh: SSHSettings
    scrape_interval_seconds: float
    scrape_interval: str
    maintenance: bool = False
    #: the deployment's environment (``environment:``, else its ``environment`` label)
    environment: str = NO_ENVIRONMENT
    thresholds: Thresholds = field(default_factory=Thresholds)
    modules: tuple[str, ...] = DEFAULT_MODULES
    collectors_enable: tuple[str, ...] = ()
    collectors_disable: tuple[str, ...] = ()
    options: Options = field(default_factory=Options)
    #: ``host:port`` of a node_exporter the host already runs: scraped directly, not over SSH
    node_exporter: str | None = None
    depends_on: tuple[str, ...] = ()

    @property
    def probed_modules(self) -> tuple[str, ...]:
        """The exporter's modules that probe this host (none when node_exporter serves it)."""
        return () if self.node_exporter else self.modules


@dataclass(frozen=True)
class Service:
    """A service probed by a service module (postgres, redis, mqtt, http, cometbft, ethereum,
    docker): a Prometheus ``instance`` / probe target named ``name``.

    ``address`` is the module's endpoint (``host:port``, a URL, or a unix socket path);
    ``params`` the module's own options.  Secrets are references only: ``secret("password")``
    reads ``params["password_env"]`` or ``params["password_file"]`` at the moment of use.
    """

    name: str
    module: str
    address: str
    deployment: str
    provider: str
    labels: Mapping[str, str]
    scrape_interval_seconds: float
    scrape_interval: str
    maintenance: bool = False
    #: the deployment's environment (``environment:``, else its ``environment`` label)
    environment: str = NO_ENVIRONMENT
    params: Mapping[str, Any] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()

    @property
    def modules(self) -> tuple[str, ...]:
        return (self.module,)

    @property
    def probed_modules(self) -> tuple[str, ...]:
        return (self.module,)

    def secret(self, key: str) -> str | None:
        """The secret ``key`` (e.g. "password") from its env var or file; None if unset."""
        env, path = self.params.get(f"{key}_env"), self.params.get(f"{key}_file")
        return read_secret(str(env) if env else None, str(path) if path else None, key)


@dataclass(frozen=True)
class AppAuth:
    """How Prometheus authenticates to an app: basic auth or a bearer token, by file only."""

    username: str | None = None
    password_file: str | None = None
    bearer_token_file: str | None = None


@dataclass(frozen=True)
class AppTLS:
    """TLS client settings for an https app (paths where Prometheus runs)."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False


@dataclass(frozen=True)
class App:
    """An application or existing exporter serving its own metrics at ``url``, scraped by
    Prometheus directly: an ``instance`` named ``name`` like hosts and services."""

    name: str
    url: str
    deployment: str
    provider: str
    labels: Mapping[str, str]
    scrape_interval_seconds: float
    scrape_interval: str
    maintenance: bool = False
    #: the deployment's environment (``environment:``, else its ``environment`` label)
    environment: str = NO_ENVIRONMENT
    #: absolute path of the app's metric catalog file (``catalog:``), None if not given
    catalog: str | None = None
    depends_on: tuple[str, ...] = ()
    auth: AppAuth = field(default_factory=AppAuth)
    tls: AppTLS = field(default_factory=AppTLS)

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def address(self) -> str:
        """``host:port`` (the scheme's default port when the URL has none)."""
        parts = urlsplit(self.url)
        if parts.port is not None:
            return parts.netloc
        return f"{parts.netloc}:{443 if parts.scheme == 'https' else 80}"

    @property
    def metrics_path(self) -> str:
        return urlsplit(self.url).path or "/metrics"


@dataclass(frozen=True)
class Deployment:
    """A group of hosts at one provider (a project, a cluster, an environment)."""

    name: str
    provider: str
    labels: Mapping[str, str]
    resources: Resources | None
    hosts: tuple[Host, ...]
    services: tuple[Service, ...] = ()
    apps: tuple[App, ...] = ()
    environment: str = NO_ENVIRONMENT


@dataclass(frozen=True)
class Defaults:
    """The fleet-wide ``defaults:`` block, after applying the built-in defaults."""

    scrape_interval: str = DEFAULT_SCRAPE_INTERVAL
    scrape_interval_seconds: float = 15.0
    ssh: SSHSettings = field(default_factory=SSHSettings)
    thresholds: Thresholds = field(default_factory=Thresholds)
    modules: tuple[str, ...] = DEFAULT_MODULES
    collectors_enable: tuple[str, ...] = ()
    collectors_disable: tuple[str, ...] = ()
    options: Options = field(default_factory=Options)


@dataclass(frozen=True)
class ExporterScrape:
    """How Prometheus scrapes the exporter: the other side of its ``--web.config.file``.
    Paths are where Prometheus runs (not checked here); the password only by file."""

    scheme: Literal["http", "https"] = "http"
    ca_file: str | None = None
    cert_file: str | None = None  # with key_file: a client certificate (mTLS)
    key_file: str | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False
    username: str | None = None
    password_file: str | None = None


@dataclass(frozen=True)
class Stack:
    """Where the parts of the monitoring stack reach each other."""

    exporter: str = "127.0.0.1:9717"
    prometheus_url: str = "http://127.0.0.1:9090"
    alertmanager_url: str = "http://127.0.0.1:9093"
    loki_url: str | None = None
    grafana_url: str = "http://127.0.0.1:3000"
    #: where `fleetwatch up` runs the local alert inbox (a webhook receiver)
    inbox: str = "127.0.0.1:9719"
    exporter_scrape: ExporterScrape = field(default_factory=ExporterScrape)


@dataclass(frozen=True)
class Inventory:
    """A whole ``fleet.yaml``; ``path`` is the file it came from (``<embedded>`` if none)."""

    path: str
    deployments: tuple[Deployment, ...]
    defaults: Defaults = field(default_factory=Defaults)
    stack: Stack = field(default_factory=Stack)
    #: the scale-out topology (``scale:``); None: one exporter, one Prometheus
    scale: Scale | None = None

    def hosts(self) -> list[Host]:
        """Every host, in file order."""
        return [h for d in self.deployments for h in d.hosts]

    def host(self, name: str) -> Host:
        """The host called ``name``; ``KeyError`` if there is none."""
        for h in self.hosts():
            if h.name == name:
                return h
        raise KeyError(name)

    def deployment(self, name: str) -> Deployment:
        """The deployment called ``name``; ``KeyError`` if there is none."""
        for d in self.deployments:
            if d.name == name:
                return d
        raise KeyError(name)

    def services(self) -> list[Service]:
        """Every service, in file order."""
        return [s for d in self.deployments for s in d.services]

    def apps(self) -> list[App]:
        """Every app, in file order."""
        return [a for d in self.deployments for a in d.apps]

    def targets(self) -> dict[str, Host | Service]:
        """The exporter's probe targets: name -> host or service, in file order.  A host with
        ``node_exporter:`` is none (Prometheus scrapes its node_exporter; no SSH probe)."""
        found: dict[str, Host | Service] = {h.name: h for h in self.hosts() if h.probed_modules}
        found.update((s.name, s) for s in self.services())
        return found

    def dependencies(self) -> list[tuple[str, str]]:
        """Every ``(dependent, dependency)`` edge of ``depends_on``, sorted."""
        named: list[Host | Service | App] = [*self.hosts(), *self.services(), *self.apps()]
        return sorted((t.name, d) for t in named for d in t.depends_on)
