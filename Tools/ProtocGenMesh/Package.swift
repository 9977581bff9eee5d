// swift-tools-version: 6.1
// protoc-gen-mesh: the mesh's own protoc plugin. From each service of Shared/Protos it writes the method
// descriptors, the method registry's entries and a typed client (scripts/generate-protos.sh runs it; its
// output is committed). A package of its own so the product's build never compiles the plugin library.
import PackageDescription

let package = Package(
    name: "protoc-gen-mesh",
    platforms: [.macOS(.v15)],
    dependencies: [.package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0")],
    targets: [
        .executableTarget(
            name: "protoc-gen-mesh",
            dependencies: [.product(name: "SwiftProtobufPluginLibrary", package: "swift-protobuf")])
    ]
)
