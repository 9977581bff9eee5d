#!/usr/bin/env bash
# Generates a Python client from Shared/Protos with grpcio-tools (PyPI, in a virtualenv under .build-grpc)
# and calls a running mesh's standard gRPC port with a county's certificate, as a county system would; then
# sends it bad input over raw HTTP/2 (scripts/grpc_bad_input.py).
#   scripts/grpc-check.sh CERTIFICATES_DIR [GRPC_PORT] [HTTP_PORT]      (CI runs it after `mesh up`)
set -euo pipefail
cd "$(dirname "$0")/.."
certificates="$1"
port="${2:-7401}"
http_port="${3:-7443}"
venv=.build-grpc/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "grpcio>=1.60" "grpcio-tools>=1.60" "grpcio-health-checking>=1.60" "grpcio-reflection>=1.60" "h2>=4.1"
out=$(mktemp -d)
"$venv/bin/python" -m grpc_tools.protoc -I Shared/Protos --python_out="$out" --grpc_python_out="$out" \
  $(cd Shared/Protos && find . -name '*.proto' | sort | sed 's|^\./||')
PYTHONPATH="$out" "$venv/bin/python" scripts/grpc_check.py "$certificates" "$port" "$http_port"
"$venv/bin/python" scripts/grpc_bad_input.py "$certificates" "$port"
