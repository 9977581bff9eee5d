#!/usr/bin/env bash
# Creates the virtualenv Benchmarks/.venv-openfisca (kept out of git by a '*' .gitignore inside it)
# and installs OpenFisca-Core into it. Idempotent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/../.venv-openfisca"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
printf '*\n' > "$venv/.gitignore"
"$venv/bin/pip" install --quiet -r "$here/requirements.txt"
"$venv/bin/python" -c 'import openfisca_core, numpy; print("openfisca-core ready, numpy", numpy.__version__)'
