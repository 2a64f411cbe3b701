"""MQTT 3.1.1 on the wire, as pure functions: the few packets the ``mqtt`` module sends, and a
decoder for what a broker (or anything else on that port) answers.

Nothing here does I/O.  Encoders return bytes; ``PacketDecoder.feed`` takes bytes as they come
off the socket and returns the complete packets, keeping a partial one for the next call.
Anything that is not MQTT raises ``WireError`` with a short description (never another
exception): a reserved packet type, flags the specification forbids, a remaining length of more
than four bytes or above the decoder's limit, a string running past its packet.

References: OASIS MQTT 3.1.1, sections 2 (fixed header, remaining length), 3.1 (CONNECT),
3.2 (CONNACK), 3.3 (PUBLISH), 3.8/3.9 (SUBSCRIBE/SUBACK), 3.14 (DISCONNECT).
"""

from __future__ import annotations

from dataclasses import dataclass

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14

PACKET_NAMES = {
    CONNECT: "CONNECT",
    CONNACK: "CONNACK",
    PUBLISH: "PUBLISH",
    PUBACK: "PUBACK",
    PUBREC: "PUBREC",
    PUBREL: "PUBREL",
    PUBCOMP: "PUBCOMP",
    SUBSCRIBE: "SUBSCRIBE",
    SUBACK: "SUBACK",
    UNSUBSCRIBE: "UNSUBSCRIBE",
    UNSUBACK: "UNSUBACK",
    PINGREQ: "PINGREQ",
    PINGRESP: "PINGRESP",
    DISCONNECT: "DISCONNECT",
}
#: flags the specification fixes per packet type (PUBLISH carries its own: dup, qos, retain)
_FIXED_FLAGS = {t: (0b0010 if t in (PUBREL, SUBSCRIBE, UNSUBSCRIBE) else 0) for t in PACKET_NAMES}

MAX_REMAINING_LENGTH = 268_435_455
"""The largest remaining length four bytes can encode (2**28 - 1)."""
DEFAULT_MAX_PACKET = 1 << 20
"""The decoder's default limit: $SYS payloads are a few bytes; a peer announcing more is not a
broker worth waiting for (and must not make the prober buffer 256 MiB)."""

CONNACK_CODES = {
    0: "connection accepted",
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}
SUBACK_FAILURE = 0x80

PROTOCOL_NAME = "MQTT"
PROTOCOL_LEVEL = 4  # 3.1.1

DISCONNECT_PACKET = bytes((DISCONNECT << 4, 0))
PINGREQ_PACKET = bytes((PINGREQ << 4, 0))


class WireError(Exception):
    """The bytes are not (valid) MQTT 3.1.1."""


@dataclass(frozen=True)
class Packet:
    """One control packet: type (1-14), the fixed header's low four bits, the rest."""

    kind: int
    flags: int
    body: bytes

    @property
    def name(self) -> str:
        return PACKET_NAMES.get(self.kind, f"type {self.kind}")


@dataclass(frozen=True)
class Publish:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    dup: bool
    packet_id: int | None


# --------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------


def encode_remaining_length(length: int) -> bytes:
    """The variable-length integer: 7 bits a byte, least significant first, high bit = more."""
    if not 0 <= length <= MAX_REMAINING_LENGTH:
        raise ValueError(f"remaining length {length} outside 0..{MAX_REMAINING_LENGTH}")
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | 0x80 if length else byte)
        if not length:
            return bytes(out)


def encode_string(text: str) -> bytes:
    """A UTF-8 string with its two-byte length."""
    return encode_binary(text.encode("utf-8"))


def encode_binary(data: bytes) -> bytes:
    if len(data) > 0xFFFF:
        raise ValueError(f"string of {len(data)} bytes: at most 65535")
    return len(data).to_bytes(2, "big") + data


def _packet(kind: int, flags: int, body: bytes) -> bytes:
    return bytes(((kind << 4) | flags,)) + encode_remaining_length(len(body)) + body


def encode_connect(
    client_id: str,
    *,
    username: str | None = None,
    password: str | None = None,
    keepalive: int = 60,
    clean_session: bool = True,
) -> bytes:
    """CONNECT without a will.  A password needs a user name in 3.1.1 (section 3.1.2.9)."""
    if password is not None and username is None:
        raise ValueError("MQTT 3.1.1 sends a password only together with a user name")
    if not 0 <= keepalive <= 0xFFFF:
        raise ValueError(f"keepalive {keepalive} outside 0..65535")
    flags = (0x80 if username is not None else 0) | (0x40 if password is not None else 0)
    flags |= 0x02 if clean_session else 0
    body = encode_string(PROTOCOL_NAME) + bytes((PROTOCOL_LEVEL, flags))
    body += keepalive.to_bytes(2, "big") + encode_string(client_id)
    if username is not None:
        body += encode_string(username)
    if password is not None:
        body += encode_binary(password.encode("utf-8"))
    return _packet(CONNECT, 0, body)


