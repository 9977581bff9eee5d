#!/usr/bin/env bash
# Runs the libFuzzer targets of the Fuzz package, each for a given time (default 600 s), from the committed seed
# corpora. Not run by CI.
#   scripts/fuzz.sh [seconds] [FrameDecoderFuzzer] [MessageDecoderFuzzer] [ProfileJSONFuzzer]   (default: all)
#   FUZZ_RUNS=10000000 scripts/fuzz.sh 3600 …   stops each target after that many executions instead
# - FrameDecoderFuzzer: the frame decoder and the server's connection state machine, on raw bytes;
# - MessageDecoderFuzzer: the protobuf decoders of the messages servers accept;
# - ProfileJSONFuzzer: a ScreenRequest in the JSON the gateway's HTTP face takes, then the profile checks and
#   a screening by the real engine against the real catalog.
# Builds Fuzz/ in debug with -sanitize=fuzzer (address sanitizer too) into Fuzz/.build, with -v: with SwiftPM
# 6.3 here, the same command without -v instruments only each fuzzer's own file for coverage (544 counters,
# libFuzzer finds "no interesting inputs" and searches blind), while with -v every module gets
# -sanitize=fuzzer (89,179 counters). The script checks the count and stops if coverage is missing.
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(FrameDecoderFuzzer MessageDecoderFuzzer ProfileJSONFuzzer)
mkdir -p .build
declare -A corpus=([FrameDecoderFuzzer]=frame-decoder [MessageDecoderFuzzer]=message-decoder [ProfileJSONFuzzer]=profile-json)
for target in "${targets[@]}"; do
    swift build -v -c debug --product "$target" --sanitize=fuzzer --sanitize=address > ".build/fuzz-build-$target.log" 2>&1 || { tail -20 ".build/fuzz-build-$target.log"; exit 1; }
    # The counters alone do not prove the Swift code is instrumented (BoringSSL's C code brings most of them):
    # the seed corpus must also reach real coverage ("cov:" on the INITED line).
    probe=$(".build/debug/$target" -runs=0 "Corpus/${corpus[$target]}" 2>&1)
    counters=$(echo "$probe" | sed -n 's/.*(\([0-9]*\) inline 8-bit counters).*/\1/p' | head -1)
    covered=$(echo "$probe" | sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' | head -1)
    echo "== $target: coverage counters ${counters:-none}, seed corpus covers ${covered:-0}"
    if [ "${counters:-0}" -lt 10000 ] || [ "${covered:-0}" -lt 300 ]; then
        echo "the Swift modules are not instrumented for coverage (${counters:-0} counters, the seeds cover ${covered:-0}): rm -rf Fuzz/.build and run again" >&2
        exit 1
    fi
    work=$(mktemp -d)
    cp "Corpus/${corpus[$target]}"/* "$work/"
    ".build/debug/$target" "$work" -max_total_time="$seconds" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -max_len=70000 -print_final_stats=1 2>&1 | grep -E '^#[0-9]+ +(INITED|DONE)|^Done|stat::|ERROR|SUMMARY|crash-|Test unit written' || true
done
