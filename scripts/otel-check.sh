#!/usr/bin/env bash
# Spans exported for real: the mesh built with the OTel trait (`swift build --traits OTel`, swift-otel's
# exporter) sends its spans over OTLP/HTTP as JSON to a receiver of this script's own on 127.0.0.1. The demo
# runs on it (ledger batches), then one HTTP request with a traceparent asks the gateway for its replicas; the
# spans must make one trace from that request through the gateway into every service (scripts/otel_check.py).
#
#     bash scripts/otel-check.sh [SCRATCH]    (the build's folder; .build-otel by default)
#
# The mesh gets ports of its own (7500 and up) and a state folder in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${1:-.build-otel}"
echo "== building with the OTel trait into $scratch"
swift build --traits OTel --scratch-path "$scratch" 2>&1 | tail -1
bin="$(swift build --traits OTel --scratch-path "$scratch" --show-bin-path)"
work="$(mktemp -d -t mesh-otel.XXXXXX)"
python3 scripts/otel_check.py serve "$work/spans.jsonl" "$work/port" &
receiver=$!
cleanup() {
    "$bin/mesh" down --topology "$work/topology.json" > /dev/null 2>&1 || true
    kill "$receiver" 2> /dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port="$(cat "$work/port")"
python3 - "$work" << 'PY'
import json, sys
work = sys.argv[1]
topology = json.load(open("Compose/topology.json"))
topology["certificates"] = f"{work}/certs"
topology["state"] = f"{work}/state"
shift = {"7443": "7543", "7401": "7501", "8443": "8543"}
for service in topology["services"]:
    service["port"] += 100
    service["arguments"] = [shift.get(a, a) for a in service.get("arguments", [])]
json.dump(topology, open(f"{work}/topology.json", "w"), indent=1)
PY
echo "== the mesh with spans exported to http://127.0.0.1:$port (OTLP/HTTP, JSON)"
export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" OTEL_EXPORTER_OTLP_PROTOCOL=http/json
export OTEL_BSP_SCHEDULE_DELAY=200
"$bin/mesh" up --detach --demo --topology "$work/topology.json" --bin-directory "$bin" | grep -E "demo checks|mesh is up"
trace=4bf92f3577b34da6a3ce929d0e0e4736
parent=00f067aa0ba902b7
certs="$work/certs"
curl -sS --cacert "$certs/ca.pem" --cert "$certs/operator.pem" --key "$certs/operator-key.pem" \
    -H "content-type: application/json" -H "traceparent: 00-$trace-$parent-01" -d '{}' \
    https://127.0.0.1:7543/v1/ListReplicas > "$work/replicas.json"
grep -q '"replicas"' "$work/replicas.json" || { echo "ListReplicas failed: $(cat "$work/replicas.json")"; exit 1; }
# The exporters send what they hold every 200 ms, and at shutdown.
"$bin/mesh" down --topology "$work/topology.json" > /dev/null
python3 scripts/otel_check.py check "$work/spans.jsonl" "$trace" "$parent"
