"""The long-lived collection session on a host: a perl loop where the host has perl, else sh.

A pooled SSH connection keeps one session open (one remote command per *session*, not per
probe) and sends each collection as a request on its stdin; the answer is the same marked
output as the one-shot script (``script.parse_output`` reads both).  Nothing is installed: the
session's program is the command line itself.

The perl session reads the files itself (no ``head``), and answers the snippets it knows
natively (statfs, clock, adjtimex, machine, page size, GPU presence, hwmon devices, btrfs
device ioctls) with syscalls instead of forks; any other snippet, or a native one that cannot
answer on this host, runs in one ``/bin/sh`` per collection.  perl-base is Essential on Debian
and Ubuntu and part of every RHEL-family base image; a host without it gets the sh session,
which runs the POSIX script of ``script.plan_script`` on a shell that stays alive.

Request (text, one per collection)::

    <nonce>
    S <plan key>                         (store what follows as this plan; first time only)
    F <file pattern>                     (each pattern, in order)
    C<TAB>key<TAB>bytes<TAB>arg...       (each snippet, followed by its bytes)
    E

and once the session has the plan, just ``<nonce>`` / ``P <plan key>`` / ``E``.  The sh
session likewise gets the plan once as a shell function, then one call per collection.
"""

from __future__ import annotations

from typing import Literal

from fleetwatch.exporters.host.collectors import btrfs, filesystem
from fleetwatch.exporters.host.script import Plan, _quote, plan_script

Kind = Literal["perl", "sh"]
READY = "@@FW@@ready "

