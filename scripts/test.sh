#!/usr/bin/env bash
# The project's test command: `swift test` with at most MESH_TEST_WIDTH tests running at once (8 unless set).
#
# Swift Testing starts every test at once unless told otherwise: here about 270, of which some forty start a
# whole mesh in process and six spawn service processes. On a two-core machine the tests with deadlines
# (streams through a small window, a delivery attempt's 5 s, a handshake deadline) then wait on the CPU, not
# on what they test. The width is Swift Testing's own setting (SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH);
# extra arguments go to `swift test` (for example --filter).
#
# A run that stops making progress is a bug to find, not a CI job to time out: after MESH_TEST_STALL seconds
# (300 unless set) without a line of output, the tests that started and never ended are named, the test
# process's threads are dumped (with gdb, where installed), and the run fails. The output is line-buffered
# (stdbuf) so that the last line written is the last line the tests printed.
set -euo pipefail
cd "$(dirname "$0")/.."
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${MESH_TEST_WIDTH:-8}"
stall="${MESH_TEST_STALL:-300}"
log="$(mktemp -t mesh-test.XXXXXX)"
trap 'rm -f "$log"' EXIT
stdbuf -oL -eL swift test "$@" > >(tee "$log") 2>&1 &
tests=$!
while kill -0 "$tests" 2>/dev/null; do
    sleep 5
    quiet=$(( $(date +%s) - $(stat -c %Y "$log") ))
    (( quiet < stall )) && continue
    {
        echo
        echo "test run: no output for ${quiet} s (MESH_TEST_STALL=${stall}); started and not ended:"
        comm -23 \
            <(grep -aoE '^◇ Test "[^"]*" started' "$log" | sed -E 's/^◇ Test "(.*)" started$/\1/' | sort -u) \
            <(grep -aoE '^(✔|✘) Test "[^"]*" (with [0-9]+ test cases? )?(passed|failed)' "$log" \
                | sed -E 's/^(✔|✘) Test "(.*)" (with [0-9]+ test cases? )?(passed|failed)$/\2/' | sort -u) \
            | sed 's/^/  /'
        process=$(pgrep -f 'PackageTests.xctest' | head -1 || true)
        if [ -n "$process" ] && command -v gdb > /dev/null; then
            echo "threads of the test process $process:"
            gdb -p "$process" -batch -ex 'thread apply all bt 12' 2>/dev/null | grep -E '^(Thread|#)' || true
        fi
    } >&2
    pkill -f 'PackageTests.xctest' || true
    kill "$tests" 2>/dev/null || true
    wait "$tests" 2>/dev/null || true
    exit 1
done
wait "$tests"
