#!/usr/bin/env bash
# Regenerates the Swift code for every .proto under Shared/Protos into Shared/MeshMessages/Generated.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift built from swift-protobuf 1.39.0:
#   PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift scripts/generate-protos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
if [ -z "$plugin" ]; then
  tmp=.build-protoc-gen-swift
  if [ ! -x "$tmp/release/protoc-gen-swift" ]; then
    rm -rf "$tmp-src" && git clone -q --branch 1.39.0 https://github.com/apple/swift-protobuf "$tmp-src"
    swift build -c release --package-path "$tmp-src" --scratch-path "$tmp" --product protoc-gen-swift
  fi
  plugin="$tmp/release/protoc-gen-swift"
fi
out=Shared/MeshMessages/Generated
rm -rf "$out" && mkdir -p "$out"
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
  --swift_out="$out" -I Shared/Protos $(cd Shared/Protos && find . -name '*.proto' | sort | sed 's|^\./||')
echo "generated $(ls "$out" | wc -l) files in $out"