# Linux syscall numbers (adjtimex, statfs, clock_gettime) of the LP64 ABIs whose struct
# layouts the unpack formats below assume; on any other machine the natives decline and the
# sh snippets run instead.
PERL_AGENT = (
    r"""
$0 = "fleetwatch-session";  # what ps shows the host's admin instead of the whole program
my %NR = (x86_64 => [159, 137, 228], aarch64 => [171, 43, 113],
          riscv64 => [171, 43, 113], loongarch64 => [171, 43, 113]);
my $arch = "";
if (open(my $fh, "<", "/proc/sys/kernel/arch")) { $arch = <$fh>; close $fh }
$arch = `uname -m 2>/dev/null` if !defined $arch || $arch eq "";
$arch = "" unless defined $arch;
chomp $arch;
my ($ADJ, $STATFS, $CLOCK) = @{$NR{$arch} || []};
$ENV{LC_ALL} = "C";
$ENV{FW_ARCH} = $arch;
my $buf = "";
my $cwd;
my $posix = eval { require POSIX; 1 } ? 1 : 0;
sub put { $buf .= join("", @_) }
sub flush_out {
  while (length $buf) {
    my $n = syswrite(STDOUT, $buf);
    exit 0 unless $n;
    substr($buf, 0, $n) = "";
  }
}
my (%dircache, %globre, %plans);
sub expand {
  # a shell glob, with one readdir per directory per collection (many patterns share them)
  my ($pat) = @_;
  return ($pat) unless $pat =~ /[*?\[]/;
  my @parts = split(m{/}, $pat, -1);
  shift @parts;
  my @paths = ("");
  for my $c (@parts) {
    if ($c !~ /[*?\[]/) { @paths = map { "$_/$c" } @paths; next }
    my $re = $globre{$c} ||= do {
      my $r = "";
      for my $t ($c =~ /(\[!?\]?[^\]]*\]|\*|\?|.)/gs) {
        if ($t eq "*") { $r .= "[^/]*" }
        elsif ($t eq "?") { $r .= "[^/]" }
        elsif (length($t) > 1 && substr($t, 0, 1) eq "[") { $t =~ s/^\[!/[^/; $r .= $t }
        else { $r .= quotemeta($t) }
      }
      qr/^$r$/s;
    };
    my @next;
    for my $d (@paths) {
      my $ents = $dircache{$d} ||= do {
        my @e;
        if (opendir(my $dh, $d eq "" ? "/" : $d)) {
          @e = sort grep { !/^\./ } readdir($dh);
          closedir($dh);
        }
        \@e;
      };
      push @next, map { "$d/$_" } grep { $_ =~ $re } @$ents;
    }
    @paths = @next;
  }
  return @paths;
}
sub files_section {
  my $first = 1;
  %dircache = ();
  for my $pat (@_) {
    for my $p (expand($pat)) {
      my $c;
      if ($posix) {
        # raw descriptors: no PerlIO layer (its fstat, lseek and ioctl per open)
        my $fd = POSIX::open($p, 0);
        next unless defined $fd;
        put($first ? "" : "\n", "==> $p <==\n");
        $first = 0;
        while (1) {
          my $n = POSIX::read($fd, $c, 65536);
          last unless $n;  # undef on error; "0 but true" at the end is true but == 0
          last if $n == 0;
          $buf .= $c;
        }
        POSIX::close($fd);
        next;
      }
      sysopen(my $fh, $p, 0) or next;
      put($first ? "" : "\n", "==> $p <==\n");
      $first = 0;
      while (sysread($fh, $c, 65536)) { $buf .= $c }
      close $fh;
    }
  }
}
# A network filesystem whose server is gone blocks statfs in an uninterruptible sleep: as
# node_exporter does, such mounts are read in a child with a time limit, and a mount whose
# child is still stuck is reported as failing without touching it again.
my $NETFS = join("|", qw(nfs4? cifs smb3 smbfs ncpfs ceph glusterfs lustre 9p afs davfs));
$NETFS = qr/^(?:$NETFS|fuse(?:\..*)?|fuseblk)$/;
my %stuck;
sub statfs_guarded {
  my ($mp, $budget) = @_;
  if (my $pid = $stuck{$mp}) {
    return ("statfs still blocked since an earlier probe") if waitpid($pid, POSIX::WNOHANG()) == 0;
    delete $stuck{$mp};
  }
  return ("statfs skipped: this probe's time for network mounts is used up") if $$budget <= 0;
  pipe(my $r, my $w) or return ("pipe: $!");
  my $pid = fork();
  return ("fork: $!") unless defined $pid;
  if ($pid == 0) {
    close $r;
    my $b = "\0" x 120;
    my $out = syscall($STATFS, $mp, $b) < 0 ? "E " . ($! + 0) : "O " . join(" ", unpack("Q7", $b));
    syswrite($w, $out);
    POSIX::_exit(0);
  }
  close $w;
  my $rin = "";
  vec($rin, fileno($r), 1) = 1;
  my ($found, $left) = select(my $rout = $rin, undef, undef, $$budget);
  $$budget = defined $left ? $left : 0;
  if (!$found || $found < 0) {
    close $r;
    $stuck{$mp} = $pid;
    return ("statfs timed out");
  }
  my $res = "";
  sysread($r, $res, 4096);
  close $r;
  waitpid($pid, 0);
  if ($res =~ /^O (.*)/) { return (undef, split(/ /, $1)) }
  if ($res =~ /^E (\d+)/) { local $! = $1; return ("$!") }
  return ("statfs child failed");
}
"""
    # sub btrfs_ioctl, defined in that collector: its sh snippet runs the same program
    + btrfs.PERL_SUB
    + r"""
my %native = (
  uname_m => sub { put("$arch\n"); 1 },
  btrfs_ioctl => \&btrfs_ioctl,
  sockstat_pagesize => sub {
    return 0 unless $arch =~ /^(x86_64|i.86)$/;
    put("4096\n"); 1
  },
  timex => sub {
    return 0 unless $ADJ;
    my $b = "\0" x 256;
    my $r = syscall($ADJ, $b);
    if ($r < 0) { put("errno ", $! + 0, "\n"); return 1 }
    put("state $r\n");
    my @v = unpack("i x4 q4 i x4 q3 q2 q3 i x4 q5 i", $b);
    my @n = qw(modes offset freq maxerror esterror status constant precision tolerance
               time_sec time_usec tick ppsfreq jitter shift stabil jitcnt calcnt errcnt
               stbcnt tai);
    put("$n[$_] $v[$_]\n") for 0 .. $#n;
    1
  },
  date => sub {
    return 0 unless $CLOCK && $posix;
    my $t = "\0" x 16;
    return 0 if syscall($CLOCK, 0, $t) < 0;
    my ($s, $ns) = unpack("q2", $t);
    put(sprintf("%d.%09d ", $s, $ns), POSIX::strftime("%z %Z", localtime($s)), "\n");
    1
  },
  statfs => sub {
    my ($mpx, $fsx, $limit) = @_;
    return 0 unless $STATFS;
    my $mf = -r "/proc/1/mounts" ? "/proc/1/mounts" : "/proc/self/mounts";
    open(my $fh, "<", $mf) or return 1;
    my %seen;
    my $budget = $limit || 5;
    while (my $l = <$fh>) {
      my @f = split(" ", $l);
      next if @f < 4;
      my $mp = $f[1];
      $mp =~ s/\\040/ /g;
      $mp =~ s/\\011/\t/g;
      next if ($mpx ne "" && $mp =~ /$mpx/) || ($fsx ne "" && $f[2] =~ /$fsx/) || $seen{$mp}++;
      my ($err, @v);
      if ($f[2] =~ $NETFS && $posix) {
        ($err, @v) = statfs_guarded($mp, \$budget);
      } else {
        my $b = "\0" x 120;
        if (syscall($STATFS, $mp, $b) < 0) { $err = "$!" } else { @v = unpack("Q7", $b) }
      }
      if (defined $err) {
        put("stat: cannot read file system information for '$mp': $err\n");
        next;
      }
      put("$v[1] $v[2] $v[3] $v[4] $v[5] $v[6] $mp\n");
    }
    1
  },
  gpu => sub {
    for my $d (split /:/, defined $ENV{PATH} ? $ENV{PATH} : "") {
      return 0 if $d ne "" && -x "$d/nvidia-smi";
    }
    1
  },
  hwmon_devices => sub {
    my @g = glob("/sys/class/hwmon/hwmon*");
    my @d = grep { -e "$_/device" } sort @g;
    return 1 unless @d;
    $cwd = (eval { require Cwd; 1 } ? 1 : 0) unless defined $cwd;
    return 0 unless $cwd;
    for my $d (@d) {
      my $p = Cwd::abs_path("$d/device");
      my ($n) = $d =~ m{([^/]+)$};
      put("$n $p\n") if defined $p;
    }
    1
  },
);
$| = 0;
put("\n\@\@FW\@\@ready perl\n");
flush_out();
our ($RESTRICTED, %ALLOW);  # set by the forced command of a restricted key (restricted.py)
while (defined(my $nonce = <STDIN>)) {
  chomp $nonce;
  next if $nonce eq "";
  exit 1 unless $nonce =~ /^[0-9A-Za-z]{1,64}$/;  # it goes into shell-quoted markers
  my $m = "\@\@FW\@\@$nonce\@\@";
  my $plan = {pats => [], cmds => []};
  my ($raw, $store, $stored) = ("", undef, 0);
  while (defined(my $l = <STDIN>)) {
    chomp $l;
    last if $l eq "E";
    my $t = substr($l, 0, 2);
    if ($t eq "S ") { $store = substr($l, 2); next }
    if ($t eq "P ") {
      if (my $p = $plans{substr($l, 2)}) { ($plan, $stored) = ($p, 1) }
      next;
    }
    $raw .= "$l\n";
    if ($t eq "F ") { push @{$plan->{pats}}, substr($l, 2); next }
    my (undef, $key, $len, @args) = split(/\t/, $l, -1);
    next unless defined $len && $len =~ /^\d+$/;
    my $sn = "";
    read(STDIN, $sn, $len) if $len;
    $raw .= $sn;
    push @{$plan->{cmds}}, [$key, $sn, @args];
  }
  if ($RESTRICTED && !$stored) {
    # only the plan this key was set up for: its sha256 is in the forced command
    my $h = sha256_hex($raw);
    if (!$ALLOW{$h}) {
      put("\n${m}rejected $h\n\n${m}end\n");
      flush_out();
      next;
    }
  }
  $plans{$store} = $plan if defined $store && !$stored;
  my @pats = @{$plan->{pats}};
  my @cmds = @{$plan->{cmds}};
  put("\n${m}files\n");
  files_section(@pats);
  my @fallback;
  for my $c (@cmds) {
    my ($key, $sn, @args) = @$c;
    my $at = length $buf;
    put("\n${m}cmd\@\@$key\n");
    my $f = $native{$key};
    next if $f && eval { $f->(@args) };
    substr($buf, $at) = "";
    push @fallback, "printf '\\n%s\\n' '${m}cmd\@\@$key'\n{ $sn\n} </dev/null 2>&1\n";
  }
  if (@fallback) {
    flush_out();
    system("/bin/sh", "-c", "exec </dev/null\n" . join("", @fallback));
  }
  put("\n${m}end\n");
  flush_out();
}
"""
)


