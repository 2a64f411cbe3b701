"""mqtt: the wire encoding, the $SYS mapping, and probes against a real mosquitto (anonymous and
with passwords + ACLs) and against peers that are not brokers."""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from exporters.services.mqtt_fixtures import Mosquitto, hold, peer, service, wait_for
from fleetwatch.errors import ConfigErrors
from fleetwatch.exporters import registry
from fleetwatch.exporters.module import ProbeResult
from fleetwatch.exporters.server import Exporter
from fleetwatch.exporters.services import _mqttwire as wire
from fleetwatch.exporters.services import mqtt
from fleetwatch.exporters.services.mqtt import (
    CARRY_WINDOW,
    Memory,
    MqttModule,
    carry_over,
    metric_name,
    parse_value,
    split_address,
    sys_families,
)
from fleetwatch.inventory import inventory_from_text
from servers import Server, free_port, port_open, require, wait_until

USERS = {"fleetwatch": "fw-secret", "noecho": "noecho-pw", "custom": "custom-pw"}
ACL = """\
user fleetwatch
topic read $SYS/#
topic readwrite fleetwatch/probe/#

user noecho
topic read $SYS/#
topic read fleetwatch/probe/#

user custom
topic read $SYS/#
topic readwrite custom/echo/#
"""


@pytest.fixture(scope="module")
def broker() -> Iterator[Mosquitto]:
    require("mosquitto", "mosquitto_sub", "mosquitto_pub")
    with Mosquitto() as server:
        yield server


@pytest.fixture(scope="module")
def auth_broker() -> Iterator[Mosquitto]:
    require("mosquitto", "mosquitto_sub", "mosquitto_passwd")
    with Mosquitto(users=USERS, acl=ACL, name="mosquitto-auth") as server:
        yield server


def probe(target: Any, timeout: float = 5.0, module: MqttModule | None = None) -> ProbeResult:
    return asyncio.run((module or MqttModule()).probe(target, timeout))


def value(result: ProbeResult, name: str) -> float:
    got = result.families.get(name)
    assert got is not None, (name, result.errors, sorted(result.families.names()))
    return got


def failed(result: ProbeResult, kind: str) -> str:
    assert result.families.get("probe_success") == 0, result.errors
    assert result.families.names() == {"probe_success", "probe_duration_seconds"}
    reason = result.errors["mqtt"]
    assert reason.startswith(kind), reason
    return reason


# --------------------------------------------------------------------------------------------
# The wire
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "encoded"),
    [
        (0, "00"),
        (127, "7f"),
        (128, "8001"),
        (16383, "ff7f"),
        (16384, "808001"),
        (2097151, "ffff7f"),
        (2097152, "80808001"),
        (268435455, "ffffff7f"),
    ],
)
def test_remaining_length_boundaries(length: int, encoded: str) -> None:
    data = bytes.fromhex(encoded)
    assert wire.encode_remaining_length(length) == data
    assert wire.decode_remaining_length(b"\x30" + data) == (length, len(data))
    assert wire.decode_remaining_length(b"\x30" + data[:-1]) is None  # needs more bytes


def test_remaining_length_limits() -> None:
    for bad in (-1, 268435456):
        with pytest.raises(ValueError):
            wire.encode_remaining_length(bad)
    with pytest.raises(wire.WireError, match="four bytes"):
        wire.decode_remaining_length(b"\x30\x80\x80\x80\x80\x01")


