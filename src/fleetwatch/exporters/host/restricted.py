"""A monitoring key that can only monitor: the forced command of a restricted key.

The host's ``authorized_keys`` entry is ``restrict,command="…" KEY``: sshd then runs that
command whatever the client asks (the requested command is only in ``SSH_ORIGINAL_COMMAND``,
which the agent never reads) and ``restrict`` turns off port, agent and X11 forwarding and the
pty.  The command is the perl session program of ``agent.py`` with the sha256 of the plans it
accepts (``plan_hash``: file patterns and snippets, fixed by the host's collectors and
options).  A request carrying any other plan is answered ``rejected <sha256>`` and nothing is
read or run; the exporter reports it as ``plan_rejected``.  perl-base has no Digest::SHA, so
the check is a small pure-perl SHA-256 (64-bit perl).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from fleetwatch.exporters.host.agent import PERL_AGENT, canonical_plan
from fleetwatch.exporters.host.script import Plan, _quote

#: OpenSSH before 8.x read authorized_keys lines into a buffer of this size
#: (SSH_MAX_PUBKEY_BYTES); newer ones read lines of any length
LINE_LIMIT = 8192
#: what the exporter asks a restricted host to run: sshd runs the forced command instead
REQUESTED_COMMAND = "fleetwatch-restricted-session"

PERL_SHA256 = r"""
sub sha256_hex {
  my ($msg) = @_;
  my $M = 0xffffffff;
  my @K = (
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2);
  my @H = (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
           0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19);
  my $l = length($msg);
  $msg .= "\x80" . ("\0" x ((55 - $l) % 64)) . pack("N2", int($l / 2**29), ($l * 8) & $M);
  for my $i (0 .. length($msg) / 64 - 1) {
    my @w = unpack("N16", substr($msg, $i * 64, 64));
    for my $t (16 .. 63) {
      my ($x, $y) = ($w[$t - 15], $w[$t - 2]);
      my $s0 = (($x >> 7 | $x << 25) ^ ($x >> 18 | $x << 14) ^ ($x >> 3)) & $M;
      my $s1 = (($y >> 17 | $y << 15) ^ ($y >> 19 | $y << 13) ^ ($y >> 10)) & $M;
      $w[$t] = ($w[$t - 16] + $s0 + $w[$t - 7] + $s1) & $M;
    }
    my ($A, $B, $C, $D, $E, $F, $G, $I) = @H;
    for my $t (0 .. 63) {
      my $S1 = (($E >> 6 | $E << 26) ^ ($E >> 11 | $E << 21) ^ ($E >> 25 | $E << 7)) & $M;
      my $ch = (($E & $F) ^ (~$E & $G)) & $M;
      my $t1 = ($I + $S1 + $ch + $K[$t] + $w[$t]) & $M;
      my $S0 = (($A >> 2 | $A << 30) ^ ($A >> 13 | $A << 19) ^ ($A >> 22 | $A << 10)) & $M;
      my $t2 = ($S0 + (($A & $B) ^ ($A & $C) ^ ($B & $C))) & $M;
      ($I, $G, $F, $E, $D, $C, $B, $A) =
        ($G, $F, $E, ($D + $t1) & $M, $C, $B, $A, ($t1 + $t2) & $M);
    }
    my @n = ($A, $B, $C, $D, $E, $F, $G, $I);
    @H = map { ($H[$_] + $n[$_]) & $M } 0 .. 7;
  }
  return unpack("H*", pack("N8", @H));
}
our $RESTRICTED = 1;
our %ALLOW = map { $_ => 1 } grep { /^[0-9a-f]{64}$/ } split(/,/, defined $ARGV[0] ? $ARGV[0] : "");
"""


def plan_hash(plan: Plan) -> str:
    """The sha256 (hex) a restricted key's forced command checks a plan against."""
    return hashlib.sha256(canonical_plan(plan)).hexdigest()


def program() -> str:
    """The restricted session program (for ``--agent-file``: a file on the host)."""
    return PERL_SHA256 + PERL_AGENT


_FULL_LINE_COMMENT = re.compile(r"^\s*#.*$")
_TRAILING_COMMENT = re.compile(r"\s{2,}#\s.*$")  # the agent's style: code, two spaces, # why


def one_line(text: str) -> str:
    """The program on one line (authorized_keys is line based): comments dropped, lines
    joined by spaces.  The agent has no here-docs, POD or ``#`` outside comments but
    ``$#array``, which no pattern here touches."""
    out = []
    for line in text.splitlines():
        line = _TRAILING_COMMENT.sub("", _FULL_LINE_COMMENT.sub("", line)).strip()
        if line:
            out.append(line)
    return " ".join(out)


def forced_command(hashes: Iterable[str], agent_file: str | None = None) -> str:
    """The command of the authorized_keys entry, run by the user's login shell."""
    allow = ",".join(sorted(set(hashes)))
    if agent_file:
        return f"exec perl {_quote(agent_file)} {allow}"
    return f"exec perl -e {_quote(one_line(program()))} {allow}"


def authorized_keys_line(public_key: str, hashes: Iterable[str], agent_file: str | None) -> str:
    """``restrict,command="…" ssh-ed25519 AAAA… comment`` for one public key line."""
    command = forced_command(hashes, agent_file).replace('"', '\\"')
    return f'restrict,command="{command}" {public_key.strip()}'
