"""promtool / amtool wrappers: finding them, their findings, Docker fallback, timeouts."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from fleetwatch.errors import ToolError
from fleetwatch.validate.promtool import Amtool, Promtool, parse_failures
from servers import require

GOOD_RULES = "groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum by (job) (up)\n"
BAD_RULES = "groups:\n- name: g\n  rules:\n  - record: x\n    expr: sum(up\n"


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_not_found_anywhere_is_a_tool_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError) as exc:
        Promtool.find()
    assert exc.value.exit_code == 5
    assert "apt-get install prometheus" in str(exc.value)
    with pytest.raises(ToolError, match="prometheus-alertmanager"):
        Amtool.find()


def test_explicit_path_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="not found"):
        Promtool.find(str(tmp_path / "nope"))


def test_docker_fallback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "argv"
    # a client whose daemon answers `docker version`; every other call is recorded
    _script(
        bin_dir / "docker",
        f'[ "$1" = version ] && {{ echo 24.0.7; exit 0; }}\nprintf "%s\\n" "$@" > {log}\n',
    )
    monkeypatch.setenv("PATH", str(bin_dir))
    tool = Promtool.find()
    assert tool.docker
    rules = tmp_path / "rules" / "a.yml"
    rules.parent.mkdir()
    rules.write_text(GOOD_RULES)
    assert tool.check_rules([rules]) == []
    argv = log.read_text().splitlines()
    assert argv[:2] == ["run", "--rm"]
    mount = f"{rules.parent.resolve()}:{rules.parent.resolve()}:ro"
    assert argv[argv.index("-v") + 1] == mount
    i = argv.index("--entrypoint")
    assert argv[i + 1 : i + 3] == ["promtool", "prom/prometheus:v2.42.0"]
    assert argv[-1] == str(rules.resolve())


def test_timeout_is_a_tool_error(tmp_path: Path) -> None:
    slow = _script(tmp_path / "promtool", "sleep 10\n")
    with pytest.raises(ToolError, match="timed out"):
        Promtool(str(slow), timeout=0.3).check_rules([tmp_path / "x.yml"])


def test_check_rules(promtool: Promtool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("good.yml").write_text(GOOD_RULES)
    Path("bad.yml").write_text(BAD_RULES)
    assert promtool.check_rules([Path("good.yml")]) == []
    (finding,) = promtool.check_rules([Path("good.yml"), Path("bad.yml")])
    assert (finding.file, finding.rule, finding.line) == ("bad.yml", "promtool-rules", 5)
    assert finding.location == 'group "g" rule 1 "x"'
    assert "unclosed left parenthesis" in finding.message


def test_check_config(promtool: Promtool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("rules.yml").write_text(BAD_RULES)
    Path("prometheus.yml").write_text(
        "global: {scrape_interval: 15s}\nrule_files: [rules.yml]\n"
        "scrape_configs: [{job_name: a, static_configs: [{targets: ['x:1']}]}]\n"
    )
    findings = promtool.check_config(Path("prometheus.yml"))
    assert [(f.file, f.rule, f.line) for f in findings] == [("rules.yml", "promtool-config", 5)]
    Path("prometheus.yml").write_text("global:\n  scrape_interval: 15x\n")
    (finding,) = promtool.check_config(Path("prometheus.yml"))
    assert finding.file == "prometheus.yml" and "15x" in finding.message


def test_files_in_a_folder_keep_their_name(
    promtool: Promtool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative path with a folder comes back as given, not joined to its folder again."""
    monkeypatch.chdir(tmp_path)
    Path("sub").mkdir()
    Path("sub/bad.yml").write_text(BAD_RULES)
    Path("sub/prometheus.yml").write_text("global:\n  scrape_interval: 1 minute\n")
    assert {f.file for f in promtool.check_rules([Path("sub/bad.yml")])} == {"sub/bad.yml"}
    (finding,) = promtool.check_config(Path("sub/prometheus.yml"))
    assert finding.file == "sub/prometheus.yml"


def test_amtool_check_config(tmp_path: Path) -> None:
    require("amtool")
    cfg = tmp_path / "am.yml"
    cfg.write_text("route: {receiver: a}\nreceivers: [{name: a}]\n")
    tool = Amtool.find()
    assert tool.check_config(cfg) == []
    cfg.write_text("route: {receiver: b}\nreceivers: [{name: a}]\n")
    (finding,) = tool.check_config(cfg)
    assert finding.rule == "amtool-config" and 'undefined receiver "b"' in finding.message


def test_parse_failures_yaml_continuations() -> None:
    out = "  FAILED:\nr.yml: yaml: unmarshal errors:\n  line 6: field x not found\n  line 9: bad\n"
    findings = parse_failures(out, [Path("r.yml")], Path("r.yml"), "promtool-rules")
    assert [(f.line, f.message) for f in findings] == [
        (6, "yaml: unmarshal errors: field x not found"),
        (9, "yaml: unmarshal errors: bad"),
    ]
    assert parse_failures("weird", [], Path("p.yml"), "r")[0].message == "weird"


def test_docker_without_a_daemon_is_one_tool_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fleetwatch.errors import ToolUnavailable

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    # what a docker client prints with no daemon behind it
    _script(
        bin_dir / "docker",
        f'echo "$1" >> {calls}\n'
        'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. '
        'Is the docker daemon running?" >&2\nexit 1\n',
    )
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("FLEETWATCH_PROMTOOL", raising=False)
    with pytest.raises(ToolUnavailable) as exc:
        Promtool.find()
    assert exc.value.exit_code == 5
    assert "promtool not found on PATH and the Docker daemon does not answer" in str(exc.value)
    assert "--promtool PATH or $FLEETWATCH_PROMTOOL" in str(exc.value)
    with pytest.raises(ToolUnavailable):
        Promtool.find()
    assert calls.read_text().split() == ["version"]  # probed once per process


def test_docker_run_failing_is_tool_unavailable(tmp_path: Path) -> None:
    """The daemon answered the probe, but `docker run` cannot start the image (offline)."""
    from fleetwatch.errors import ToolUnavailable

    docker = _script(tmp_path / "docker", 'echo "Unable to find image" >&2\nexit 125\n')
    with pytest.raises(ToolUnavailable, match=r"through docker .* cannot run: Unable to find"):
        Promtool(str(docker), docker=True).check_rules([tmp_path / "x.yml"])


def test_env_names_the_binary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from fleetwatch.errors import ToolUnavailable

    tool = _script(tmp_path / "my-promtool", "exit 0\n")
    monkeypatch.setenv("FLEETWATCH_PROMTOOL", str(tool))
    assert Promtool.find().executable == str(tool)
    monkeypatch.setenv("FLEETWATCH_AMTOOL", str(tmp_path / "absent"))
    with pytest.raises(ToolUnavailable, match=r"absent \(\$FLEETWATCH_AMTOOL\)"):
        Amtool.find()
