"""load_inventory: merged values of valid inventories, and one finding per problem."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from fleetwatch.errors import ConfigError, ConfigErrors, FleetwatchError
from fleetwatch.inventory import (
    Inventory,
    Resources,
    SSHSettings,
    Thresholds,
    default_inventory,
    inventory_from_text,
    load_inventory,
)
from fleetwatch.inventory.collector_options import DEFAULT_FS_TYPES_EXCLUDE, Options

Write = Callable[[str], Path]
Load = Callable[[str], Inventory]
Fail = Callable[[str], list[ConfigError]]

FULL = """\
version: 1
defaults:
  scrape_interval: 30s
  ssh:
    user: monitor
    port: 2200
    passphrase_env: FW_PASS
    connect_timeout: 3s
  thresholds: {cpu: 80, memory: 85, disk: 70}
  collectors:
    disable: [hwmon, arp]
    options:
      netdev_device_exclude: ^lo$
deployments:
  - name: prod
    provider: hetzner
    labels: {env: prod, team: web}
    resources: {cpu_cores: 8, memory: 32GiB, storage: 1TB}
    scrape_interval: 1m
    ssh:
      user: deploy
      passphrase_file: keys/pass.txt
    thresholds: {cpu: 85}
    collectors:
      enable: [mdadm]
      options:
        fs_types_exclude: ^tmpfs$
    hosts:
      - name: web-1
        address: 10.0.0.1
        labels: {team: shop, role: web}
      - name: web-2
        maintenance: true
        scrape_interval: 1m30s
        ssh:
          port: 2222
          passphrase_env: OTHER_PASS
          known_hosts: "off"
        thresholds: {disk: 95.5}
        collectors:
          enable: [arp]
          disable: [mdadm]
          options:
            textfile_directory: /var/lib/node_exporter/textfile
  - name: dev
    provider: aws
    hosts:
      - name: dev-1
        modules: [local]
