#!/usr/bin/env bash
# A batch of LINES lines that are not profiles, uploaded to a running mesh's HTTP face as a county would:
# every line must be answered with its own error, in order, and the gateway must go on serving. Prints the
# time and the gateway's resident memory before and after.
#   scripts/bad-lines.sh STATE_DIR CERTIFICATES_DIR [HTTP_PORT=7443] [LINES=1000000]
set -euo pipefail
state="$1"; certificates="$2"; port="${3:-7443}"; lines="${4:-1000000}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python3 -c 'import sys; sys.stdout.write("{\"profile\": 42}\n" * int(sys.argv[1]))' "$lines" > "$work/bad.ndjson"
gateway_pid=$(python3 -c "import json,sys; print([i['pid'] for i in json.load(open(sys.argv[1]))['instances'] if i['service']=='gateway'][0])" "$state/mesh-state.json")
rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$gateway_pid/status"; }
before=$(rss); start=$(date +%s.%N)
curl -sS --http2 --max-time 1800 --cacert "$certificates/ca.pem" --cert "$certificates/nanhu.pem" --key "$certificates/nanhu-key.pem" \
  -X POST "https://localhost:$port/v1/ScreenBatch" --data-binary "@$work/bad.ndjson" -o "$work/out.ndjson"
seconds=$(python3 -c "import time,sys; print(round(time.time() - float(sys.argv[1]), 1))" "$start")
answered=$(wc -l < "$work/out.ndjson")
errors=$(grep -c '"error":{"code":"invalidArgument"' "$work/out.ndjson" || true)
last=$(tail -n 1 "$work/out.ndjson" | cut -c1-40)
echo "bad lines: $lines sent, $answered answered, $errors with invalidArgument, in $seconds s; gateway resident memory $before MB before, $(rss) MB after; last: $last"
[ "$answered" -eq "$lines" ] && [ "$errors" -eq "$lines" ]
# The gateway still serves: a good screening right after.
curl -sS --http2 --cacert "$certificates/ca.pem" --cert "$certificates/nanhu.pem" --key "$certificates/nanhu-key.pem" \
  -X POST "https://localhost:$port/v1/ListDocuments" -d '{}' | grep -q '"revision"'
echo "the gateway serves after the batch"
