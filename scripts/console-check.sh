#!/usr/bin/env bash
# Drives the web console in a real headless Chromium (Debian's `chromium`) through Playwright (PyPI, in a
# virtualenv under .build-console) against a running mesh started with `mesh up --demo`.
#   scripts/console-check.sh STATE_DIR CERTIFICATES_DIR [CONSOLE_PORT] [SCREENSHOT_DIR]   (CI runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
state="$1"
certificates="$2"
port="${3:-8443}"
screenshots="${4:-$state/console-screenshots}"
command -v chromium >/dev/null || { echo "chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)" >&2; exit 1; }
venv=.build-console
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/pip" install --quiet "playwright>=1.40"; then
    echo "SKIPPED: playwright could not be installed from PyPI; the browser check of the console did not run" >&2
    exit 0
fi
"$venv/bin/python" scripts/console-check.py "$state" "$port" "$certificates" "$screenshots"