@pytest.mark.parametrize("size", [0, 127, 128, 16383, 16384])
def test_packets_across_length_boundaries_in_any_chunking(size: int) -> None:
    payload = bytes(range(256)) * (size // 256 + 1)
    packet = wire.encode_publish("t", payload[: size - 3] if size >= 3 else b"")
    body_size = max(size, 3)  # the topic alone takes three bytes
    assert len(packet) == 1 + len(wire.encode_remaining_length(body_size)) + body_size
    stream = packet + wire.encode_publish("x/y", b"2") + wire.PINGREQ_PACKET
    for step in (1, 7, len(stream)):
        decoder = wire.PacketDecoder()
        got = [p for i in range(0, len(stream), step) for p in decoder.feed(stream[i : i + step])]
        assert [p.kind for p in got] == [wire.PUBLISH, wire.PUBLISH, wire.PINGREQ]
        assert wire.decode_publish(got[0]).payload == payload[: max(size - 3, 0)]
        assert decoder.pending == 0


def test_encoders_match_the_specification() -> None:
    # 3.1.1 CONNECT: "MQTT", level 4, clean session, keepalive 60, client id "c"
    assert wire.encode_connect("c") == bytes.fromhex("100d00044d5154540402003c000163")
    with_login = wire.encode_connect("c", username="u", password="p", keepalive=5)
    assert with_login == bytes.fromhex("101300044d51545404c20005000163000175000170")
    with pytest.raises(ValueError, match="user name"):
        wire.encode_connect("c", password="p")
    assert wire.encode_subscribe(1, [("$SYS/#", 0)]) == b"\x82\x0b\x00\x01\x00\x06$SYS/#\x00"
    assert wire.encode_publish("a/b", b"hi") == b"\x30\x07\x00\x03a/bhi"
    assert wire.encode_publish("a", b"", retain=True) == b"\x31\x03\x00\x01a"
    assert wire.DISCONNECT_PACKET == b"\xe0\x00"


def test_decoders() -> None:
    (connack,) = wire.PacketDecoder().feed(b"\x20\x02\x01\x05")
    assert wire.decode_connack(connack) == (True, 5)
    (suback,) = wire.PacketDecoder().feed(b"\x90\x04\x00\x07\x00\x80")
    assert wire.decode_suback(suback) == (7, [0, 0x80])
    (pub,) = wire.PacketDecoder().feed(b"\x3b\x08\x00\x03a/b\x00\x2ax")  # dup, QoS 1, retain
    assert wire.decode_publish(pub) == wire.Publish("a/b", b"x", 1, True, True, 42)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x00", "reserved packet type 0"),
        (b"\xf0\x00", "reserved packet type 15"),
        (b"HTTP/1.1 400 Bad Request\r\n", "PUBACK with flags 0x8"),
        (b"\x36\x00", "QoS 3"),
        (b"\x80\x00", "SUBSCRIBE with flags 0x0"),
        (b"\x20\xff\xff\xff\x7f", "CONNACK of 268435455 bytes"),
    ],
)
def test_decoder_rejects_what_is_not_mqtt(data: bytes, message: str) -> None:
    with pytest.raises(wire.WireError, match=message):
        wire.PacketDecoder().feed(data)


@pytest.mark.parametrize(
    ("data", "decode", "message"),
    [
        (b"\x20\x03\x00\x00\x00", wire.decode_connack, "CONNACK of 3 bytes"),
        (b"\x20\x02\x02\x00", wire.decode_connack, "reserved acknowledge flags"),
        (b"\x90\x02\x00\x01", wire.decode_suback, "SUBACK of 2 bytes"),
        (b"\x90\x03\x00\x01\x03", wire.decode_suback, "return code 0x03"),
        (b"\x30\x03\x00\x05a", wire.decode_publish, "5 bytes announced"),
        (b"\x30\x04\x00\x02\xff\xfe", wire.decode_publish, "not UTF-8"),
        (b"\x32\x03\x00\x01a", wire.decode_publish, "packet identifier"),
        (b"\xd0\x00", wire.decode_connack, "expected CONNACK, got PINGRESP"),
    ],
)
def test_decoders_reject_malformed_bodies(data: bytes, decode: Any, message: str) -> None:
    (packet,) = wire.PacketDecoder().feed(data)
    with pytest.raises(wire.WireError, match=message):
        decode(packet)


@given(st.binary(max_size=600), st.integers(min_value=1, max_value=64))
def test_garbage_raises_wire_error_only(data: bytes, chunk: int) -> None:
    decoder = wire.PacketDecoder(max_packet=4096)
    try:
        for i in range(0, len(data), chunk):
            for packet in decoder.feed(data[i : i + chunk]):
                for decode in (wire.decode_connack, wire.decode_suback, wire.decode_publish):
                    with contextlib.suppress(wire.WireError):
                        decode(packet)
    except wire.WireError:
        pass