"""


@pytest.fixture
def full(write: Write, tmp_path: Path) -> Inventory:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "pass.txt").write_text("s3cret\n")
    return load_inventory(write(FULL))


def test_defaults_apply_to_hosts_without_overrides(full: Inventory) -> None:
    dev = full.host("dev-1")
    assert dev.deployment == "dev"
    assert dev.provider == "aws"
    assert dev.address == "dev-1"  # defaults to the name
    assert dev.scrape_interval == "30s"
    assert dev.scrape_interval_seconds == 30.0
    assert dev.thresholds == Thresholds(cpu=80, memory=85, disk=70)
    assert dev.ssh == SSHSettings(
        user="monitor", port=2200, passphrase_env="FW_PASS", connect_timeout_seconds=3.0
    )
    assert dev.modules == ("local",)
    assert dev.labels == {}
    assert dev.maintenance is False
    assert dev.collectors_enable == ()
    assert dev.collectors_disable == ("hwmon", "arp")
    assert dev.options == Options(netdev_device_exclude="^lo$")
    assert full.deployment("dev").resources is None


def test_deployment_overrides_defaults(full: Inventory, tmp_path: Path) -> None:
    web1 = full.host("web-1")
    assert web1.address == "10.0.0.1"
    assert web1.scrape_interval == "1m"
    assert web1.scrape_interval_seconds == 60.0
    assert web1.thresholds == Thresholds(cpu=85, memory=85, disk=70)
    # passphrase_file at the deployment replaces the inherited passphrase_env
    assert web1.ssh == SSHSettings(
        user="deploy",
        port=2200,
        passphrase_file=str(tmp_path / "keys" / "pass.txt"),
        connect_timeout_seconds=3.0,
    )
    assert web1.modules == ("ssh",)
    assert web1.collectors_enable == ("mdadm",)
    assert web1.collectors_disable == ("hwmon", "arp")
    assert web1.options.fs_types_exclude == "^tmpfs$"
    assert web1.options.netdev_device_exclude == "^lo$"


def test_host_values_win(full: Inventory) -> None:
    web2 = full.host("web-2")
    assert web2.maintenance is True
    assert web2.scrape_interval == "1m30s"
    assert web2.scrape_interval_seconds == 90.0
    assert web2.ssh.port == 2222
    assert web2.ssh.user == "deploy"
    assert web2.ssh.passphrase_env == "OTHER_PASS"
    assert web2.ssh.passphrase_file is None
    assert web2.ssh.known_hosts == "off"
    assert web2.thresholds == Thresholds(cpu=85, memory=85, disk=95.5)
    assert web2.collectors_enable == ("arp",)
    assert web2.collectors_disable == ("hwmon", "mdadm")
    assert web2.options.textfile_directory == "/var/lib/node_exporter/textfile"
    assert web2.options.fs_types_exclude == "^tmpfs$"


def test_labels_merge_host_wins(full: Inventory) -> None:
    assert full.host("web-1").labels == {"env": "prod", "team": "shop", "role": "web"}
    assert full.host("web-2").labels == {"env": "prod", "team": "web"}
    assert full.deployment("prod").labels == {"env": "prod", "team": "web"}


def test_resources_and_lookups(full: Inventory, tmp_path: Path) -> None:
    assert full.path == str(tmp_path / "fleet.yaml")
    assert full.deployment("prod").resources == Resources(
        cpu_cores=8.0, memory_bytes=32 * 1024**3, storage_bytes=10**12
    )
    assert [h.name for h in full.hosts()] == ["web-1", "web-2", "dev-1"]
    assert list(full.targets()) == ["web-1", "web-2", "dev-1"]
    assert full.targets()["web-2"] is full.host("web-2")
    assert full.defaults.scrape_interval == "30s"
    assert full.defaults.options.fs_types_exclude == DEFAULT_FS_TYPES_EXCLUDE
    with pytest.raises(KeyError):
        full.host("nope")


def test_builtin_defaults(load: Load) -> None:
    inv = load(
        """\
        version: 1
        deployments:
          - name: d
            provider: p
            hosts:
              - name: h
        """
    )
    host = inv.host("h")
    assert host.scrape_interval == "15s"
    assert host.thresholds == Thresholds(cpu=90, memory=95, disk=90)
    assert host.ssh == SSHSettings()
    assert host.ssh.port == 22 and host.ssh.known_hosts == "strict"
    assert host.ssh.connect_timeout_seconds == 5.0
    assert host.modules == ("ssh",)
    assert host.options == Options()


def test_default_inventory() -> None:
    inv = default_inventory()
    assert inv.path == "<embedded>"
    assert [d.name for d in inv.deployments] == ["local"]
    host = inv.host("localhost")
    assert (host.address, host.provider, host.modules) == ("localhost", "local", ("local",))
    assert host.thresholds == Thresholds(90, 95, 90)
    assert host.scrape_interval_seconds == 15.0


def test_paths_resolve_tilde_and_relative(write: Write, tmp_path: Path, home: Path) -> None:
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id").write_text("key")
    (tmp_path / "kh").write_text("")
    inv = load_inventory(
        write(
            """\
            version: 1
            deployments:
              - name: d
                provider: p
                ssh: {identity_file: ~/.ssh/id, known_hosts_file: kh}
                hosts: [{name: h}]
            """
        )
    )
    ssh = inv.host("h").ssh
    assert ssh.identity_file == str(home / ".ssh" / "id")
    assert ssh.known_hosts_file == str(tmp_path / "kh")


# --------------------------------------------------------------------------- findings

BASE = """\
version: 1
deployments:
  - name: d
    provider: p
    hosts:
      - name: h
