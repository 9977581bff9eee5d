#!/usr/bin/env bash
# Regenerates Services/Gateway/HTTP/openapi.json from the .proto files (protoc from Debian's
# protobuf-compiler; the Python protobuf package in a virtualenv this script makes under .build-openapi).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build-openapi/venv
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install --quiet "protobuf>=4,<7"; }
protoc --include_imports --include_source_info --descriptor_set_out=.build-openapi/gateway.pb -I Shared/Protos \
  jiaxing/benefits/v1/gateway.proto
"$venv/bin/python" scripts/generate-openapi.py .build-openapi/gateway.pb Services/Gateway/HTTP/openapi.json
echo "wrote Services/Gateway/HTTP/openapi.json"
