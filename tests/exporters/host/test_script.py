"""The one remote script: built for any login shell, parsed back exactly."""

import re
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.script import (
    build_script,
    new_nonce,
    parse_output,
    split_files,
    wrap_for_login_shell,
)
from fleetwatch.exporters.host.snapshot import Snapshot


class _Probe(Collector):
    name = "probe"
    specs = ()

    def __init__(self, files: tuple[str, ...], commands: dict[str, str]) -> None:
        self._files = files
        self._commands = commands

    def files(self, opts: Options) -> tuple[str, ...]:
        return self._files

    def commands(self, opts: Options) -> dict[str, str]:
        return self._commands

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        return None


def _run(tmp_files: tuple[str, ...], commands: dict[str, str], shell: str = "bash") -> Snapshot:
    nonce = new_nonce()
    script = build_script([_Probe(tmp_files, commands)], Options(), nonce)
    raw = subprocess.run(
        [shell, "-c", wrap_for_login_shell(script)], capture_output=True, text=True, check=True
    ).stdout
    return parse_output(raw, nonce)


def test_files_come_back_byte_exact(tmp_path) -> None:
    (tmp_path / "a").write_text("line 1\nline 2\n")
    (tmp_path / "b").write_text("no trailing newline")
    (tmp_path / "empty").write_text("")
    (tmp_path / "quote's").mkdir()
    snap = _run((str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "empty")), {})
    assert snap.file(str(tmp_path / "a")) == "line 1\nline 2\n"
    assert snap.file(str(tmp_path / "b")) == "no trailing newline"
    assert snap.file(str(tmp_path / "empty")) == ""


def test_globs_expand_on_the_host_and_missing_files_are_absent(tmp_path) -> None:
    for name in ("x1", "x2"):
        (tmp_path / name).write_text(name + "\n")
    snap = _run((str(tmp_path / "x*"), str(tmp_path / "missing")), {})
    assert [p for p, _ in snap.glob(str(tmp_path / "x*"))] == [
        str(tmp_path / "x1"),
        str(tmp_path / "x2"),
    ]
    assert snap.file(str(tmp_path / "missing")) is None


def test_commands_with_quotes_and_errors(tmp_path) -> None:
    snap = _run((), {"q": "echo \"it's\" 'a test'", "err": "nosuchcommand-fw"})
    assert snap.command("q") == "it's a test\n"
    assert "not found" in (snap.command("err") or "")


def test_rc_file_noise_before_the_markers_is_ignored() -> None:
    nonce = new_nonce()
    script = build_script([_Probe(("/proc/loadavg",), {})], Options(), nonce)
    raw = subprocess.run(
        ["sh", "-c", "echo 'Welcome! ==> /proc/loadavg <=='; " + wrap_for_login_shell(script)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    snap = parse_output(raw, nonce)
    assert len((snap.file("/proc/loadavg") or "").split()) == 5


def test_truncated_output_is_a_parse_error() -> None:
    nonce = new_nonce()
    with pytest.raises(ParseError, match="truncated"):
        parse_output(f"\n@@FW@@{nonce}@@files\n==> /proc/stat <==\ncpu 1 2", nonce)


def test_output_without_markers_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="start marker"):
        parse_output("Last login: yesterday\n", new_nonce())


def test_a_file_cannot_forge_the_end_marker() -> None:
    nonce = new_nonce()
    other = new_nonce()
    raw = f"\n@@FW@@{nonce}@@files\n==> /x <==\n\n@@FW@@{other}@@end\n"
    with pytest.raises(ParseError):
        parse_output(raw, nonce)


def test_unsafe_patterns_are_refused() -> None:
    with pytest.raises(ValueError, match="unsafe"):
        build_script([_Probe(("/tmp/$(reboot)",), {})], Options(), new_nonce())


# The reference semantics of head's headers: split_files must cut exactly where this does.
_HEADER = re.compile(r"(?:^|\n)==> (/[^\n]*?) <==\n")


def _by_regex(text: str) -> dict[str, str]:
    parts = _HEADER.split(text)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


_PIECES = st.sampled_from(
    ["==> ", " <==\n", " <==", "\n", "/", "/a", "/b c", "x", "==>", "<==", " ", "\n==> /p <==\n"]
)


@given(st.lists(_PIECES, max_size=40).map("".join))
@settings(max_examples=2000, deadline=None)
def test_split_files_cuts_where_the_header_regex_does(text: str) -> None:
    assert split_files(text) == _by_regex(text)


def test_split_files_keeps_header_like_content() -> None:
    text = "==> /a <==\nline\n==> not a header\n\n==> /b <==\n\n==> /c <==\nend"
    assert split_files(text) == {"/a": "line\n==> not a header\n", "/b": "", "/c": "end"}
    assert split_files("==> /a <==\n==> /b <==\n\n==> /c <==") == {"/a": "==> /b <==\n\n==> /c <=="}