@given(st.text(min_size=1, max_size=200), st.binary(max_size=300), st.booleans())
def test_publish_round_trip(topic: str, payload: bytes, retain: bool) -> None:
    (packet,) = wire.PacketDecoder().feed(wire.encode_publish(topic, payload, retain=retain))
    assert wire.decode_publish(packet) == wire.Publish(topic, payload, 0, retain, False, None)


@given(st.integers(min_value=0, max_value=wire.MAX_REMAINING_LENGTH))
def test_remaining_length_round_trip(length: int) -> None:
    data = wire.encode_remaining_length(length)
    assert wire.decode_remaining_length(b"\x10" + data) == (length, len(data))


# --------------------------------------------------------------------------------------------
# $SYS → families
# --------------------------------------------------------------------------------------------


def test_names_follow_mosquitto_exporter() -> None:
    assert metric_name("$SYS/broker/clients/connected") == "broker_clients_connected"
    assert metric_name("$SYS/broker/load/messages/received/1min") == (
        "broker_load_messages_received_1min"
    )
    assert metric_name("$SYS/broker/retained messages/count") == "broker_retained_messages_count"
    assert metric_name("$SYS/broker/a-b.c d") == "broker_a_b_c_d"


def test_catalog_types() -> None:
    specs = {s.name: s for s in MqttModule().specs()}
    assert len(specs) == len(MqttModule().specs())  # no name twice
    counters = {n for n, s in specs.items() if s.type == "counter"}
    assert counters == {
        "broker_bytes_received",
        "broker_bytes_sent",
        "broker_messages_received",
        "broker_messages_sent",
        "broker_publish_bytes_received",
        "broker_publish_bytes_sent",
        "broker_publish_messages_received",
        "broker_publish_messages_sent",
        "broker_publish_messages_dropped",
        "broker_uptime",
        "broker_clients_maximum",
        "broker_clients_total",
    }
    # names stay the topic's: no _total added ("clients/total" is the topic's own word)
    assert [n for n in specs if n.endswith("_total")] == ["broker_clients_total"]
    assert {n for n, s in specs.items() if s.type not in ("counter", "gauge")} == set()
    assert specs["broker_version_info"].labels == ("version",)
    assert {"probe_success", "probe_duration_seconds", "broker_load_sockets_15min"} <= set(specs)
    assert "broker_clients_active" not in specs  # deprecated, dropped as that exporter does


def test_parse_value() -> None:
    assert parse_value(b"42") == 42
    assert parse_value(b"0.25") == 0.25
    assert parse_value(b"1234 seconds") == 1234
    assert parse_value(b" -1 ") == -1
    for bad in (b"", b"abc", b"mosquitto version 2.0.11", b"1 2", b"\xff", b"nan", b"1e5"):
        assert parse_value(bad) is None, bad


def test_sys_families_skip_unknown_and_non_numeric() -> None:
    fams = sys_families(
        {
            "$SYS/broker/version": b"mosquitto version 2.0.11",
            "$SYS/broker/uptime": b"3600 seconds",
            "$SYS/broker/bytes/sent": b"99",
            "$SYS/broker/clients/connected": b"many",
            "$SYS/broker/clients/active": b"3",
            "$SYS/broker/connection/bridge-1/state": b"1",
        }
    )
    assert fams.get("broker_version_info", {"version": "mosquitto version 2.0.11"}) == 1
    assert fams.get("broker_uptime") == 3600
    assert fams.names() == {"broker_version_info", "broker_uptime", "broker_bytes_sent"}
    text = fams.render().decode()
    assert "# TYPE broker_bytes_sent counter\nbroker_bytes_sent 99.0\n" in text


