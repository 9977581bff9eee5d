#!/usr/bin/env bash
# Generates a Python client from Services/Gateway/HTTP/openapi.json with openapi-python-client (PyPI, in a
# virtualenv under .build-openapi) and calls a running mesh's HTTP face with it, as a county system would.
#   scripts/check-generated-client.sh CERTIFICATES_DIR [HTTP_PORT]      (CI runs it after `mesh up`)
set -euo pipefail
cd "$(dirname "$0")/.."
certificates="$1"
port="${2:-7443}"
venv=.build-openapi/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/pip" install --quiet "openapi-python-client>=0.20"; then
    # The one part of CI that needs PyPI: say so plainly rather than fail the build on a network outage.
    echo "SKIPPED: openapi-python-client could not be installed from PyPI; the generated-client check did not run" >&2
    exit 0
fi
out=$(mktemp -d)
(cd "$out" && "$OLDPWD/$venv/bin/openapi-python-client" generate --path "$OLDPWD/Services/Gateway/HTTP/openapi.json" --meta none > generate.log 2>&1) \
  || { cat "$out/generate.log"; exit 1; }
# Any warning means the generator dropped or degraded part of the face: an endpoint, a body, a response.
if grep -nE "WARNING|Unable to|Unsupported|Cannot parse" "$out/generate.log"; then
  echo "openapi-python-client warned on Services/Gateway/HTTP/openapi.json (above): fix the document" >&2
  exit 1
fi
package=$(cd "$out" && ls -d */ | grep -v '^__' | head -1 | tr -d /)
PYTHONPATH="$out" "$venv/bin/python" scripts/generated_client_check.py "$certificates" "$port" "$package"
