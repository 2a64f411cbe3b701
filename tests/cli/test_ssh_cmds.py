"""``fleetwatch ssh restrict``: the line, its plan hash and its agent (perl, no server)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from click.testing import CliRunner

from fleetwatch.cli.main import cli
from fleetwatch.exporters.host.restricted import PERL_SHA256, one_line, program

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDaD7Y5JKJJY5lOJ3+oR93mwThnXUnFazEbTdBtdH+9n me@x"
SHA = 'binmode STDIN; local $/; my $d = <STDIN>; $d = "" unless defined $d; print sha256_hex($d)'


def test_the_pure_perl_sha256_is_sha256() -> None:
    for n in (0, 1, 55, 56, 63, 64, 65, 119, 1000, 20000):
        data = os.urandom(n)
        out = subprocess.run(["perl", "-e", PERL_SHA256 + SHA], input=data, capture_output=True)
        assert out.stdout.decode() == hashlib.sha256(data).hexdigest(), n


def test_the_one_line_agent_compiles() -> None:
    line = one_line(program())
    assert "\n" not in line
    assert subprocess.run(["perl", "-c", "-e", line], capture_output=True).returncode == 0


def test_restrict_prints_one_line_with_the_plan_hash(tmp_path: Path) -> None:
    pub = tmp_path / "k.pub"
    pub.write_text(KEY + "\n")
    result = CliRunner().invoke(cli, ["ssh", "restrict", str(pub), "--agent-file", "/opt/a.pl"])
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert line.startswith("restrict,command=\"exec perl '/opt/a.pl' ") and line.endswith(KEY)
    digest = line.split("' ", 1)[1].split('"', 1)[0]
    assert len(digest) == 64 and int(digest, 16) >= 0
    inline = CliRunner().invoke(cli, ["ssh", "restrict", str(pub)])
    assert inline.exit_code == 0 and digest in inline.stdout and "perl -e" in inline.stdout


def test_restrict_refuses_a_private_key_and_an_unknown_host(tmp_path: Path) -> None:
    private = tmp_path / "k"
    private.write_text(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    result = CliRunner().invoke(cli, ["ssh", "restrict", str(private)])
    assert (
        result.exit_code == 2 and "public key" in result.output and "Traceback" not in result.output
    )
    pub = tmp_path / "k.pub"
    pub.write_text(KEY)
    result = CliRunner().invoke(cli, ["ssh", "restrict", str(pub), "--host", "nope"])
    assert result.exit_code == 2 and "no host nope" in result.output
