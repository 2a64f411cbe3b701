"""mqtt: a Mosquitto broker's ``$SYS`` tree, in the names of sapcc/mosquitto-exporter.

``Service.address`` is ``host:port`` (``[v6]:port``, ``tcp://`` or ``mqtt://`` allowed, port
1883 by default).  One probe is one MQTT 3.1.1 session over plain TCP (no TLS, no websockets):
CONNECT (clean session, client id ``fleetwatch-<hex>``, optional user name and password),
SUBSCRIBE ``$SYS/#`` and ``fleetwatch/probe/<nonce>``, PUBLISH the nonce there at QoS 0, read
until it comes back, DISCONNECT::

    probe_success 1
    probe_duration_seconds 0.0031
    broker_version_info{version="mosquitto version 2.0.11"} 1
    broker_uptime 1234                         (counter; "1234 seconds" on the wire)
    broker_bytes_received 52113                (counter without _total, as that exporter)
    broker_clients_connected 3
    broker_retained_messages_count 48          ("$SYS/broker/retained messages/count")

A name is the topic without ``$SYS/``, ``/``, space, ``-`` and ``.`` made ``_``.  The twelve
topics that exporter types ``counter`` (bytes, messages and publish counts, ``uptime``,
``clients/maximum``, ``clients/total``) keep that name (``Families.render`` writes it as is);
the rest are gauges.  As there, ``clients/active`` / ``clients/inactive`` (deprecated) and
``timestamp`` are dropped; ``version`` becomes fleetwatch's ``broker_version_info{version}``.
The catalog needs fixed names: topics Mosquitto 2.0 does not publish (bridge states under
``$SYS/broker/connection/``, other brokers' trees) are skipped, as are payloads that are not a
number (optionally followed by one unit word).

The echo marks the end of the retained messages: Mosquitto queues them on SUBSCRIBE, before the
echo published after the SUBACK (verified with 2.0.11 and 300 retained messages in the tests).
It publishes a ``$SYS`` value only when it changes, retained with a 60 s message expiry, so on
a quiet broker ``clients/connected`` drops out of the retained store a minute after its last
change.  The module remembers each target's last values and fills such a gap when the previous
successful probe was under ``CARRY_WINDOW`` seconds ago (no change can have gone unseen) and
the uptime did not go backwards (no restart).

That alone left ``broker_clients_connected`` absent from every probe of a broker idle for more
than a minute: Mosquitto compares the count only at each ``sys_interval`` tick (10 s by
default), and a probe lasting milliseconds between two ticks changes nothing it sees, so the
value expired and was never published again (mosquitto-exporter does not see this: it stays
subscribed).  So when neither the retained store nor a fresh memory has a topic of
``WAIT_TOPICS``, the probe stays subscribed past the echo until the next tick publishes it
(the count then includes the probe's own connection, as mosquitto-exporter's includes its
own), within the probe's deadline less ``WAIT_MARGIN``; that costs up to one ``sys_interval``
about once a minute on an idle broker, and nothing on a busy one.

Failure follows blackbox (``services/base.py``): ``probe_success 0`` and the duration, the
reason in ``ProbeResult.errors["mqtt"]``: ``connect:``, ``timeout:`` (naming the step: CONNACK,
SUBACK or the echo), ``auth:`` (CONNACK 4/5), ``refused:`` (other CONNACK codes, SUBACK 0x80),
``protocol:`` (not MQTT, quoting the first bytes), ``closed:``, ``config:``.  All of it within
the probe's timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import secrets
import socket
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fleetwatch.errors import FleetwatchError
from fleetwatch.exporters.families import Families, Spec, counter, gauge
from fleetwatch.exporters.services import _mqttwire as wire
from fleetwatch.exporters.services.base import (
    DURATION,
    SUCCESS,
    Probe,
    ServiceDown,
    ServiceModule,
    params_schema,
)

DEFAULT_PORT = 1883
DEFAULT_ECHO_PREFIX = "fleetwatch/probe"
KEEPALIVE = 60
FIRST_BYTES = 24
"""Bytes of the peer's first answer quoted in a protocol error (enough to see "HTTP/1.1 400")."""
CARRY_WINDOW = 55.0
"""Seconds a remembered value may fill a gap: under Mosquitto's 60 s $SYS message expiry."""
WAIT_TOPICS = frozenset({"$SYS/broker/clients/connected"})
"""Topics a probe waits for (past the echo, within its deadline) when it has no value for them:
Mosquitto publishes them only when they change, and the probe's own connection changes them."""
WAIT_MARGIN = 0.25
"""Share of the probe's timeout (at most 1 s) kept free after waiting for WAIT_TOPICS."""

