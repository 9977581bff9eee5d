#!/usr/bin/env bash
# Issue 26's "bounded streams" criterion, measured from outside the processes: 1,000 WatchInbox calls from one
# county (nanhu) through the gateway's HTTP face (HTTP/2, mutual TLS, port 7443) must leave the gateway and
# notification each under 300 MB resident, hold at most 4 watches open (the rest refused as HTTP 429
# resourceExhausted), and another county's (haining) ListInbox under 50 ms median. Prints before / peak / after
# VmRSS, held vs refused by shape, and ListInbox cold / median / max; exits 1 when a bound is broken.
# Uses the built binaries (no build); starts `mesh up --detach --demo` when no mesh runs and stops it after,
# leaves a running one alone. httpx[http2] from PyPI goes in a virtualenv under .build-watch-flood.
#   scripts/watch-flood.sh [--watches 1000] [--connections 20] [--hold 20]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/debug
venv=.build-watch-flood
[ -x "$bin/mesh" ] || { echo "$bin/mesh is missing: build first (swift build)" >&2; exit 1; }
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import httpx, h2' 2>/dev/null || "$venv/bin/pip" install --quiet "httpx[http2]"
if ! "$bin/mesh" status 2>/dev/null | grep -q '^gateway .* serving'; then
    "$bin/mesh" up --detach --demo > /dev/null
    trap '"$bin/mesh" down > /dev/null' EXIT
fi
timeout 300 "$venv/bin/python" scripts/watch_flood.py .mesh/state .mesh/certs "$@"
