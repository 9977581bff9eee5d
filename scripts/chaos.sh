#!/usr/bin/env bash
# The chaos run (issue 10): the mesh started through the harness on a state folder of its own, then
# PAYOUTS payouts driven end to end through the gateway while KILLS processes across all five services are
# killed with SIGKILL and restarted, then the invariants (no payout twice, none lost, no fund below zero,
# debits = credits, every notice delivered by its id and made once, the catalog unchanged). Prints the seed;
# pass it back to replay the same kills.
#   scripts/chaos.sh [PAYOUTS=10000] [KILLS=20] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
payouts="${1:-10000}"
kills="${2:-20}"
seed="${3:-}"
swift build
state=$(mktemp -d)
sed "s|\"state\": \".mesh/state\"|\"state\": \"$state\"|; s|\"certificates\": \".mesh/certs\"|\"certificates\": \"$state/certs\"|" Compose/topology.json > "$state/topology.json"
.build/debug/mesh up --detach --topology "$state/topology.json"
trap '.build/debug/mesh down --topology "$state/topology.json" > /dev/null' EXIT
.build/debug/mesh chaos --topology "$state/topology.json" --payouts "$payouts" --kills "$kills" ${seed:+--seed "$seed"} | tee "$state/chaos.log"
echo "log: $state/chaos.log; service logs: $state/logs"
