#!/usr/bin/env bash
# Runs a libFuzzer target of the Fuzz package for a given time (default 600 s) from the committed seed corpus.
#   scripts/fuzz.sh [seconds]
# Builds Fuzz/ in release with -sanitize=fuzzer (address sanitizer too) into Fuzz/.build. Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
seconds="${1:-600}"
swift build -c release --product FrameDecoderFuzzer --sanitize=fuzzer --sanitize=address
work=$(mktemp -d)
cp Corpus/frame-decoder/* "$work/"
.build/release/FrameDecoderFuzzer "$work" -max_total_time="$seconds" -max_len=70000 -print_final_stats=1 2>&1 | tail -25
