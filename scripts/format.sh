#!/usr/bin/env bash
# The project's one Swift format (.swift-format: 4 spaces, 120 columns) over every tracked Swift file but the
# generated messages, OpenAPI document and descriptor set. `scripts/format.sh` rewrites the files; `scripts/format.sh --lint`
# changes nothing and fails on the first file that is not formatted (`swift format lint --strict`), as CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.swift' | grep -v -e '^Shared/MeshMessages/Generated/' -e '^Shared/MeshWire/Generated/' -e '^Shared/BenefitsAPI/Generated/' -e '^Services/Gateway/HTTP/OpenAPIDocument.swift$' -e '^Shared/BenefitsAPI/ProtoDescriptorSet.swift$')
if [ "${1:-}" = "--lint" ]; then
    swift format lint --strict --parallel "${files[@]}"
    echo "swift format: ${#files[@]} files formatted"
else
    swift format format --in-place --parallel "${files[@]}"
fi
