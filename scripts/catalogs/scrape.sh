#!/bin/sh
# Scrape the REAL programs installed from Debian (apt, see docs/architecture.md) and save
# their /metrics pages under scripts/catalogs/raw/ (committed: generate.py needs no network).
# Run as root on a machine with the packages of scripts/install-system-deps.sh plus
# prometheus-blackbox-exporter and prometheus-mysqld-exporter:
#     sh scripts/catalogs/scrape.sh && .venv/bin/python scripts/catalogs/generate.py
# Every server listens on 127.0.0.1 (ports 19100-19199) and is stopped by its PID.
set -eu
OUT=$(cd "$(dirname "$0")" && pwd)/raw
TMP=$(mktemp -d)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done
            [ -f "$TMP/pg/postmaster.pid" ] && runuser -u postgres -- \
              /usr/lib/postgresql/15/bin/pg_ctl -D "$TMP/pg" -m fast -w stop >/dev/null 2>&1 || true
            rm -rf "$TMP"; }
trap cleanup EXIT
mkdir -p "$OUT"
wait_url() { i=0; until curl -fsS -o /dev/null "$1" 2>/dev/null; do i=$((i+1)); [ $i -gt 100 ] && { echo "no answer: $1" >&2; exit 1; }; sleep 0.1; done; }
save() { curl -fsS "$1" > "$OUT/$2.prom"; echo "$2: $(grep -c '^# TYPE' "$OUT/$2.prom") families ($3)"; }
ver() { "$1" --version 2>&1 | head -1; }

# node_exporter: default collectors plus the commonly enabled ones
prometheus-node-exporter --web.listen-address=127.0.0.1:19100 --collector.systemd \
  --collector.processes --collector.interrupts --collector.tcpstat --collector.cgroups \
  --collector.ethtool --collector.mountstats --collector.network_route --collector.perf \
  --collector.buddyinfo --collector.drm --collector.ksmd --collector.logind \
  --collector.meminfo_numa --collector.slabinfo \
  --collector.sysctl --collector.wifi --collector.zoneinfo --collector.lnstat --collector.ntp --collector.runit --collector.supervisord --collector.qdisc \
  --collector.cpu.info --collector.filesystem.mount-points-exclude='^/(dev|proc|sys)($|/)' \
  >"$TMP/node.log" 2>&1 &
PIDS="$PIDS $!"
cat > "$TMP/prom.yml" <<YAML
global: {scrape_interval: 1s}
rule_files: ["$TMP/rules.yml"]
alerting: {alertmanagers: [{static_configs: [{targets: ["127.0.0.1:19193"]}]}]}
scrape_configs:
  - {job_name: self, static_configs: [{targets: ["127.0.0.1:19190"]}]}
  - {job_name: node, static_configs: [{targets: ["127.0.0.1:19100"]}]}
YAML
cat > "$TMP/rules.yml" <<YAML
groups: [{name: g, rules: [{record: "job:up:sum", expr: "sum by (job) (up)"}, {alert: A, expr: "up == 0"}]}]
YAML
prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/tsdb" \
  --web.listen-address=127.0.0.1:19190 >"$TMP/prom.log" 2>&1 &
PIDS="$PIDS $!"
cat > "$TMP/am.yml" <<YAML
route: {receiver: none}
receivers: [{name: none}]
YAML
prometheus-alertmanager --config.file="$TMP/am.yml" --storage.path="$TMP/am" \
  --web.listen-address=127.0.0.1:19193 --cluster.listen-address= >"$TMP/am.log" 2>&1 &
PIDS="$PIDS $!"
prometheus-blackbox-exporter --config.file=/etc/prometheus/blackbox.yml \
  --web.listen-address=127.0.0.1:19115 >"$TMP/bb.log" 2>&1 &
PIDS="$PIDS $!"
redis-server --port 19179 --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$TMP/redis.log" 2>&1 &
PIDS="$PIDS $!"
prometheus-redis-exporter -redis.addr redis://127.0.0.1:19179 -web.listen-address 127.0.0.1:19121 \
  >"$TMP/re.log" 2>&1 &
PIDS="$PIDS $!"
mkdir -p "$TMP/pg" "$TMP/pgsock"; chown postgres "$TMP" "$TMP/pg" "$TMP/pgsock"
runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$TMP/pg" -U postgres --auth=trust >/dev/null
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$TMP/pg" -l "$TMP/pgsock/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p 19154 -k $TMP/pgsock" start >/dev/null
DATA_SOURCE_NAME="postgresql://postgres@127.0.0.1:19154/postgres?sslmode=disable" \
  prometheus-postgres-exporter --web.listen-address=127.0.0.1:19187 >"$TMP/pe.log" 2>&1 &
PIDS="$PIDS $!"
# no MySQL server here: the exporter's own families only (mysql_up, its scrape metrics)
DATA_SOURCE_NAME='none:x@tcp(127.0.0.1:19106)/' \
  prometheus-mysqld-exporter --web.listen-address=127.0.0.1:19104 \
  >"$TMP/my.log" 2>&1 &
PIDS="$PIDS $!"

wait_url http://127.0.0.1:19100/metrics
wait_url http://127.0.0.1:19190/-/ready
wait_url http://127.0.0.1:19193/-/ready
wait_url http://127.0.0.1:19115/metrics
wait_url http://127.0.0.1:19121/metrics
wait_url http://127.0.0.1:19187/metrics
wait_url http://127.0.0.1:19104/metrics
# let Prometheus scrape, evaluate and notify a few times so its per-target families appear
i=0; until curl -fsS 'http://127.0.0.1:19190/api/v1/query?query=prometheus_notifications_sent_total' | grep -q '"value"'; do
  i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.1; done
curl -fsS http://127.0.0.1:19193/api/v2/status >/dev/null
save http://127.0.0.1:19100/metrics node_exporter "$(ver prometheus-node-exporter)"
save http://127.0.0.1:19190/metrics prometheus "$(ver prometheus)"
save http://127.0.0.1:19193/metrics alertmanager "$(ver prometheus-alertmanager)"
save http://127.0.0.1:19115/metrics blackbox_exporter "$(ver prometheus-blackbox-exporter)"
# the families a probe answers (http, tcp, icmp where allowed, dns)
{ curl -fsS 'http://127.0.0.1:19115/probe?module=http_2xx&target=http://127.0.0.1:19190/-/ready'
  curl -fsS 'http://127.0.0.1:19115/probe?module=tcp_connect&target=127.0.0.1:19190'
  curl -fsS 'http://127.0.0.1:19115/probe?module=icmp&target=127.0.0.1' || true
  curl -fsS 'http://127.0.0.1:19115/probe?module=dns_udp&target=127.0.0.1:53' || true
} > "$OUT/blackbox_probe.prom"
echo "blackbox_probe: $(grep -c '^# TYPE' "$OUT/blackbox_probe.prom") families"
save http://127.0.0.1:19121/metrics redis_exporter "$(ver prometheus-redis-exporter)"
save http://127.0.0.1:19187/metrics postgres_exporter "$(ver prometheus-postgres-exporter)"
save http://127.0.0.1:19104/metrics mysqld_exporter "$(ver prometheus-mysqld-exporter)"
{ for b in prometheus-node-exporter prometheus prometheus-alertmanager prometheus-blackbox-exporter \
    prometheus-redis-exporter prometheus-postgres-exporter prometheus-mysqld-exporter; do
    echo "$b: $(ver $b)"; done; } > "$OUT/VERSIONS"
