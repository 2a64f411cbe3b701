"""The redis module against a real redis-server, measured against prometheus-redis-exporter."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.services.redis import (
    PARAMS_SCHEMA,
    RedisModule,
    info_families,
    parse_check_key,
    parse_info,
    split_address,
)
from servers import free_port

REDIS_CHECK_KEYS = ["bull:email:wait", "rq:queue:default", "3:celery", "counter", "nokey"]
SKIPPED = {
    # fleetwatch's own metrics are never mixed into a probe
    "redis_exporter_build_info",
    "redis_exporter_last_scrape_connect_time_seconds",
    "redis_exporter_last_scrape_duration_seconds",
    "redis_exporter_last_scrape_error",
    "redis_exporter_scrape_duration_seconds",
    "redis_exporter_scrapes_total",
    "redis_target_scrape_request_errors_total",
    "redis_last_key_groups_scrape_duration_milliseconds",
    # not emitted (see the report): a summary Families cannot render, a value as a label
    "redis_latency_percentiles_usec",
    "redis_latency_percentiles_usec_sum",
    "redis_latency_percentiles_usec_count",
    "redis_key_value_as_string",
}


def probe(service: Any, timeout: float = 5.0) -> Any:
    return asyncio.run(RedisModule().probe(service, timeout))


@pytest.fixture(scope="module")
def loaded(redis_server: Any) -> Any:
    redis_server.cli("FLUSHALL")
    redis_server.cli("RPUSH", "bull:email:wait", "1", "2", "3")
    redis_server.cli("LPUSH", "rq:queue:default", "a", "b")
    redis_server.cli("-n", "3", "RPUSH", "celery", "t1", "t2", "t3", "t4")
    redis_server.cli("SET", "counter", "42")
    redis_server.cli("SETEX", "session", "1000", "x")
    redis_server.cli("HSET", "h", "a", "1")
    return redis_server


@pytest.mark.e2e
def test_families_match_redis_exporter(
    loaded: Any, redis_exporter: Any, exposition: Callable[..., Any], make_service: Any
) -> None:
    result = probe(make_service("cache", "redis", loaded.address, check_keys=REDIS_CHECK_KEYS))
    assert result.errors == {}
    ours = exposition(result.families.render().decode())
    theirs = exposition(redis_exporter.metrics())
    theirs = {
        k: v
        for k, v in theirs.items()
        if k.startswith("redis_") and not k.startswith("redis_exporter_") and k not in SKIPPED
    }
    missing = sorted(set(theirs) - set(ours))
    assert not missing, f"redis_exporter families fleetwatch lacks: {missing}"
    for name, (typ, labels, _) in theirs.items():
        assert ours[name][0] == typ, name
        assert ours[name][1] == labels, name
    # every family fleetwatch declares is a redis_exporter name (catalog == emitted names)
    declared = {s.name for s in RedisModule().specs()}
    assert set(ours) <= declared
    for name in ("redis_db_keys", "redis_db_keys_expiring", "redis_key_size", "redis_key_value"):
        assert ours[name][2] == theirs[name][2], name
    for name in (
        "redis_up",
        "redis_config_maxclients",
        "redis_memory_max_bytes",
        "redis_aof_enabled",
    ):
        assert ours[name][2] == theirs[name][2], name
    assert ours["redis_instance_info"][2].keys() == theirs["redis_instance_info"][2].keys()


@pytest.mark.e2e
def test_queue_depth_is_the_list_length(loaded: Any, make_service: Any) -> None:
    svc = make_service("cache", "redis", loaded.address, check_keys=REDIS_CHECK_KEYS)
    fams = probe(svc).families
    assert fams.get("redis_key_size", {"db": "db0", "key": "bull:email:wait"}) == 3
    assert fams.get("redis_key_size", {"db": "db0", "key": "rq:queue:default"}) == 2
    assert fams.get("redis_key_size", {"db": "db3", "key": "celery"}) == 4
    assert fams.get("redis_key_size", {"db": "db0", "key": "nokey"}) == 0
    assert fams.get("redis_key_value", {"db": "db0", "key": "counter"}) == 42
    loaded.cli("RPUSH", "bull:email:wait", "4", "5")
    try:
        assert (
            probe(svc).families.get("redis_key_size", {"db": "db0", "key": "bull:email:wait"}) == 5
        )
    finally:
        loaded.cli("RPOP", "bull:email:wait", "2")
    assert fams.get("redis_up") == 1
    assert fams.get("redis_db_keys", {"db": "db3"}) == 1


def test_dead_server_is_up_0_with_reason(make_service: Any) -> None:
    result = probe(make_service("gone", "redis", f"127.0.0.1:{free_port()}"))
    assert result.families.get("redis_up") == 0
    assert len(result.families) == 1
    assert result.errors["redis"].startswith("connect:"), result.errors


@pytest.mark.e2e
def test_wrong_password_is_up_0_with_reason(
    redis_auth_server: Any, make_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FW_REDIS_PW", "not-the-password")
    bad = make_service("r", "redis", redis_auth_server.address, password_env="FW_REDIS_PW")
    result = probe(bad)
    assert result.families.get("redis_up") == 0
    assert result.errors["redis"].startswith("auth:"), result.errors
    assert "not-the-password" not in result.errors["redis"]
    result = probe(make_service("r", "redis", redis_auth_server.address))  # no password at all
    assert result.families.get("redis_up") == 0
    assert result.errors["redis"].startswith("auth:"), result.errors
    monkeypatch.setenv("FW_REDIS_PW", redis_auth_server.password)
    good = probe(bad)
    assert good.errors == {}
    assert good.families.get("redis_up") == 1


def test_missing_password_env_is_up_0_not_a_crash(make_service: Any) -> None:
    svc = make_service("r", "redis", "127.0.0.1:1", password_env="FW_SURELY_UNSET_VARIABLE")
    result = probe(svc)
    assert result.families.get("redis_up") == 0
    assert result.errors["redis"].startswith("config:")


async def _fake_server(reply: bytes) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.read(4096):
                writer.write(reply)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    sock: socket.socket = server.sockets[0]
    return server, sock.getsockname()[1]


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (b"$11\r\nhello world\r\n", "parse:"),
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "protocol:"),
        (b"$99999999999\r\n", "protocol:"),
        (b"-ERR unknown command\r\n", "reply:"),
    ],
)
async def test_garbage_server_is_up_0_with_reason(
    reply: bytes, kind: str, make_service: Any
) -> None:
    server, port = await _fake_server(reply)
    async with server:
        result = await RedisModule().probe(make_service("x", "redis", f"127.0.0.1:{port}"), 2.0)
    assert result.families.get("redis_up") == 0
    assert result.errors["redis"].startswith(kind), result.errors


async def test_silent_server_times_out(make_service: Any) -> None:
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(4096)
            await done.wait()  # never answer, until the probe has given up
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await RedisModule().probe(make_service("x", "redis", f"127.0.0.1:{port}"), 0.3)
        done.set()
        await asyncio.sleep(0.05)
    assert result.families.get("redis_up") == 0
    assert result.errors["redis"].startswith("timeout:")


INFO_SAMPLE = """# Server\r
redis_version:7.0.15\r
redis_mode:standalone\r
uptime_in_seconds:100\r
server_time_usec:1700000000500000\r
\r
# Memory\r
used_memory:1024\r
used_memory_human:1.00K\r
maxmemory:0\r
# Persistence\r
rdb_last_bgsave_status:err\r
# Stats\r
keyspace_hits:7\r
latest_fork_usec:1500\r
# Commandstats\r
cmdstat_get:calls=3,usec=6,usec_per_call=2.00,rejected_calls=0,failed_calls=1\r
# Errorstats\r
errorstat_ERR:count=2\r
# Keyspace\r
db0:keys=5,expires=1,avg_ttl=2500\r
"""


def test_parse_info_values() -> None:
    fams: Families = info_families(parse_info(INFO_SAMPLE), databases=2)
    assert fams.get("redis_memory_used_bytes") == 1024
    assert fams.get("redis_keyspace_hits_total") == 7
    assert fams.get("redis_rdb_last_bgsave_status") == 0
    assert fams.get("redis_latest_fork_seconds") == pytest.approx(0.0015)
    assert fams.get("redis_start_time_seconds") == 1700000000 - 100
    assert fams.get("redis_commands_total", {"cmd": "get"}) == 3
    assert fams.get("redis_commands_duration_seconds_total", {"cmd": "get"}) == pytest.approx(6e-6)
    assert fams.get("redis_commands_failed_calls_total", {"cmd": "get"}) == 1
    assert fams.get("redis_errors_total", {"err": "ERR"}) == 2
    assert fams.get("redis_db_keys", {"db": "db0"}) == 5
    assert fams.get("redis_db_keys", {"db": "db1"}) == 0
    assert fams.get("redis_db_avg_ttl_seconds", {"db": "db0"}) == 2.5
    assert fams.get("redis_db_avg_ttl_seconds", {"db": "db1"}) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world",
        "<html><body>nope</body></html>",
        "# Server\nuptime_in_seconds:3\n",  # no redis_version: not INFO
        "redis_version:7\ncmdstat_get:calls=x\n",
        "redis_version:7\ndb0:keys\n",
    ],
)
def test_garbage_info_raises_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_info(text)


@given(st.text(max_size=300))
def test_parse_info_never_crashes(text: str) -> None:
    try:
        info = parse_info(text)
    except ParseError:
        return
    info_families(info, databases=1)


@given(st.text(alphabet=st.sampled_from("abc:0123_=,.\n#"), max_size=200))
def test_parse_info_on_info_like_text(text: str) -> None:
    try:
        info = parse_info("redis_version:7\n" + text)
    except ParseError:
        return
    info_families(info)


def test_helpers() -> None:
    assert parse_check_key("bull:q:wait") == (0, "bull:q:wait")
    assert parse_check_key("2:jobs") == (2, "jobs")
    assert parse_check_key("celery") == (0, "celery")
    assert split_address("10.0.0.1:6380") == ("10.0.0.1", 6380, None)
    assert split_address("cache") == ("cache", 6379, None)
    assert split_address("[::1]:7000") == ("::1", 7000, None)
    assert split_address("/run/redis.sock") == ("", 0, "/run/redis.sock")
    assert set(PARAMS_SCHEMA["properties"]) >= {"check_keys", "password_env", "password_file"}
    module = RedisModule()
    assert module.name == "redis" and module.pool_size() == 0
    asyncio.run(module.close())