def _fields(args: tuple[str, ...]) -> tuple[str, ...]:
    """Arguments as request fields: one holding a tab or newline (the request's separators)
    is sent empty."""
    return tuple("" if ("\t" in a or "\n" in a) else a for a in args)


def _native_args(key: str, plan: Plan) -> tuple[str, ...]:
    if key == filesystem.CMD:
        # the same host-side prefilter as the awk of the sh snippet (ERE is valid perl)
        args = (
            filesystem.host_regex(plan.opts.mount_points_exclude),
            filesystem.host_regex(plan.opts.fs_types_exclude),
        )
        return (*_fields(args), f"{plan.opts.mount_timeout:g}")
    if key == btrfs.CMD:
        return _fields(btrfs.native_args(plan.opts))
    return ()


def session_command(kind: Kind | Literal["auto"]) -> str:
    """The one exec command of a session, for any login shell: it prints a ready line."""
    boot = ["LC_ALL=C; export LC_ALL"]
    if kind != "sh":
        boot.append(
            "if command -v perl >/dev/null 2>&1; then exec perl -e " + _quote(PERL_AGENT) + "; fi"
        )
    boot += [f"printf '\\n%s\\n' '{READY}sh'", "exec /bin/sh"]
    return "exec /bin/sh -c " + _quote("\n".join(boot))


