#!/usr/bin/env bash
# Runs a libFuzzer target of the Fuzz package for a given time (default 600 s) from the committed seed corpus.
#   scripts/fuzz.sh [seconds]
# Builds Fuzz/ in debug with -sanitize=fuzzer (address sanitizer too) into Fuzz/.build. Not run by CI.
# Built with -v: with SwiftPM 6.3 here, the same command without -v instruments only the fuzzer's own file for
# coverage (544 counters, libFuzzer finds "no interesting inputs" and searches blind), while with -v every module
# gets -sanitize=fuzzer (89,179 counters). The script checks the count and stops if coverage is missing.
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
seconds="${1:-600}"
swift build -v -c debug --product FrameDecoderFuzzer --sanitize=fuzzer --sanitize=address > .build/fuzz-build.log 2>&1 || { tail -20 .build/fuzz-build.log; exit 1; }
counters=$(.build/debug/FrameDecoderFuzzer -runs=0 Corpus/frame-decoder 2>&1 | sed -n 's/.*(\([0-9]*\) inline 8-bit counters).*/\1/p' | head -1)
echo "coverage counters: ${counters:-none}"
if [ "${counters:-0}" -lt 10000 ]; then
    echo "the protocol modules are not instrumented for coverage (only ${counters:-0} counters): rebuild with rm -rf Fuzz/.build" >&2
    exit 1
fi
work=$(mktemp -d)
cp Corpus/frame-decoder/* "$work/"
.build/debug/FrameDecoderFuzzer "$work" -max_total_time="$seconds" -max_len=70000 -print_final_stats=1 2>&1 | tail -25
