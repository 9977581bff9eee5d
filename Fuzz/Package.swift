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
    ],
    targets: [
        .executableTarget(
            name: "FrameDecoderFuzzer",
            dependencies: [
                .product(name: "MeshProtocolForFuzzing", package: product),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ]
)
