#!/usr/bin/env bash
# Runs a libFuzzer target of the Fuzz package for a given time (default 600 s) from the committed seed corpus.
#   scripts/fuzz.sh [seconds]
# Builds Fuzz/ in debug with -sanitize=fuzzer (address sanitizer too) into Fuzz/.build. Not run by CI.
# Debug, not release: a release build of the package gave libFuzzer no coverage counters for the Swift
# modules (446 counters in all, "no interesting inputs"), so the search was blind; debug gives ~89,000.
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
seconds="${1:-600}"
swift build -c debug --product FrameDecoderFuzzer --sanitize=fuzzer --sanitize=address
work=$(mktemp -d)
cp Corpus/frame-decoder/* "$work/"
.build/debug/FrameDecoderFuzzer "$work" -max_total_time="$seconds" -max_len=70000 -print_final_stats=1 2>&1 | tail -25
