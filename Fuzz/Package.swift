// swift-tools-version: 6.1
// libFuzzer targets, kept out of the product's package: they build with -sanitize=fuzzer (scripts/fuzz.sh).
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, whatever the clone is called.
let product = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "mesh-fuzz",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
    ],
    targets: [
        .executableTarget(
            name: "FrameDecoderFuzzer",
            dependencies: [
                .product(name: "MeshProtocolForFuzzing", package: product),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "MessageDecoderFuzzer",
            // Narrow products only: with MeshForBenchmarks' whole closure linked in, the seeds reached no
            // coverage at all (the Swift code was not instrumented in the linked binary).
            dependencies: [
                .product(name: "MeshProtocolForFuzzing", package: product),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(
            name: "ProfileJSONFuzzer",
            dependencies: [
                .product(name: "MeshEngineForFuzzing", package: product),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
    ]
)
