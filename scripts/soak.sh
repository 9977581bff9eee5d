#!/usr/bin/env bash
# The soak (issue 10): a mesh of its own, its peak screening rate through the gateway measured, then SECONDS
# at 70% of it; memory of each process, p99 and errors per window; fails when a process's memory moves more
# than 10%, a window's p99 is over twice the median's, or any call fails. Debug build by default (stability,
# not speed, is what it measures).
#   scripts/soak.sh [SECONDS=600] [debug|release] [FRACTION=0.7] [mesh soak's own options...]
# e.g. two builds at the same load: scripts/soak.sh 120 release 0.7 --rate 2500 --warmup 30
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
configuration="${2:-debug}"
fraction="${3:-0.7}"
shift $(($# < 3 ? $# : 3))
swift build -c "$configuration"
bin=".build/$configuration"
state=$(mktemp -d)
sed "s|\"state\": \".mesh/state\"|\"state\": \"$state\"|; s|\"certificates\": \".mesh/certs\"|\"certificates\": \"$state/certs\"|; s|\"--audit-log\"|\"--rate\", \"1000000\", \"--burst\", \"1000000\", \"--audit-log\"|" Compose/topology.json > "$state/topology.json"
"$bin/mesh" up --detach --topology "$state/topology.json" --bin-directory "$bin"
trap '"$bin/mesh" down --topology "$state/topology.json" > /dev/null' EXIT
"$bin/mesh" soak --topology "$state/topology.json" --seconds "$seconds" --fraction "$fraction" "$@" | tee "$state/soak.log"