def test_carry_over_fills_gaps_only_when_safe() -> None:
    first = Memory(100.0, {"$SYS/broker/uptime": b"50 seconds", "$SYS/broker/heap/maximum": b"9"})
    later = Memory(100.0 + CARRY_WINDOW - 1, {"$SYS/broker/uptime": b"99 seconds"})
    assert carry_over(first, later).values["$SYS/broker/heap/maximum"] == b"9"
    assert carry_over(None, later) is later
    too_late = Memory(100.0 + CARRY_WINDOW + 1, {"$SYS/broker/uptime": b"99 seconds"})
    assert carry_over(first, too_late) is too_late  # a change may have expired unseen
    restarted = Memory(110.0, {"$SYS/broker/uptime": b"3 seconds"})
    assert carry_over(first, restarted) is restarted
    no_uptime = Memory(110.0, {})
    assert carry_over(first, no_uptime) is no_uptime


def test_split_address() -> None:
    assert split_address("10.0.0.5:1884") == ("10.0.0.5", 1884)
    assert split_address("broker.lan") == ("broker.lan", 1883)
    assert split_address("tcp://broker.lan:1885/") == ("broker.lan", 1885)
    assert split_address("mqtt://[::1]:1886") == ("::1", 1886)
    assert split_address("[::1]") == ("::1", 1883)
    assert split_address("::1") == ("::1", 1883)
    for bad in ("ssl://broker:8883", "ws://broker:9001", "broker:99999", "broker:x"):
        with pytest.raises(mqtt.ServiceDown, match="config"):
            split_address(bad)


def test_registry_and_params_schema() -> None:
    assert "mqtt" in registry.module_names()
    assert isinstance(registry.create("mqtt"), MqttModule)
    assert "mosquitto-exporter" in registry.describe("mqtt")
    with pytest.raises(ConfigErrors) as caught:
        inventory_from_text(
            """
version: 1
deployments:
  - name: p
    provider: loopback
    services:
      - {name: b, module: mqtt, address: "127.0.0.1:1883",
         params: {password_env: PW, echo_topic_prefix: "a/#", tls: true}}
""",
            "<test>",
        )
    text = str(caught.value)
    assert "'username' is a dependency of 'password_env'" in text
    assert "echo_topic_prefix" in text
    assert "'tls' was unexpected" in text


# --------------------------------------------------------------------------------------------
# A real mosquitto
# --------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_probe_real_broker(broker: Mosquitto) -> None:
    result = probe(service(broker.address))
    assert result.errors == {}
    assert value(result, "probe_success") == 1
    assert 0 < value(result, "probe_duration_seconds") < 5
    (labels, one), *_ = result.families.samples("broker_version_info")
    assert labels["version"].startswith("mosquitto version 2.") and one == 1
    assert value(result, "broker_uptime") >= 0
    assert value(result, "broker_bytes_sent") >= 0
    assert value(result, "broker_load_connections_1min") >= 0
    assert result.families.names() <= {s.name for s in MqttModule().specs()}
    text = result.families.render().decode()
    assert "# TYPE broker_bytes_received counter\nbroker_bytes_received " in text
    assert "broker_bytes_received_total" not in text


@pytest.mark.e2e
def test_clients_connected_counts_a_subscriber(broker: Mosquitto) -> None:
    with broker.subscriber("fleetwatch-test/clients"):
        wait_for(
            lambda: (
                (probe(service(broker.address)).families.get("broker_clients_connected") or 0) >= 1
            ),
            "broker_clients_connected >= 1 while mosquitto_sub is connected",
        )
        result = probe(service(broker.address))
        assert value(result, "broker_clients_connected") >= 1
        assert value(result, "broker_clients_total") >= 1


@pytest.mark.e2e
def test_messages_received_grows_after_publishing(broker: Mosquitto) -> None:
    before = probe(service(broker.address))
    received = value(before, "broker_messages_received")
    published = value(before, "broker_publish_messages_received")
    for i in range(5):
        broker.pub("fleetwatch-test/grow", str(i))
    wait_for(
        lambda: (
            (probe(service(broker.address)).families.get("broker_messages_received") or 0)
            >= received + 5
        ),
        "broker_messages_received to grow by the 5 messages published",
    )
    after = probe(service(broker.address))
    assert value(after, "broker_publish_messages_received") >= published + 5