PARAMS_SCHEMA: dict[str, Any] = params_schema("mqtt")

# --------------------------------------------------------------------------------------------
# Catalog: the $SYS topics of Mosquitto 2.0, typed as sapcc/mosquitto-exporter types them
# --------------------------------------------------------------------------------------------

SYS = "$SYS/"
VERSION_TOPIC = "$SYS/broker/version"
_RECEIVED_SENT = ("received", "sent")
COUNTER_TOPICS = tuple(
    f"$SYS/broker/{t}"
    for t in (
        *(f"{what}/{d}" for what in ("bytes", "messages") for d in _RECEIVED_SENT),
        *(f"publish/{what}/{d}" for what in ("bytes", "messages") for d in _RECEIVED_SENT),
        "publish/messages/dropped",
        "uptime",
        "clients/maximum",
        "clients/total",
    )
)
_LOAD = (
    *(f"{what}/{d}" for what in ("messages", "bytes") for d in _RECEIVED_SENT),
    *(f"publish/{d}" for d in ("dropped", *_RECEIVED_SENT)),
    "sockets",
    "connections",
)
GAUGE_TOPICS = tuple(
    f"$SYS/broker/{t}"
    for t in (
        *(f"clients/{what}" for what in ("connected", "disconnected", "expired")),
        "messages/stored",
        "store/messages/count",
        "store/messages/bytes",
        "subscriptions/count",
        "shared_subscriptions/count",
        "retained messages/count",
        "heap/current",
        "heap/maximum",
        *(f"load/{what}/{span}" for what in _LOAD for span in ("1min", "5min", "15min")),
    )
)
_NAME_CHARS = str.maketrans({"/": "_", " ": "_", "-": "_", ".": "_"})


def metric_name(topic: str) -> str:
    """``$SYS/broker/load/bytes/sent/1min`` → ``broker_load_bytes_sent_1min``."""
    return topic.removeprefix(SYS).translate(_NAME_CHARS)


VERSION_INFO = gauge(
    "broker_version_info", "$SYS/broker/version: the broker's version string", "version"
)
CATALOG_TOPICS: dict[str, Spec] = {
    **{t: counter(metric_name(t), t) for t in COUNTER_TOPICS},
    **{t: gauge(metric_name(t), t) for t in GAUGE_TOPICS},
}
SPECS: tuple[Spec, ...] = (SUCCESS, DURATION, VERSION_INFO, *CATALOG_TOPICS.values())
KNOWN_TOPICS = frozenset((VERSION_TOPIC, *CATALOG_TOPICS))

_NUMBER = re.compile(r"\s*(-?\d+(?:\.\d+)?)(?:\s+[A-Za-z]+)?\s*")


def parse_value(payload: bytes) -> float | None:
    """A $SYS payload as a number: ``"42"``, ``"0.25"``, ``"1234 seconds"``; else None."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return None
    match = _NUMBER.fullmatch(text)
    if match is None:
        return None
    value = float(match.group(1))
    return value if math.isfinite(value) else None


def sys_families(values: Mapping[str, bytes]) -> Families:
    """The families of the $SYS topics received (topic → last payload); unknown topics and
    non-numeric payloads are skipped."""
    out = Families()
    for topic, payload in values.items():
        if topic == VERSION_TOPIC:
            version = payload.decode("utf-8", "replace").strip()
            if version:
                out.add(VERSION_INFO, 1, version)
            continue
        spec = CATALOG_TOPICS.get(topic)
        value = parse_value(payload) if spec is not None else None
        if spec is not None and value is not None:
            out.add(spec, value)
    return out


@dataclass
class Memory:
    """A target's last successful probe: when (monotonic seconds), the uptime, the payloads."""

    at: float
    values: dict[str, bytes]

    @property
    def uptime(self) -> float | None:
        raw = self.values.get("$SYS/broker/uptime")
        return parse_value(raw) if raw is not None else None


def carry_over(previous: Memory | None, current: Memory) -> Memory:
    """``current`` with the topics it lacks filled from ``previous`` when that is safe: the
    previous probe was under CARRY_WINDOW ago and the broker has not restarted since."""
    if previous is None or not 0 <= current.at - previous.at <= CARRY_WINDOW:
        return current
    before, now = previous.uptime, current.uptime
    if before is not None and (now is None or now < before):
        return current
    return Memory(current.at, {**previous.values, **current.values})


# --------------------------------------------------------------------------------------------
# One MQTT session
# --------------------------------------------------------------------------------------------