def canonical_plan(plan: Plan) -> bytes:
    """The plan as the perl session reads it (file patterns, then snippets with their bytes):
    the text whose sha256 a restricted key's forced command accepts."""
    parts = [f"F {p}\n".encode() for p in plan.files]
    for key, snippet in plan.commands.items():
        data = snippet.encode()
        head = "\t".join(("C", key, str(len(data)), *_native_args(key, plan)))
        parts += [head.encode(), b"\n", data]
    return b"".join(parts)


def _perl_plan(plan: Plan) -> bytes:
    return f"S {plan.key}\n".encode() + canonical_plan(plan)


def _sh_plan(plan: Plan) -> bytes:
    # the nonce is only ever inside single-quoted markers: '"$1"' splices the argument in
    body = plan_script(plan, "'\"$1\"'")
    return f"fw_{plan.key}() {{\n{body}}}\n".encode()


def request(kind: Kind, plan: Plan, nonce: str, stored: bool = False) -> bytes:
    """One collection, as the session of that kind reads it from stdin.  Unless ``stored``
    (the session already has this plan), the request also stores the plan in the session."""
    if kind == "sh":
        # a function call: its definition was parsed whole before; it reads no stdin
        call = f"fw_{plan.key} {nonce} </dev/null\n".encode()
        return call if stored else _sh_plan(plan) + call
    if stored:
        return f"{nonce}\nP {plan.key}\nE\n".encode()
    return f"{nonce}\n".encode() + _perl_plan(plan) + b"E\n"
