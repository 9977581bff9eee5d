#!/usr/bin/env bash
# The project's test command: `swift test` with at most MESH_TEST_WIDTH tests running at once (8 unless set).
#
# Swift Testing starts every test at once unless told otherwise: here about 270, of which some forty start a
# whole mesh in process and six spawn service processes. On a two-core machine the tests with deadlines
# (streams through a small window, a delivery attempt's 5 s, a handshake deadline) then wait on the CPU, not
# on what they test. The width is Swift Testing's own setting (SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH);
# extra arguments go to `swift test` (for example --filter).
set -euo pipefail
cd "$(dirname "$0")/.."
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${MESH_TEST_WIDTH:-8}"
exec swift test "$@"