@dataclass
class Session:
    """What one probe has seen so far (read by the timeout handler to name the step)."""

    step: str = "connect"
    echo: str = ""
    first_bytes: bytes = b""
    sys_messages: int = 0
    values: dict[str, bytes] = field(default_factory=dict)


_STEP_TIMEOUTS = {
    "connect": "no TCP connection {within}",
    "connack": "no CONNACK {within} (the port accepts TCP but does not answer as a broker)",
    "suback": "no SUBACK {within}",
    "echo": "the probe's own message on {topic} did not come back {within} (denied by an ACL?)",
    "wait": "the broker stopped answering after the echo, {within}",
}


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` / ``host`` / ``[v6]:port`` / ``tcp://host:port`` → (host, port)."""
    addr = address.strip()
    scheme, sep, rest = addr.partition("://")
    if sep:
        if scheme not in ("tcp", "mqtt"):
            raise ServiceDown("config", f"scheme {scheme}:// (only plain TCP: tcp:// or mqtt://)")
        addr = rest.rstrip("/")
    if addr.startswith("["):
        host, _, port = addr[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, sep, port = addr.rpartition(":")
        if not sep or ":" in host:
            host, port = addr, ""
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ServiceDown("config", f"bad port in address {address!r}")
    return host, int(port) if port else DEFAULT_PORT


class PacketStream:
    """Packets off a stream reader, one at a time; the first bytes are kept for error messages."""

    def __init__(self, reader: asyncio.StreamReader, session: Session, sock: Any = None) -> None:
        self.reader = reader
        self.session = session
        self.sock = sock
        self.decoder = wire.PacketDecoder()
        self.ready: deque[wire.Packet] = deque()

    async def next(self) -> wire.Packet:
        while not self.ready:
            data = await self.reader.read(65536)
            if self.sock is not None and hasattr(socket, "TCP_QUICKACK"):
                # brokers write with Nagle on (Mosquitto's default): answer each segment at
                # once, or every burst after the first waits out our delayed ACK (40 ms)
                with contextlib.suppress(OSError):
                    self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            if not data:
                step = self.session.step.upper() if self.session.step != "echo" else "the echo"
                raise ServiceDown("closed", f"the peer closed the connection before {step}")
            seen = self.session.first_bytes
            if len(seen) < FIRST_BYTES:
                self.session.first_bytes = seen + data[: FIRST_BYTES - len(seen)]
            self.ready.extend(self.decoder.feed(data))
        return self.ready.popleft()


async def read_sys(
    host: str,
    port: int,
    session: Session,
    *,
    username: str | None = None,
    password: str | None = None,
    echo_prefix: str = DEFAULT_ECHO_PREFIX,
    wait_for: frozenset[str] = frozenset(),
    wait_until: float = 0.0,
) -> dict[str, bytes]:
    """One MQTT session: the last payload of each catalog $SYS topic received before the echo;
    then, while a topic of ``wait_for`` is still missing, the session stays until it arrives
    or ``wait_until`` (monotonic seconds): a missing one is not an error."""
    nonce = secrets.token_hex(8)
    echo = session.echo = f"{echo_prefix.rstrip('/')}/{nonce}"
    try:
        connect = wire.encode_connect(
            f"fleetwatch-{secrets.token_hex(6)}",
            username=username,
            password=password,
            keepalive=KEEPALIVE,
        )
    except ValueError as exc:
        raise ServiceDown("config", f"{exc}") from None
    reader, writer = await asyncio.open_connection(host, port)
    try:
        session.step = "connack"
        writer.write(connect)
        packets = PacketStream(reader, session, writer.get_extra_info("socket"))
        _, code = wire.decode_connack(await packets.next())
        if code:
            kind = "auth" if code in (4, 5) else "refused"
            text = wire.CONNACK_CODES.get(code, "unknown return code")
            raise ServiceDown(kind, f"CONNACK return code {code}: {text}")
        session.step = "suback"
        writer.write(wire.encode_subscribe(1, [("$SYS/#", 0), (echo, 0)]))
        while True:
            packet = await packets.next()
            if packet.kind == wire.PUBLISH:
                pub = wire.decode_publish(packet)
                if pub.topic == echo and pub.payload == nonce.encode():
                    session.step = "wait"
                    await _wait_for_topics(packets, session, wait_for, wait_until)
                    break
                if pub.topic.startswith(SYS):
                    session.sys_messages += 1
                    if pub.topic in KNOWN_TOPICS:  # bounded memory, whatever the peer sends
                        session.values[pub.topic] = pub.payload
            elif packet.kind == wire.SUBACK and session.step == "suback":
                _check_suback(packet, echo)
                session.step = "echo"
                writer.write(wire.encode_publish(echo, nonce.encode()))
            elif packet.kind != wire.PINGRESP:
                raise ServiceDown("protocol", f"unexpected {packet.name} from the broker")
        writer.write(wire.DISCONNECT_PACKET)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return session.values
    except BaseException:
        writer.transport.abort()  # never wait for a peer that may not read
        raise


async def _wait_for_topics(
    packets: PacketStream, session: Session, topics: frozenset[str], until: float
) -> None:
    """Read $SYS updates until every topic of ``topics`` has a value or ``until`` passes."""
    while not topics <= session.values.keys():
        left = until - time.monotonic()
        if left <= 0:
            return
        try:
            packet = await asyncio.wait_for(packets.next(), left)
        except TimeoutError:
            return
        if packet.kind == wire.PUBLISH:
            pub = wire.decode_publish(packet)
            if pub.topic in KNOWN_TOPICS:
                session.sys_messages += 1
                session.values[pub.topic] = pub.payload


def _check_suback(packet: wire.Packet, echo: str) -> None:
    packet_id, codes = wire.decode_suback(packet)
    if packet_id != 1 or len(codes) != 2:
        detail = f"SUBACK {packet_id} with {len(codes)} codes (expected 1, 2)"
        raise ServiceDown("protocol", detail)
    for topic, code in zip(("$SYS/#", echo), codes, strict=True):
        if code == wire.SUBACK_FAILURE:
            raise ServiceDown("refused", f"the broker refused the subscription to {topic}")


def classify(exc: Exception, session: Session, timeout: float, address: str) -> ServiceDown | None:
    """What an error of the MQTT session says of the broker (never the password); None for
    anything else: a bug."""
    if isinstance(exc, TimeoutError):
        return timed_out(session, timeout)
    if isinstance(exc, wire.WireError):
        return ServiceDown("protocol", f"not MQTT: {exc} (first bytes {session.first_bytes!r})")
    if isinstance(exc, FleetwatchError):
        return ServiceDown("config", str(exc))
    if isinstance(exc, socket.gaierror):
        return ServiceDown("connect", f"{address}: {exc.strerror or exc}")
    if isinstance(exc, OSError):
        detail = os.strerror(exc.errno) if exc.errno else str(exc)
        return ServiceDown("connect", f"{address}: {detail}")
    return None


def timed_out(session: Session, timeout: float) -> ServiceDown:
    """The deadline ended the session: which step it was waiting for."""
    text = _STEP_TIMEOUTS.get(session.step, "no answer {within}")
    return ServiceDown("timeout", text.format(within=f"within {timeout:.3g} s", topic=session.echo))


# --------------------------------------------------------------------------------------------
# The module
# --------------------------------------------------------------------------------------------


class MqttModule(ServiceModule):
    """The ``mqtt`` service module."""

    name = "mqtt"
    description = "MQTT broker (Mosquitto) $SYS tree over MQTT 3.1.1: mosquitto-exporter names"

    def __init__(self) -> None:
        self._memory: dict[tuple[str, str], Memory] = {}

    def specs(self) -> list[Spec]:
        return list(SPECS)

    async def collect(self, probe: Probe) -> None:
        params = probe.params
        session = probe.state = Session()
        username = params.get("username")
        host, port = split_address(probe.address)
        key = (probe.target.name, probe.address)
        previous = self._memory.get(key)
        now = time.monotonic()
        known = previous.values.keys() if previous and now - previous.at <= CARRY_WINDOW else ()
        margin = min(1.0, WAIT_MARGIN * probe.timeout)
        values = await read_sys(
            host,
            port,
            session,
            username=str(username) if username else None,
            password=probe.secret("password"),
            echo_prefix=str(params.get("echo_topic_prefix") or DEFAULT_ECHO_PREFIX),
            wait_for=WAIT_TOPICS.difference(known),
            wait_until=probe.deadline - margin,
        )
        memory = carry_over(previous, Memory(time.monotonic(), values))
        self._memory[key] = memory
        probe.out.merge(sys_families(memory.values))
        if not session.sys_messages:
            probe.errors["sys"] = "no $SYS topics received ($SYS disabled, or denied by an ACL)"

    def classify(self, exc: Exception, probe: Probe) -> ServiceDown | None:
        return classify(exc, _session(probe), probe.timeout, probe.address)

    def timed_out(self, probe: Probe) -> ServiceDown:
        return timed_out(_session(probe), probe.timeout)

    async def close(self) -> None:
        """Nothing pooled (one connection per probe); forget the remembered values."""
        self._memory.clear()


def _session(probe: Probe) -> Session:
    return probe.state if isinstance(probe.state, Session) else Session()
