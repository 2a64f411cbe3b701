#!/usr/bin/env bash
# Install the system packages, the test user and the project-local ganache that the end-to-end
# tests need, on a fresh Debian 12 machine of the project's kind (run as root, no systemd).
#
# With --run, only what `make run` starts: Prometheus (+ promtool) and Alertmanager (+ amtool).
# A binary given by path in $FLEETWATCH_PROMETHEUS, $FLEETWATCH_PROMTOOL,
# $FLEETWATCH_ALERTMANAGER or $FLEETWATCH_AMTOOL counts as present (fleetwatch uses the same
# variables); where apt cannot be used (not root, not Debian) it says in one line what to do.
#
# Idempotent: every step first checks whether it is needed, so a second run does no network work,
# takes well under 2 s and prints one line. It never starts a service: /usr/sbin/policy-rc.d
# (exit 101) is put in place before apt installs anything.
#
# Usage: scripts/install-system-deps.sh [--run]   (from anywhere; paths relative to the repo root)
set -euo pipefail

MODE=test
case "${1:-}" in
  --run) MODE=run ;;
  "") ;;
  *) echo "usage: $0 [--run]" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_PREFIX="$ROOT/.node"
GANACHE_VERSION="7.9.2"
GANACHE_BIN="$NODE_PREFIX/node_modules/.bin/ganache"
GANACHE_PKG_JSON="$NODE_PREFIX/node_modules/ganache/package.json"
TEST_USER="fwtest"
POLICY_RC="/usr/sbin/policy-rc.d"

APT_PACKAGES=(
  prometheus
  prometheus-alertmanager
  prometheus-node-exporter
  prometheus-postgres-exporter
  prometheus-redis-exporter
  prometheus-blackbox-exporter
  openssh-server
  postgresql
  redis-server
  mosquitto
  mosquitto-clients
  docker.io
  runc
  busybox-static
  sshfs
  victoria-metrics
  btrfs-progs  # mkfs.btrfs: the btrfs e2e test loop-mounts a Btrfs image
  docker-compose        # `docker-compose config` checks deploy/**/compose files (no engine needed)
)

log() { printf 'install-system-deps: %s\n' "$*"; }

