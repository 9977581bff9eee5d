#!/usr/bin/env bash
# A Swift county system depends on the mesh's `MeshClient` library by version, as from a package registry or
# a tagged Git repository: a throwaway package names this checkout (tagged in a temporary clone) with
# `from:`, builds, and screens an enterprise on a running mesh's gateway with a county's certificate.
#   scripts/check-client-library.sh CERTIFICATES_DIR [GATEWAY_PORT]      (CI runs it after `mesh up`)
set -euo pipefail
cd "$(dirname "$0")/.."
certificates="$(cd "$1" && pwd)"
port="${2:-7400}"
work=$(mktemp -d /tmp/mesh-client-consumer.XXXXXX)
trap 'rm -rf "$work"' EXIT
git clone -q "$PWD" "$work/mesh"
git -C "$work/mesh" tag 1.0.0
mkdir -p "$work/county/Sources/CountySystem"
cat > "$work/county/Package.swift" <<MANIFEST
// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "county-system",
    platforms: [.macOS(.v15)],
    dependencies: [.package(url: "file://$work/mesh", from: "1.0.0")],
    targets: [
        .executableTarget(
            name: "CountySystem",
            dependencies: [.product(name: "MeshClient", package: "mesh")])
    ]
)
MANIFEST
cat > "$work/county/Sources/CountySystem/main.swift" <<'SOURCE'
import BenefitsAPI
import Foundation
import MeshMessages
import MeshRPC
import MeshTransport

let certificates = CommandLine.arguments[1]
let port = Int(CommandLine.arguments[2])!
func read(_ name: String) throws -> String { try String(contentsOfFile: "\(certificates)/\(name)", encoding: .utf8) }
let client = MeshClient(
    configuration: .init(
        port: port,
        tls: MeshTLSConfiguration(
            certificateChainPEM: try read("nanhu.pem"), privateKeyPEM: try read("nanhu-key.pem"),
            trustRootsPEM: try read("ca.pem"), serverHostname: "gateway")))
var request = Jiaxing_Benefits_V1_ScreenRequest()
request.asOf.year = 2023
request.asOf.month = 9
request.asOf.day = 1
request.profile.creditCode = "91330402MA2JX00017"
request.profile.name = "嘉兴绿能纺织有限公司"
request.profile.county = .nanhu
var recognition = Jiaxing_Benefits_V1_RecognitionRecord()
recognition.recognition = "greenFactory"
recognition.level = "national"
recognition.recognizedOn.year = 2023
recognition.recognizedOn.month = 3
recognition.recognizedOn.day = 15
request.profile.recognitions = [recognition]
// The typed client protoc-gen-mesh writes from gateway.proto.
let result = try await client.closing { try await GatewayClient(client).screen(request) }
print("county system (MeshClient 1.0.0): Screen → \(result.totalEligibleFen) fen")
guard result.totalEligibleFen == 150_000_000 else { exit(1) }
SOURCE
(cd "$work/county" && swift build 2>&1 | tail -3)
"$work/county/.build/debug/CountySystem" "$certificates" "$port"
