#!/usr/bin/env bash
# The Compose deployment for real, on a Docker engine of this machine: images built here (Compose/images.sh),
# each container with its own key (Compose/secrets.sh), `docker-compose up` of PostgreSQL, catalog, three
# eligibility, two disbursement, two notification and the gateway; then, from the host through the gateway's
# published ports on 127.0.0.1:
#   1. `mesh demo` (webhooks to a receiver on the host's address on the Compose network);
#   2. `--scale eligibility=4`: the new replica is used by the running gateway (its metrics count calls);
#   3. Prometheus (a container of the run) scraping every replica, the dashboard's every query answering;
#   4. `mesh chaos` payouts while one disbursement container is killed (`docker kill`), then the invariants
#      (nothing paid twice or lost, debits = credits, no fund below zero, every notice delivered once);
#   5. PostgreSQL over TLS 1.3 only (psql with and without TLS, and capped at 1.2);
# and `docker-compose down -v`. The containers talk only on the network the run creates (10.87.0.0/24).
#
#   bash scripts/compose-check.sh [debug|release]   (debug: the executables the tests built)
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=${1:-debug}
started=$(date +%s)
project=meshcheck
compose=(docker-compose -p "$project" -f Compose/docker-compose.yml -f Compose/docker-compose.check.yml)
mesh=.build/debug/mesh
[ "$configuration" = release ] && mesh=.build-compose/build/release/mesh
network_address=10.87.0.1
failures=0
check() { if [ "$1" = ok ]; then echo "  ok: $2"; else echo "  FAILED: $2"; failures=$((failures + 1)); fi; }

# A Docker engine: started here when none answers (CI runs as root with Debian's docker.io).
if ! docker info >/dev/null 2>&1; then
  (dockerd > /tmp/mesh-dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /tmp/mesh-dockerd.log >&2; echo "no Docker engine" >&2; exit 1; }
fi

bash Compose/images.sh "$configuration"
echo "images built after $(( $(date +%s) - started )) s"

# The parties' certificates in a folder of this run; each container gets its own from it.
work=$(mktemp -d /tmp/mesh-compose.XXXXXX)
sed "s|\"certificates\": \".mesh/certs\"|\"certificates\": \"$work/certs\"|" Compose/topology.json > "$work/topology.json"
MESH=$mesh bash Compose/secrets.sh "$work/topology.json"