# ---- --run: the four binaries of the local stack, by path or on PATH --------------------------
if [[ "$MODE" == run ]]; then
  APT_PACKAGES=(prometheus prometheus-alertmanager)
  # tool, the variable naming its path, the names it has on PATH (Debian's first), its package
  TOOLS=(
    "prometheus FLEETWATCH_PROMETHEUS prometheus prometheus"
    "promtool FLEETWATCH_PROMTOOL promtool prometheus"
    "alertmanager FLEETWATCH_ALERTMANAGER prometheus-alertmanager,alertmanager prometheus-alertmanager"
    "amtool FLEETWATCH_AMTOOL amtool prometheus-alertmanager"
  )
  missing_tools=() missing_vars=() missing_pkgs=()
  for row in "${TOOLS[@]}"; do
    read -r tool var names pkg <<<"$row"
    given="${!var:-}"
    if [[ -n "$given" ]]; then
      if command -v "$given" >/dev/null 2>&1; then continue; fi
      log "ERROR: \$$var=$given is not an executable file" >&2
      exit 1
    fi
    found=0
    for name in ${names//,/ }; do
      if command -v "$name" >/dev/null 2>&1; then found=1; break; fi
    done
    ((found)) && continue
    missing_tools+=("$tool") missing_vars+=("$var=/path/to/$tool")
    [[ " ${missing_pkgs[*]} " == *" $pkg "* ]] || missing_pkgs+=("$pkg")
  done
  if ((${#missing_tools[@]} == 0)); then
    log "ok: prometheus, promtool, alertmanager, amtool present"
    exit 0
  fi
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1 || [[ ! -f /etc/debian_version ]]; then
    log "ERROR: ${missing_tools[*]} missing and apt cannot be used here (needs root on Debian/Ubuntu): install Prometheus 2.x and Alertmanager 0.25+ (apt-get install ${missing_pkgs[*]}), or pass their paths: make run ${missing_vars[*]}" >&2
    exit 1
  fi
fi

# ---- what is missing? (cheap checks only) ---------------------------------------------------
missing_pkgs=()
# One dpkg-query call for all packages; unknown packages make it exit 1, which is fine here.
installed="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${APT_PACKAGES[@]}" 2>/dev/null || true)"
for pkg in "${APT_PACKAGES[@]}"; do
  if ! grep -qE "^${pkg//./\\.} ii" <<<"$installed"; then
    missing_pkgs+=("$pkg")
  fi
done
# ganache needs Node.js and npm; the machine image ships them, but fall back to Debian's.
if [[ "$MODE" == test ]] && ! command -v npm >/dev/null 2>&1; then
  missing_pkgs+=(nodejs npm)
fi

need_policy=0
if [[ ! -x "$POLICY_RC" ]] || ! grep -q 'exit 101' "$POLICY_RC" 2>/dev/null; then
  need_policy=1
fi

need_user=0 # 1: create the user; 2: it exists but its password field is locked ('!')
if [[ "$MODE" == run ]]; then
  :
elif ! id -u "$TEST_USER" >/dev/null 2>&1; then
  need_user=1
elif [[ -r /etc/shadow ]] && [[ "$(getent shadow "$TEST_USER" | cut -d: -f2)" == '!'* ]]; then
  need_user=2
fi

need_ganache=0
if [[ "$MODE" == test ]] && { [[ ! -x "$GANACHE_BIN" ]] \
  || ! grep -q "\"version\": \"$GANACHE_VERSION\"" "$GANACHE_PKG_JSON" 2>/dev/null; }; then
  need_ganache=1
fi

if [[ "$MODE" == run ]] && ((${#missing_pkgs[@]} == 0)); then
  log "ERROR: ${APT_PACKAGES[*]} are installed but ${missing_tools[*]} not on PATH: reinstall them (apt-get install --reinstall ${APT_PACKAGES[*]})" >&2
  exit 1
fi
if ((${#missing_pkgs[@]} == 0 && need_policy == 0 && need_user == 0 && need_ganache == 0)); then
  log "ok: ${#APT_PACKAGES[@]} apt packages, user $TEST_USER, ganache@$GANACHE_VERSION already present"
  exit 0
fi

# ---- something is needed: say what, and require root for the system parts -------------------
needs=()
((need_policy)) && needs+=("$POLICY_RC (exit 101)")
((${#missing_pkgs[@]})) && needs+=("apt packages: ${missing_pkgs[*]}")
((need_user == 1)) && needs+=("user $TEST_USER")
((need_user == 2)) && needs+=("unlock user $TEST_USER (password field '*')")
((need_ganache)) && needs+=("ganache@$GANACHE_VERSION in $NODE_PREFIX")

if [[ "$(id -u)" -ne 0 ]]; then
  {
    log "ERROR: must run as root to install what the $([[ $MODE == run ]] && echo local stack || echo end-to-end tests) need:"
    for n in "${needs[@]}"; do printf '  - %s\n' "$n"; done
    printf 'Run: sudo %s\n' "$0"
  } >&2
  exit 1
fi

log "installing: $(IFS=';'; echo "${needs[*]}")"
start=$SECONDS

# 1. No service may start from a package's postinst (there is no systemd here anyway).
if ((need_policy)); then
  printf '#!/bin/sh\n# Installed by fleetwatch scripts/install-system-deps.sh: apt starts no services.\nexit 101\n' \
    >"$POLICY_RC"
  chmod 0755 "$POLICY_RC"
  log "wrote $POLICY_RC"
fi

# 2. apt packages: update the lists only when something is missing.
if ((${#missing_pkgs[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}"
  log "installed apt packages: ${missing_pkgs[*]}"
fi

# 3. The unprivileged ssh test user. '*' (not a locked '!') so sshd with UsePAM no accepts keys.
if ((need_user)); then
  if ((need_user == 1)); then
    useradd -m -s /bin/sh "$TEST_USER"
  fi
  usermod -p '*' "$TEST_USER"
  log "user $TEST_USER ready (key login only)"
fi

# 4. ganache, pinned, in the project-local prefix.
if ((need_ganache)); then
  mkdir -p "$NODE_PREFIX"
  npm install --prefix "$NODE_PREFIX" "ganache@$GANACHE_VERSION" --no-audit --no-fund --loglevel=error
  if [[ ! -x "$GANACHE_BIN" ]]; then
    log "ERROR: npm finished but $GANACHE_BIN is missing" >&2
    exit 1
  fi
  log "installed ganache@$GANACHE_VERSION in $NODE_PREFIX"
fi

log "done in $((SECONDS - start)) s"