def encode_subscribe(packet_id: int, filters: list[tuple[str, int]]) -> bytes:
    """SUBSCRIBE one or more (topic filter, requested QoS)."""
    if not 1 <= packet_id <= 0xFFFF:
        raise ValueError(f"packet identifier {packet_id} outside 1..65535")
    if not filters:
        raise ValueError("SUBSCRIBE needs at least one topic filter")
    body = packet_id.to_bytes(2, "big")
    for topic, qos in filters:
        if qos not in (0, 1, 2):
            raise ValueError(f"QoS {qos}")
        body += encode_string(topic) + bytes((qos,))
    return _packet(SUBSCRIBE, _FIXED_FLAGS[SUBSCRIBE], body)


def encode_publish(topic: str, payload: bytes, *, retain: bool = False) -> bytes:
    """A QoS 0 PUBLISH (no packet identifier)."""
    return _packet(PUBLISH, 0x01 if retain else 0, encode_string(topic) + payload)


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


def decode_remaining_length(data: bytes | bytearray, offset: int = 1) -> tuple[int, int] | None:
    """(length, bytes used) of the remaining length at ``offset``; None when more bytes are
    needed.  A fifth length byte is malformed (section 2.2.3)."""
    value, shift = 0, 0
    for used in range(1, 5):
        if offset + used > len(data):
            return None
        byte = data[offset + used - 1]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, used
        shift += 7
    raise WireError("remaining length longer than four bytes")


def check_header(first: int) -> tuple[int, int]:
    """(type, flags) of a fixed header's first byte; WireError for what 3.1.1 forbids."""
    kind, flags = first >> 4, first & 0x0F
    if kind not in PACKET_NAMES:
        raise WireError(f"reserved packet type {kind}")
    if kind == PUBLISH:
        if (flags >> 1) & 0x03 == 3:
            raise WireError("PUBLISH with QoS 3")
    elif flags != _FIXED_FLAGS[kind]:
        raise WireError(f"{PACKET_NAMES[kind]} with flags 0x{flags:x}")
    return kind, flags


class PacketDecoder:
    """Split a byte stream into packets; ``max_packet`` bounds one packet's remaining length."""

    def __init__(self, max_packet: int = DEFAULT_MAX_PACKET) -> None:
        self.max_packet = max_packet
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes received that do not yet form a complete packet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Packet]:
        self._buffer += data
        packets: list[Packet] = []
        while self._buffer:
            kind, flags = check_header(self._buffer[0])
            length = decode_remaining_length(self._buffer)
            if length is None:
                break
            size, used = length
            if size > self.max_packet:
                raise WireError(f"{PACKET_NAMES[kind]} of {size} bytes (limit {self.max_packet})")
            end = 1 + used + size
            if len(self._buffer) < end:
                break
            packets.append(Packet(kind, flags, bytes(self._buffer[1 + used : end])))
            del self._buffer[:end]
        return packets


def _read_string(body: bytes, offset: int, what: str) -> tuple[bytes, int]:
    if offset + 2 > len(body):
        raise WireError(f"{what}: length runs past the packet")
    size = int.from_bytes(body[offset : offset + 2], "big")
    end = offset + 2 + size
    if end > len(body):
        raise WireError(f"{what}: {size} bytes announced, {len(body) - offset - 2} present")
    return body[offset + 2 : end], end


def decode_connack(packet: Packet) -> tuple[bool, int]:
    """(session present, return code) of a CONNACK."""
    if packet.kind != CONNACK:
        raise WireError(f"expected CONNACK, got {packet.name}")
    if len(packet.body) != 2:
        raise WireError(f"CONNACK of {len(packet.body)} bytes (3.1.1 sends 2)")
    if packet.body[0] & 0xFE:
        raise WireError(f"CONNACK with reserved acknowledge flags 0x{packet.body[0]:02x}")
    return bool(packet.body[0] & 0x01), packet.body[1]


def decode_suback(packet: Packet) -> tuple[int, list[int]]:
    """(packet identifier, one return code per filter: 0-2 granted QoS, 0x80 failure)."""
    if packet.kind != SUBACK:
        raise WireError(f"expected SUBACK, got {packet.name}")
    if len(packet.body) < 3:
        raise WireError(f"SUBACK of {len(packet.body)} bytes")
    codes = list(packet.body[2:])
    for code in codes:
        if code not in (0, 1, 2, SUBACK_FAILURE):
            raise WireError(f"SUBACK return code 0x{code:02x}")
    return int.from_bytes(packet.body[:2], "big"), codes


def decode_publish(packet: Packet) -> Publish:
    if packet.kind != PUBLISH:
        raise WireError(f"expected PUBLISH, got {packet.name}")
    qos = (packet.flags >> 1) & 0x03
    raw, offset = _read_string(packet.body, 0, "PUBLISH topic")
    try:
        topic = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError("PUBLISH topic is not UTF-8") from None
    if not topic:
        raise WireError("PUBLISH with an empty topic")
    packet_id = None
    if qos:
        if offset + 2 > len(packet.body):
            raise WireError("PUBLISH without its packet identifier")
        packet_id = int.from_bytes(packet.body[offset : offset + 2], "big")
        offset += 2
    return Publish(
        topic,
        packet.body[offset:],
        qos,
        bool(packet.flags & 0x01),
        bool(packet.flags & 0x08),
        packet_id,
    )