cleanup() {
  "${compose[@]}" logs --no-color > "$work/compose.log" 2>&1 || true
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$work/certs" # the run's CA key; the logs stay
}
trap cleanup EXIT
"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
"${compose[@]}" up -d
container_health() { docker inspect --format '{{.State.Health.Status}}' "$1" 2>/dev/null || echo missing; }
wait_healthy() { # service, count, seconds
  local deadline=$(( $(date +%s) + $3 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    local healthy=0
    for id in $("${compose[@]}" ps -q "$1"); do [ "$(container_health "$id")" = healthy ] && healthy=$((healthy + 1)); done
    [ "$healthy" -ge "$2" ] && return 0
    sleep 2
  done
  return 1
}
if wait_healthy gateway 1 240; then check ok "every container healthy: $("${compose[@]}" ps --services | tr '\n' ' ')"; else
  "${compose[@]}" ps; "${compose[@]}" logs --no-color --tail 30; echo "the mesh did not become healthy" >&2; exit 1
fi
echo "up after $(( $(date +%s) - started )) s"
for service in postgres catalog eligibility disbursement notification gateway prometheus; do
  echo "  $service: $("${compose[@]}" ps -q "$service" | wc -l) container(s), user $(docker inspect --format '{{.Config.User}}' "$("${compose[@]}" ps -q "$service" | sed -n 1p)")"
done
# No container holds the CA's key or another party's key; Prometheus holds none.
strays=0
for id in $("${compose[@]}" ps -q); do
  keys=$(docker exec "$id" sh -c 'ls /mesh/certs/ 2>/dev/null | grep -- "-key.pem" || true' | tr '\n' ' ')
  service=$(docker inspect --format '{{index .Config.Labels "com.docker.compose.service"}}' "$id")
  wanted="$service-key.pem "
  [ "$service" = prometheus ] && wanted=""
  if [ "$keys" != "$wanted" ]; then
    check failed "$(docker inspect --format '{{.Name}}' "$id") holds exactly its own key (has: $keys)"
    strays=$((strays + 1))
  fi
done
[ "$strays" = 0 ] && check ok "each container holds its own key only (the CA's key in none)"

# 1. The demo through the published gateway.
"$mesh" demo --topology "$work/topology.json" --gateway 127.0.0.1:7400 --certificates "$work/certs" \
  --webhook-listen "$network_address" --webhook-host mesh-cli --generated 300 | tee "$work/demo.log" || true
grep -q "demo checks: .* passed, 0 failed" "$work/demo.log" && check ok "the demo through Compose" || check failed "the demo through Compose"
# The demo made the console's accounts through the gateway (the operator's ListConsoleAccounts and Put…).
"$mesh" account list --topology "$work/topology.json" --host 127.0.0.1 --port 7400 > "$work/accounts.log" 2>&1 || true
grep -q "^operator	operator/operator" "$work/accounts.log" \
  && check ok "console accounts through the gateway: $(wc -l < "$work/accounts.log") (mesh account --host)" \
  || check failed "console accounts through the gateway: $(head -c 300 "$work/accounts.log")"

# 2. A fourth eligibility replica, used by the running gateway.
metric() { # container: the screening calls its server answered (health checks not counted), read from inside
  docker exec "$1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8420 && printf "GET /metrics HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n" >&3 && timeout 5 cat <&3' \
    | awk '/^mesh_rpc_server_calls_total/ && /EligibilityService/ {sum += $NF} END {print sum + 0}'
}
"${compose[@]}" up -d --no-recreate --scale eligibility=4 eligibility
wait_healthy eligibility 4 120 && check ok "eligibility scaled to 4, all healthy" || check failed "eligibility scaled to 4"
sleep 4 # the gateway resolves names every 2 s
declare -A before
for id in $("${compose[@]}" ps -q eligibility); do before[$id]=$(metric "$id"); done
answered=0
for _ in $(seq 40); do
  "$mesh" call --topology "$work/topology.json" --host 127.0.0.1 --port 7400 --as nanhu \
    jiaxing.benefits.v1.Gateway/Screen '{"profile": {"creditCode": "91330402MA2JX00017", "county": "NANHU"}, "asOf": {"year": 2023, "month": 9, "day": 1}}' \
    > "$work/screen.json" 2>&1 && answered=$((answered + 1))
done
echo "  $answered of 40 screenings answered; the last: $(head -c 200 "$work/screen.json")"
# The operator's view through the published gateway: every replica serving, the four eligibility among them.
"$mesh" status --topology "$work/topology.json" --host 127.0.0.1 --port 7400 | tee "$work/status.log" \
  && [ "$(grep -c '^eligibility .*SERVING' "$work/status.log")" = 4 ] \
  && check ok "mesh status --host: every replica serving, 4 eligibility" || check failed "mesh status --host"
served=0
for id in $("${compose[@]}" ps -q eligibility); do
  after=$(metric "$id")
  echo "  $(docker inspect --format '{{.Name}}' "$id"): $(( after - ${before[$id]} )) calls"
  [ "$after" -gt "${before[$id]}" ] && served=$((served + 1))
done
[ "$served" = 4 ] && check ok "calls reach all 4 eligibility replicas" || check failed "calls reach all 4 eligibility replicas ($served did)"

# 3. Prometheus (a container of the run) scrapes every replica, found by name: all up, the key series there,
#    and every query of the Grafana dashboard answering with data.
python3 scripts/prometheus_check.py http://127.0.0.1:9090 Compose/grafana-dashboard.json \
  catalog=1 eligibility=4 disbursement=2 notification=2 gateway=1 \
  && check ok "Prometheus scrapes every replica; the dashboard's queries answer" || check failed "Prometheus"

# 4. Payouts while a disbursement container is killed; then the invariants.
ledger="postgres://mesh@127.0.0.1:${MESH_POSTGRES_PORT:-15432}/mesh?sslmode=verify-full&sslrootcert=$work/certs/ca.pem"
PGPASSWORD_FILE=Compose/.secrets/postgres-password "$mesh" chaos --topology "$work/topology.json" \
  --gateway 127.0.0.1:7400 --certificates "$work/certs" --webhook-listen "$network_address" --webhook-host mesh-cli \
  --ledger-database "$ledger" --kills 0 --payouts "${COMPOSE_PAYOUTS:-600}" --concurrency 8 --notice-wait-seconds 120 \
  > "$work/chaos.log" 2>&1 &
chaos=$!
victim=$("${compose[@]}" ps -q disbursement | sed -n 1p)
for _ in $(seq 120); do grep -q "payouts done" "$work/chaos.log" && break; sleep 1; done
docker kill "$victim" >/dev/null && echo "  killed $(docker inspect --format '{{.Name}}' "$victim") mid-run"
if wait "$chaos"; then status=0; else status=$?; fi
cat "$work/chaos.log"
[ "$status" = 0 ] && grep -q "invariants: all hold" "$work/chaos.log" \
  && check ok "payouts through a killed disbursement container: the invariants hold" \
  || check failed "payouts through a killed disbursement container"

# 5. PostgreSQL takes TLS 1.3 only: a connection without TLS, or capped at TLS 1.2, is refused.
password=$(cat Compose/.secrets/postgres-password)
pg() { PGPASSWORD=$password PGCONNECT_TIMEOUT=5 psql -X -q -t -c 'SELECT 1' "host=127.0.0.1 port=${MESH_POSTGRES_PORT:-15432} user=mesh dbname=mesh $1" 2>&1 || true; }
answer=$(pg "sslmode=verify-full sslrootcert=$work/certs/ca.pem")
[ "$(echo "$answer" | tr -d ' \n')" = 1 ] && check ok "PostgreSQL over TLS, the certificate verified against the mesh CA" \
  || check failed "PostgreSQL over TLS: $answer"
answer=$(pg "sslmode=disable")
echo "$answer" | grep -q "no encryption" && check ok "PostgreSQL refuses a connection without TLS" \
  || check failed "PostgreSQL without TLS: $answer"
answer=$(pg "sslmode=require ssl_max_protocol_version=TLSv1.2")
echo "$answer" | grep -qi "protocol version\|alert" && check ok "PostgreSQL refuses TLS 1.2" \
  || check failed "PostgreSQL with TLS 1.2: $answer"

echo "compose checks: $failures failed, after $(( $(date +%s) - started )) s (logs: $work/compose.log)"
[ "$failures" = 0 ]