async def _session(
    port: int, filters: list[str], linger: float, first: bytes = b""
) -> list[tuple[str, bool]]:
    """Send ``first`` (packets), subscribe to ``filters`` and an echo topic, publish the echo
    after the SUBACK, and read for ``linger`` s after it comes back: [(topic, retain flag)] in
    arrival order, the echo as "ECHO"."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    nonce = secrets.token_hex(8)
    echo = f"fleetwatch/probe/{nonce}"
    writer.write(wire.encode_connect(f"fleetwatch-t{nonce[:10]}") + first)
    writer.write(wire.encode_subscribe(1, [*((f, 0) for f in filters), (echo, 0)]))
    decoder, seen, end = wire.PacketDecoder(), [], time.monotonic() + 20
    try:
        while time.monotonic() < end:
            try:
                data = await asyncio.wait_for(reader.read(65536), end - time.monotonic())
            except TimeoutError:
                break
            assert data, "the broker closed the connection"
            for packet in decoder.feed(data):
                if packet.kind == wire.SUBACK:
                    writer.write(wire.encode_publish(echo, nonce.encode()))
                elif packet.kind == wire.PUBLISH:
                    pub = wire.decode_publish(packet)
                    if pub.topic == echo:
                        seen.append(("ECHO", False))
                        end = time.monotonic() + linger
                    else:
                        seen.append((pub.topic, pub.retain))
    finally:
        writer.write(wire.DISCONNECT_PACKET)
        writer.close()
        await writer.wait_closed()
    assert ("ECHO", False) in seen, "no echo within 20 s"
    return seen


@pytest.mark.e2e
async def test_every_retained_message_arrives_before_the_echo(broker: Mosquitto) -> None:
    """What the module relies on: mosquitto queues retained messages on SUBSCRIBE, before
    the echo published after the SUBACK, also when there are hundreds of them."""
    count = 300
    retain = b"".join(
        wire.encode_publish(f"fleetwatch-test/retained/{i}", b"x" * (i + 1), retain=True)
        for i in range(count)
    )
    await _session(broker.port, [], linger=0.0, first=retain)  # stored once its echo is back
    for attempt in range(3):
        seen = await _session(broker.port, ["$SYS/#", "fleetwatch-test/retained/#"], linger=1.0)
        echo = seen.index(("ECHO", False))
        before, after = seen[:echo], seen[echo + 1 :]
        retained = {t for t, r in before if t.startswith("fleetwatch-test/") and r}
        assert len(retained) == count, (attempt, len(retained))
        assert [t for t, r in after if r] == [], "a retained message came after the echo"


def _scripted_broker(sessions: list[dict[str, bytes]]) -> Any:
    """A peer that speaks just enough MQTT: CONNACK, SUBACK, then the $SYS payloads of the
    next session in ``sessions``, then the echo of whatever the client publishes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder, sys_values = wire.PacketDecoder(), sessions.pop(0)
        while data := await reader.read(4096):
            for packet in decoder.feed(data):
                if packet.kind == wire.CONNECT:
                    writer.write(b"\x20\x02\x00\x00")
                elif packet.kind == wire.SUBSCRIBE:
                    writer.write(b"\x90\x04" + packet.body[:2] + b"\x00\x00")
                    for topic, payload in sys_values.items():
                        writer.write(wire.encode_publish(topic, payload, retain=True))
                elif packet.kind == wire.PUBLISH:  # the echo
                    pub = wire.decode_publish(packet)
                    writer.write(wire.encode_publish(pub.topic, pub.payload))

    return handle


async def test_remembered_values_fill_topics_mosquitto_let_expire() -> None:
    uptime, heap = "$SYS/broker/uptime", "$SYS/broker/heap/maximum"
    sessions = [
        {uptime: b"10 seconds", heap: b"5000"},
        {uptime: b"12 seconds"},  # heap/maximum unchanged for 60 s: its retained copy expired
        {uptime: b"14 seconds"},  # ... and the previous probe is too long ago
        {uptime: b"20 seconds", heap: b"6000"},
        {uptime: b"2 seconds"},  # restarted
    ]
    module = MqttModule()
    async with peer(_scripted_broker(sessions)) as address:
        target = service(address)
        heaps = []
        for i in range(5):
            if i == 2:
                module._memory[(target.name, target.address)].at -= CARRY_WINDOW + 1
            result = await module.probe(target, 2.0)
            assert result.errors == {}, result.errors
            heaps.append(result.families.get("broker_heap_maximum"))
    assert heaps == [5000, 5000, None, 6000, None]