"""


@pytest.mark.parametrize(
    ("extra", "line", "key", "fragment"),
    [
        ("        adress: x\n", 7, "deployments[0].hosts[0].adress", "unknown key 'adress'"),
        ("        port: 22\n", 7, "deployments[0].hosts[0].port", "unknown key 'port'"),
        ("        maintenance: yes please\n", 7, "deployments[0].hosts[0].maintenance", "true"),
        ("        ssh: {port: '22'}\n", 7, "deployments[0].hosts[0].ssh.port", "an integer"),
        ("        ssh:\n          port: 70000\n", 8, "deployments[0].hosts[0].ssh.port", "65535"),
        (
            "        ssh: {known_hosts: maybe}\n",
            7,
            "deployments[0].hosts[0].ssh.known_hosts",
            "'strict', 'off'",
        ),
        (
            "        thresholds: {cpu: 0}\n",
            7,
            "deployments[0].hosts[0].thresholds.cpu",
            "greater than 0",
        ),
        (
            "        thresholds:\n          disk: 100.5\n",
            8,
            "deployments[0].hosts[0].thresholds.disk",
            "at most 100",
        ),
        (
            "        scrape_interval: 15\n",
            7,
            "deployments[0].hosts[0].scrape_interval",
            "a string, got an integer (15); quote it",
        ),
        (
            "        scrape_interval: 15x\n",
            7,
            "deployments[0].hosts[0].scrape_interval",
            "invalid duration '15x'",
        ),
        (
            "        scrape_interval: 0s\n",
            7,
            "deployments[0].hosts[0].scrape_interval",
            "greater than 0",
        ),
        (
            "        scrape_interval: 1h1s\n",
            7,
            "deployments[0].hosts[0].scrape_interval",
            "at most 1h",
        ),
        (
            "        ssh: {connect_timeout: 0}\n",
            7,
            "deployments[0].hosts[0].ssh.connect_timeout",
            "greater than 0",
        ),
        ("        modules: [ssh, local]\n", 7, "deployments[0].hosts[0].modules", "choose one"),
        ("        modules: [snmp]\n", 7, "deployments[0].hosts[0].modules[0]", "'ssh', 'local'"),
        ("        modules: []\n", 7, "deployments[0].hosts[0].modules", "must not be empty"),
        (
            "        labels: {port: 8080}\n",
            7,
            "deployments[0].hosts[0].labels.port",
            "a string, got an integer (8080); quote it",
        ),
        (
            "        ssh: {known_hosts: off}\n",
            7,
            "deployments[0].hosts[0].ssh.known_hosts",
            "got False (YAML reads unquoted yes/no/on/off as booleans; quote it)",
        ),
        (
            "        labels: {bad-name: x}\n",
            7,
            "deployments[0].hosts[0].labels.bad-name",
            "label name",
        ),
        (
            "        labels:\n          instance: x\n",
            8,
            "deployments[0].hosts[0].labels.instance",
            "reserved",
        ),
        ("        address: root@10.0.0.1\n", 7, "deployments[0].hosts[0].address", "ssh.user"),
        ("      - name: web 2\n", 7, "deployments[0].hosts[1].name", "letters, digits"),
        ("      - address: x\n", 7, "deployments[0].hosts[1]", "missing required key 'name'"),
        ("      - name: h\n", 7, "deployments[0].hosts[1].name", "duplicate host name 'h'"),
        (
            "        collectors:\n          enable: [cpuu]\n",
            8,
            "deployments[0].hosts[0].collectors.enable[0]",
            "unknown collector 'cpuu'; did you mean 'cpu'?",
        ),
        (
            "        collectors:\n          enable: [cpu]\n          disable: [arp, cpu]\n",
            9,
            "deployments[0].hosts[0].collectors.disable[1]",
            "both enabled and disabled",
        ),
        (
            "        collectors:\n          disable: [arp, arp]\n",
            8,
            "deployments[0].hosts[0].collectors.disable[1]",
            "duplicate item 'arp'",
        ),
        (
            "        collectors:\n          options:\n            textfile_directory: var/lib/tf\n",
            9,
            "deployments[0].hosts[0].collectors.options.textfile_directory",
            "absolute path",
        ),
        (
            "        collectors:\n          options: {textfile_directory: '/tmp/a b'}\n",
            8,
            "deployments[0].hosts[0].collectors.options.textfile_directory",
            "invalid directory",
        ),
        (
            "        collectors:\n          options: {vmstat_fields: '^(oom'}\n",
            8,
            "deployments[0].hosts[0].collectors.options.vmstat_fields",
            "invalid regular expression",
        ),
        (
            "        collectors:\n          options: {cpu_info: true}\n",
            8,
            "deployments[0].hosts[0].collectors.options.cpu_info",
            "unknown key 'cpu_info'",
        ),
        (
            "        ssh: {passphrase_env: A, passphrase_file: /x}\n",
            7,
            "deployments[0].hosts[0].ssh.passphrase_file",
            "not both",
        ),
        (
            "        ssh: {passphrase_env: 'MY-VAR'}\n",
            7,
            "deployments[0].hosts[0].ssh.passphrase_env",
            "environment variable name",
        ),
        ("        1: x\n", 7, "deployments[0].hosts[0].1", "must be a string"),
    ],
)
def test_each_problem_names_line_and_key(
    fail: Fail, extra: str, line: int, key: str, fragment: str
) -> None:
    errors = fail(BASE + extra)
    matching = [e for e in errors if e.key == key]
    assert matching, [e.message for e in errors]
    error = matching[0]
    assert error.line == line
    assert fragment in error.message
    assert f"fleet.yaml:{line}: " in error.message
    assert error.message.endswith(f"({key})")


@pytest.mark.parametrize(
    ("text", "line", "key", "fragment"),
    [
        ("version: 2\ndeployments: []\n", 1, "version", "must be 1; got 2"),
        ("deployments: []\n", 1, "", "missing required key 'version'"),
        ("version: 1\n", 1, "", "missing required key 'deployments'"),
        ("version: 1\ndeployments: []\n", 2, "deployments", "must not be empty"),
        ("version: 1\ndeployments: {name: x}\n", 2, "deployments", "must be a list, got a mapping"),
        ("- a\n- b\n", 1, "", "must be a mapping, got a list"),
        (
            "version: 1\ndeployments:\n  - name: a\n    provider: p\n    hosts: [{name: a}]\n"
            "  - name: a\n    provider: p\n    hosts: [{name: b}]\n",
            6,
            "deployments[1].name",
            "duplicate deployment name 'a' (first used by deployments[0], line 3)",
        ),
        (
            "version: 1\ndeployments:\n  - name: a\n    provider: p\n    hosts: [{name: x}]\n"
            "  - name: b\n    provider: p\n    hosts: [{name: y}, {name: x}]\n",
            8,
            "deployments[1].hosts[1].name",
            "duplicate host name 'x' (first used by deployments[0].hosts[0], line 5)",
        ),
        (
            "version: 1\ndeployments:\n  - name: a\n    provider: p\n"
            "    resources: {memory: lots}\n    hosts: [{name: x}]\n",
            5,
            "deployments[0].resources.memory",
            "invalid size 'lots'",
        ),
        (
            "version: 1\ndefaults:\n  scrape_intervall: 15s\ndeployments: []\n",
            3,
            "defaults.scrape_intervall",
            "did you mean 'scrape_interval'?",
        ),
    ],
)
def test_top_level_problems(fail: Fail, text: str, line: int, key: str, fragment: str) -> None:
    errors = fail(text)
    matching = [e for e in errors if e.key == key and fragment in e.message]
    assert matching, [e.message for e in errors]
    assert matching[0].line == line


def test_all_problems_are_reported_sorted_by_line(fail: Fail) -> None:
    errors = fail(
        """\
        version: 1
        defaults:
          thresholds: {cpu: 120}
        deployments:
          - name: d
            provider: p
            hosts:
              - name: a
                adress: 10.0.0.1
                ssh:
                  port: zero
              - name: a
                scrape_interval: 2h
        """
    )
    assert [(e.line, e.key) for e in errors] == [
        (3, "defaults.thresholds.cpu"),
        (9, "deployments[0].hosts[0].adress"),
        (11, "deployments[0].hosts[0].ssh.port"),
        (12, "deployments[0].hosts[1].name"),
        (13, "deployments[0].hosts[1].scrape_interval"),
    ]
    with pytest.raises(ConfigErrors) as info:
        inventory_from_text("version: 1\ndeployments: []\nextra: 1\n", "x.yaml")
    assert info.value.exit_code == 3
    assert str(info.value).splitlines() == [
        "x.yaml:2: must not be empty (deployments)",
        "x.yaml:3: unknown key 'extra'; expected one of: defaults, deployments, scale, stack,"
        " version (extra)",
    ]


@pytest.mark.parametrize(
    ("snippet", "line", "key"),
    [
        ("password: hunter2", 1, "password"),
        ("defaults:\n  ssh:\n    passphrase: hunter2", 3, "defaults.ssh.passphrase"),
        ("labels:\n  token: hunter2", 2, "labels.token"),
        ("x:\n  - db_password: hunter2", 2, "x[0].db_password"),
        ("API_KEY: hunter2", 1, "API_KEY"),
        ("secret: {value: hunter2}", 1, "secret"),
    ],
)
def test_inline_secrets_are_rejected(fail: Fail, snippet: str, line: int, key: str) -> None:
    errors = fail(snippet + "\n")
    secret = [e for e in errors if e.key == key]
    assert len(secret) == 1, [e.message for e in errors]
    assert secret[0].line == line
    assert "*_env or *_file reference" in secret[0].message
    assert all("hunter2" not in e.message for e in errors)
    # the secret is not also reported as an unknown key
    assert not any("unknown key" in e.message and e.key == key for e in errors)


def test_inline_secret_in_full_inventory(fail: Fail) -> None:
    errors = fail(BASE + "        ssh:\n          user: root\n          password: hunter2\n")
    assert [(e.line, e.key) for e in errors] == [(9, "deployments[0].hosts[0].ssh.password")]


# --------------------------------------------------------------------------- files


def test_missing_key_files_are_reported(fail: Fail, tmp_path: Path) -> None:
    errors = fail(
        BASE
        + "        ssh:\n"
        + "          identity_file: ~/.ssh/nope\n"
        + "          passphrase_file: secrets/pass\n"
        + "          known_hosts_file: /nonexistent/known_hosts\n"
    )
    assert [(e.line, e.key.rsplit(".", 1)[1]) for e in errors] == [
        (8, "identity_file"),
        (9, "passphrase_file"),
        (10, "known_hosts_file"),
    ]
    assert all("file not found" in e.message for e in errors)
    assert str(tmp_path / "home" / ".ssh" / "nope") in errors[0].message
    assert str(tmp_path / "secrets" / "pass") in errors[1].message


def test_directory_as_identity_file(fail: Fail, tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    errors = fail(BASE + "        ssh: {identity_file: keys}\n")
    assert [(e.line, "not a regular file" in e.message) for e in errors] == [(7, True)]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_identity_file(fail: Fail, tmp_path: Path) -> None:
    key = tmp_path / "id"
    key.write_text("k")
    key.chmod(0)
    errors = fail(BASE + "        ssh: {identity_file: id}\n")
    assert [(e.line, "not readable" in e.message) for e in errors] == [(7, True)]


def test_check_files_false_skips_file_checks(write: Write) -> None:
    path = write(BASE + "        ssh: {identity_file: ~/.ssh/nope}\n")
    inv = load_inventory(path, check_files=False)
    assert inv.host("h").ssh.identity_file is not None


def test_missing_inventory_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as info:
        load_inventory(path)
    assert str(info.value) == f"{path}: inventory file not found"
    with pytest.raises(ConfigError, match="is a directory"):
        load_inventory(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_inventory(path)


# --------------------------------------------------------------------------- YAML level


def test_malformed_yaml_reports_its_line(write: Write) -> None:
    path = write(BASE + "        labels: {a: b\n        maintenance: true\n")
    with pytest.raises(ConfigError) as info:
        load_inventory(path)
    assert not isinstance(info.value, ConfigErrors)
    assert info.value.line == 8
    assert info.value.message.startswith(f"{path}:8: YAML syntax error")


def test_duplicate_key_is_an_error(write: Write) -> None:
    path = write(BASE + "        address: a\n        address: b\n")
    with pytest.raises(ConfigError) as info:
        load_inventory(path)
    assert info.value.line == 8
    assert info.value.key == "deployments[0].hosts[0].address"
    assert "duplicate key 'address' (first defined on line 7)" in info.value.message


def test_empty_file(fail: Fail) -> None:
    errors = fail("# nothing yet\n")
    assert [(e.line, e.message.split(": ", 1)[1]) for e in errors] == [
        (1, "the inventory is empty; expected 'version: 1' and 'deployments:'")
    ]


def test_anchors_and_merge_keys(load: Load) -> None:
    inv = load(
        """\
        version: 1
        deployments:
          - name: d
            provider: p
            hosts:
              - &base
                name: a
                labels: {role: web}
                thresholds: {cpu: 50}
              - <<: *base
                name: b
        """
    )
    assert inv.host("b").labels == {"role": "web"}
    assert inv.host("b").thresholds.cpu == 50


# --------------------------------------------------------------------------- collectors


def test_unknown_collectors_skipped_while_the_names_are_unavailable(
    load: Load, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fleetwatch.inventory import loader

    monkeypatch.setattr(loader, "_known_collectors", lambda: None)  # collectors.json missing
    inv = load(BASE + "        collectors: {enable: [whatever]}\n")
    assert inv.host("h").collectors_enable == ("whatever",)


def test_collector_names_come_from_the_data_file(
    fail: Fail, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fleetwatch.inventory import loader

    assert "cpu" in (loader._known_collectors() or [])  # exporters/host/collectors/*.json
    monkeypatch.setattr(loader, "_known_collectors", lambda: ["only"])
    errors = fail(BASE + "        collectors: {disable: [cpu]}\n")
    assert [(e.line, e.message.split(": ", 1)[1]) for e in errors] == [
        (7, "unknown collector 'cpu' (deployments[0].hosts[0].collectors.disable[0])")
    ]


# --------------------------------------------------------------------------- passphrase


def test_passphrase_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    ssh = SSHSettings(passphrase_env="FW_TEST_PASS")
    monkeypatch.setenv("FW_TEST_PASS", "open sesame")
    assert ssh.passphrase() == "open sesame"
    monkeypatch.delenv("FW_TEST_PASS")
    with pytest.raises(ConfigError, match="'FW_TEST_PASS' is not set"):
        ssh.passphrase()


def test_passphrase_from_file_read_at_use(tmp_path: Path) -> None:
    secret = tmp_path / "pass"
    ssh = SSHSettings(passphrase_file=str(secret))
    with pytest.raises(ConfigError, match="cannot read passphrase file"):
        ssh.passphrase()
    secret.write_text("first\n")
    assert ssh.passphrase() == "first"
    secret.write_text("tulip")
    assert ssh.passphrase() == "tulip"
    assert "tulip" not in repr(ssh)


def test_no_passphrase() -> None:
    assert SSHSettings().passphrase() is None


def test_passphrase_reference_survives_loading(
    full: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert full.host("web-1").ssh.passphrase() == "s3cret"
    monkeypatch.setenv("OTHER_PASS", "x")
    assert full.host("web-2").ssh.passphrase() == "x"


def test_errors_are_fleetwatch_errors(fail: Fail) -> None:
    errors = fail("version: 3\n")
    assert all(isinstance(e, FleetwatchError) and e.exit_code == 3 for e in errors)


def test_services_load_with_their_deployment_and_unique_names() -> None:
    from fleetwatch.inventory import inventory_from_text

    inv = inventory_from_text(
        "version: 1\n"
        "defaults: {scrape_interval: 30s}\n"
        "deployments:\n"
        "  - name: chain\n"
        "    provider: ovh\n"
        "    labels: {team: chain}\n"
        "    services:\n"
        "      - {name: node-1, module: cometbft, address: 'http://10.0.0.5:26657'}\n"
        "      - name: cache\n"
        "        module: redis\n"
        "        address: 10.0.0.6:6379\n"
        "        scrape_interval: 15s\n"
        "        params: {password_env: REDIS_PASSWORD}\n",
        "<t>",
    )
    by_name = {s.name: s for s in inv.services()}
    assert by_name["node-1"].deployment == "chain"
    assert by_name["node-1"].labels["team"] == "chain"
    assert by_name["node-1"].scrape_interval == "30s"
    assert by_name["cache"].scrape_interval_seconds == 15
    assert by_name["cache"].modules == ("redis",)
    assert set(inv.targets()) == {"node-1", "cache"}


def test_service_names_clash_with_host_names() -> None:
    import pytest

    from fleetwatch.errors import ConfigErrors
    from fleetwatch.inventory import inventory_from_text

    with pytest.raises(ConfigErrors, match=r"x\.yaml:7: duplicate target name .db."):
        inventory_from_text(
            "version: 1\n"
            "deployments:\n"
            "  - name: a\n"
            "    provider: p\n"
            "    hosts: [{name: db, modules: [local]}]\n"
            "    services:\n"
            "      - {name: db, module: postgres, address: '127.0.0.1:5432'}\n",
            "x.yaml",
        )


def test_inline_service_password_is_refused() -> None:
    import pytest

    from fleetwatch.errors import ConfigErrors
    from fleetwatch.inventory import inventory_from_text

    with pytest.raises(ConfigErrors, match=r"x\.yaml:6"):
        inventory_from_text(
            "version: 1\n"
            "deployments:\n"
            "  - name: a\n"
            "    provider: p\n"
            "    services:\n"
            "      - {name: db, module: postgres, address: h, params: {password: hunter2}}\n",
            "x.yaml",
        )


def test_service_secret_files_resolve_beside_the_inventory_and_must_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fleetwatch.errors import ConfigErrors
    from fleetwatch.inventory import load_inventory

    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "pg").write_text("s3cret\n")
    inv_file = tmp_path / "fleet.yaml"
    text = (
        "version: 1\n"
        "deployments:\n"
        "  - name: a\n"
        "    provider: p\n"
        "    services:\n"
        "      - name: db\n"
        "        module: postgres\n"
        "        address: 10.0.0.5:5432\n"
        "        params: {user: fw, password_file: secrets/pg}\n"
        "      - name: web\n"
        "        module: http\n"
        "        address: https://example.com/health\n"
        "        params: {headers_file: {X-Api-Key: secrets/pg}}\n"
    )
    inv_file.write_text(text)
    monkeypatch.chdir("/")  # the exporter may run from anywhere
    inv = load_inventory(inv_file)
    db = inv.targets()["db"]
    assert db.params["password_file"] == str(tmp_path / "secrets" / "pg")
    assert db.secret("password") == "s3cret"
    web = inv.targets()["web"]
    assert web.params["headers_file"] == {"X-Api-Key": str(tmp_path / "secrets" / "pg")}

    inv_file.write_text(text.replace("secrets/pg}", "secrets/missing}", 1))
    with pytest.raises(ConfigErrors) as err:
        load_inventory(inv_file)
    [error] = err.value.errors
    assert error.line == 9 and error.key == "deployments[0].services[0].params.password_file"
    assert "file not found" in error.message
    load_inventory(inv_file, check_files=False)  # the check can be skipped (another machine)

    both = text.replace("password_file: secrets/pg", "password_env: PG, password_file: secrets/pg")
    inv_file.write_text(both)
    with pytest.raises(ConfigErrors, match="give password_env or password_file, not both"):
        load_inventory(inv_file)