# --------------------------------------------------------------------------------------------
# Passwords and ACLs (a second mosquitto)
# --------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_password_from_env_and_file(
    auth_broker: Mosquitto, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FW_MQTT_PASSWORD", USERS["fleetwatch"])
    by_env = probe(
        service(auth_broker.address, username="fleetwatch", password_env="FW_MQTT_PASSWORD")
    )
    assert by_env.errors == {} and value(by_env, "broker_uptime") >= 0
    secret = tmp_path / "mqtt-password"
    secret.write_text(USERS["fleetwatch"] + "\n")
    by_file = probe(service(auth_broker.address, username="fleetwatch", password_file=str(secret)))
    assert by_file.errors == {} and value(by_file, "probe_success") == 1


@pytest.mark.e2e
def test_wrong_or_missing_password(auth_broker: Mosquitto, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FW_MQTT_WRONG", "not-the-password")
    wrong = probe(service(auth_broker.address, username="fleetwatch", password_env="FW_MQTT_WRONG"))
    reason = failed(wrong, "auth: CONNACK return code 5")
    assert "not-the-password" not in reason
    failed(probe(service(auth_broker.address)), "auth: CONNACK return code 5")
    unset = probe(service(auth_broker.address, username="x", password_env="FW_MQTT_UNSET_VAR"))
    assert "FW_MQTT_UNSET_VAR" in failed(unset, "config:")


@pytest.mark.e2e
def test_echo_denied_by_acl_times_out_with_reason(
    auth_broker: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FW_MQTT_NOECHO", USERS["noecho"])
    target = service(auth_broker.address, username="noecho", password_env="FW_MQTT_NOECHO")
    began = time.monotonic()
    result = probe(target, timeout=1.0)
    assert time.monotonic() - began < 2.0
    reason = failed(result, "timeout: the probe's own message on fleetwatch/probe/")
    assert "within 1 s (denied by an ACL?)" in reason


@pytest.mark.e2e
def test_echo_topic_prefix(auth_broker: Mosquitto, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FW_MQTT_CUSTOM", USERS["custom"])
    params = {"username": "custom", "password_env": "FW_MQTT_CUSTOM"}
    ok = probe(service(auth_broker.address, echo_topic_prefix="custom/echo", **params))
    assert ok.errors == {} and value(ok, "probe_success") == 1
    denied = probe(service(auth_broker.address, **params), timeout=0.5)
    failed(denied, "")  # the default prefix is not allowed for this user
    assert "fleetwatch/probe/" in denied.errors["mqtt"]


# --------------------------------------------------------------------------------------------
# Peers that are not (working) brokers
# --------------------------------------------------------------------------------------------


def test_broker_down() -> None:
    port = free_port()
    assert failed(probe(service(f"127.0.0.1:{port}")), "connect:").endswith("Connection refused")


async def test_silent_peer_times_out_within_the_deadline() -> None:
    async with peer(hold) as address:
        began = time.monotonic()
        result = await MqttModule().probe(service(address), 0.5)
        assert time.monotonic() - began < 1.0
    assert "no CONNACK within 0.5 s" in failed(result, "timeout:")
    assert value(result, "probe_duration_seconds") < 1.0


@pytest.mark.parametrize(
    ("answer", "kind", "detail"),
    [
        (b"\x00\x00garbage", "protocol: not MQTT", "reserved packet type 0"),
        (b"\x20\xff\xff\xff\x7f", "protocol: not MQTT", "CONNACK of 268435455 bytes"),
        (b"\x90\x03\x00\x01\x00", "protocol: not MQTT", "expected CONNACK, got SUBACK"),
        (b"\x20\x02\x00\x01", "refused: CONNACK return code 1", "protocol version"),
        (b"\x20\x02\x00\x04", "auth: CONNACK return code 4", "bad user name or password"),
        (b"", "closed:", "before CONNACK"),
    ],
)
async def test_peer_answers_garbage(answer: bytes, kind: str, detail: str) -> None:
    async def answer_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)
        writer.write(answer)
        await writer.drain()
        writer.close()

    async with peer(answer_and_close) as address:
        result = await MqttModule().probe(service(address), 2.0)
    assert detail in failed(result, kind)


async def test_random_bytes_never_crash() -> None:
    rng = random.Random(20261122)
    for _ in range(30):
        answer = rng.randbytes(rng.randint(1, 200))

        async def reply(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answer: bytes = answer
        ) -> None:
            await reader.read(4096)
            writer.write(answer)
            await writer.drain()
            await hold(reader, writer)

        async with peer(reply) as address:
            result = await MqttModule().probe(service(address), 0.3)
        reason = result.errors["mqtt"]
        assert reason.split(":")[0] in {"protocol", "timeout", "refused", "auth", "closed"}, reason


def _fake_broker(suback: bytes) -> Any:
    """A peer that accepts CONNECT and SUBSCRIBE (answering ``suback``'s codes) and then
    never delivers anything: no $SYS, no echo."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = wire.PacketDecoder()
        while data := await reader.read(4096):
            for packet in decoder.feed(data):
                if packet.kind == wire.CONNECT:
                    writer.write(b"\x20\x02\x00\x00")
                elif packet.kind == wire.SUBSCRIBE:
                    writer.write(b"\x90" + bytes((2 + len(suback),)) + packet.body[:2] + suback)

    return handle


async def test_broker_that_never_echoes() -> None:
    async with peer(_fake_broker(b"\x00\x00")) as address:
        result = await MqttModule().probe(service(address, echo_topic_prefix="x/y/"), 0.5)
    reason = failed(result, "timeout: the probe's own message on x/y/")
    assert reason.endswith("did not come back within 0.5 s (denied by an ACL?)")


async def test_broker_refusing_sys_subscription() -> None:
    async with peer(_fake_broker(b"\x80\x00")) as address:
        result = await MqttModule().probe(service(address), 2.0)
    assert failed(result, "refused:").endswith("the subscription to $SYS/#")


@pytest.mark.e2e
def test_real_http_server_that_waits_for_a_line_times_out() -> None:
    # python's http.server reads a request line: MQTT's CONNECT has no newline, so it waits
    port = free_port()
    server = Server("http.server")
    argv = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    try:
        server.start(argv, ready=lambda: port_open("127.0.0.1", port), timeout=10)
        result = probe(service(f"127.0.0.1:{port}"), timeout=0.5)
    finally:
        server.close()
    failed(result, "timeout: no CONNACK")


# --------------------------------------------------------------------------------------------
# Through the exporter's HTTP contract
# --------------------------------------------------------------------------------------------


@pytest.mark.e2e
async def test_mqtt_service_via_probe(broker: Mosquitto) -> None:
    inv = inventory_from_text(
        f"""
version: 1
deployments:
  - name: iot
    provider: loopback
    services:
      - {{name: broker, module: mqtt, address: "127.0.0.1:{broker.port}",
         params: {{timeout_seconds: 3}}}}
      - {{name: gone, module: mqtt, address: "127.0.0.1:{free_port()}"}}
""",
        "<test>",
    )
    app = Exporter(inv).app()
    async with TestClient(TestServer(app)) as client:
        ok = await client.get("/probe", params={"target": "broker", "module": "mqtt"})
        assert ok.status == 200
        text = await ok.text()
        assert "probe_success 1.0" in text
        assert "# TYPE broker_bytes_received counter\nbroker_bytes_received " in text
        assert 'broker_version_info{version="mosquitto version 2.' in text
        gone = await client.get("/probe", params={"target": "gone"})
        assert gone.status == 200  # blackbox-style: the exporter answers, probe_success says 0
        assert "probe_success 0.0" in await gone.text()
        # an HTTP server is not a broker: point the module at this exporter's own port
        http_target = service(f"127.0.0.1:{client.port}")
        result = await MqttModule().probe(http_target, 2.0)
        assert "(first bytes b'HTTP/1." in failed(result, "protocol: not MQTT")
        metrics = await (await client.get("/metrics")).text()
        assert 'module="mqtt"' in metrics


# --------------------------------------------------------------------------------------------
# broker_clients_connected on an idle broker (published only when it changes)
# --------------------------------------------------------------------------------------------

CONNECTED = "$SYS/broker/clients/connected"


def _ticking_broker(tick_after: float | None) -> Any:
    """A peer like Mosquitto on an idle broker: no retained clients/connected (expired), and
    the next $SYS tick, ``tick_after`` seconds after the echo, publishes it (None: never)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = wire.PacketDecoder()
        while data := await reader.read(4096):
            for packet in decoder.feed(data):
                if packet.kind == wire.CONNECT:
                    writer.write(b"\x20\x02\x00\x00")
                elif packet.kind == wire.SUBSCRIBE:
                    writer.write(b"\x90\x04" + packet.body[:2] + b"\x00\x00")
                    writer.write(
                        wire.encode_publish("$SYS/broker/uptime", b"9 seconds", retain=True)
                    )
                elif packet.kind == wire.PUBLISH:
                    pub = wire.decode_publish(packet)
                    writer.write(wire.encode_publish(pub.topic, pub.payload))
                    if tick_after is not None:
                        await asyncio.sleep(tick_after)
                        writer.write(wire.encode_publish(CONNECTED, b"1", retain=True))

    return handle


async def test_probe_waits_for_the_next_tick_when_clients_connected_expired() -> None:
    module = MqttModule()
    async with peer(_ticking_broker(0.3)) as address:
        result = await module.probe(service(address), 3.0)
    assert result.errors == {}
    assert result.families.get("broker_clients_connected") == 1
    assert 0.3 <= (result.families.get("probe_duration_seconds") or 0) < 2


async def test_probe_without_clients_connected_ends_within_its_deadline() -> None:
    started = time.monotonic()
    async with peer(_ticking_broker(None)) as address:
        result = await MqttModule().probe(service(address), 2.0)
    assert result.errors == {}
    assert result.families.get("probe_success") == 1
    assert result.families.get("broker_clients_connected") is None
    assert result.families.get("broker_uptime") == 9
    assert time.monotonic() - started < 2.0


async def test_a_fresh_remembered_value_spares_the_wait() -> None:
    module = MqttModule()
    async with peer(_ticking_broker(0.5)) as address:
        target = service(address)
        first = await module.probe(target, 3.0)
        second = await module.probe(target, 3.0)  # the peer's next tick is again 0.5 s away
    assert first.families.get("broker_clients_connected") == 1
    assert second.families.get("broker_clients_connected") == 1  # remembered
    assert (second.families.get("probe_duration_seconds") or 1) < 0.4


def _retained_connected(port: int) -> bool:
    """Whether the broker still holds a retained clients/connected (no waiting for ticks)."""
    values = asyncio.run(mqtt.read_sys("127.0.0.1", port, mqtt.Session()))
    return CONNECTED in values


@pytest.mark.e2e
def test_clients_connected_on_every_probe_of_an_idle_broker() -> None:
    """The bug of issue 13: Mosquitto lets the retained value expire after 60 s without a
    change, and short probes between two $SYS ticks never change it: absent from 5 of 5."""
    require("mosquitto")
    with Mosquitto(name="mosquitto-idle") as idle:
        wait_until(
            lambda: not _retained_connected(idle.port),
            90.0,
            "mosquitto's retained clients/connected to expire (60 s after its last change)",
            interval=2.0,
        )
        module = MqttModule()
        for i in range(5):
            fresh = probe(service(idle.address), 5.0)  # a restarted exporter: no memory
            kept = probe(service(idle.address), 5.0, module)
            for result in (fresh, kept):
                assert result.errors == {}, (i, result.errors)
                assert value(result, "broker_clients_connected") >= 0, i
