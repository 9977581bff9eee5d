// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// SwiftPM refuses a package with unsafe flags as another package's dependency, so the one the messages use
/// is set only where the mesh's own release binaries are built (`MESH_UNCHECKED_EXCLUSIVITY=1`:
/// scripts/benchmarks.sh, the Compose images); a county system depending on `MeshClient` never sees it.
let uncheckedExclusivity = ProcessInfo.processInfo.environment["MESH_UNCHECKED_EXCLUSIVITY"] == "1"

let package = Package(
    name: "jiaxing-benefits-mesh",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mesh", targets: ["MeshCommand"]),
        // For county systems written in Swift: the typed calls of every mesh service over mutual TLS
        // (`MeshClient`, `GatewayMethods` and the messages), depended on by version.
        .library(
            name: "MeshClient",
            targets: [
                "MeshRPC", "BenefitsAPI", "MeshMessages", "MeshWire", "MeshProtocol", "MeshTransport", "MeshIdentity",
                "BenefitsDomain", "MeshTracing",
            ]),
        // For Fuzz/ only: the protocol layer as a library product it can depend on.
        .library(name: "MeshProtocolForFuzzing", targets: ["MeshProtocol", "MeshWire"]),
        // For Fuzz/ only: the engine and the catalog, without the servers (a wider closure leaves the Swift
        // code uninstrumented in the fuzzer's build).
        .library(
            name: "MeshEngineForFuzzing",
            targets: ["EligibilityEngine", "CatalogModel", "BenefitsDomain", "MeshMessages"]),
        // For Benchmarks/ only: the modules its executables measure.
        .library(
            name: "MeshForBenchmarks",
            targets: [
                "MeshMessages", "MeshWire", "MeshProtocol", "MeshTransport", "MeshRPC", "MeshPKI", "MeshIdentity",
                "BenefitsDomain", "BenefitsAPI",
                "CatalogModel", "EligibilityEngine", "EligibilityService", "GatewayService", "GatewayStore", "SQLStore",
                "Ledger", "ServiceKit", "GatewayGRPC",
            ]),
        .executable(name: "catalog", targets: ["CatalogMain"]),
        .executable(name: "eligibility", targets: ["EligibilityMain"]),
        .executable(name: "disbursement", targets: ["DisbursementMain"]),
        .executable(name: "notification", targets: ["NotificationMain"]),
        .executable(name: "gateway", targets: ["GatewayMain"]),
    ],
    traits: [
        // Off by default, so the default build stays lean: `swift build --traits OTel` builds the services with
        // swift-otel's exporter (spans over OTLP/HTTP, set by the OTEL_* variables; ServiceTracing).
        .trait(name: "OTel", description: "Export spans over OTLP/HTTP with swift-otel")
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Settings from flags, the environment and /run/secrets (its default trait, JSON, adds no package).
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        // Spans for every call, HTTP request and ledger batch; `traceparent` read and written by W3C's rules.
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
        // Built only with the OTel trait; its gRPC exporter left out (OTLP/HTTP only).
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        // The gateway's standard gRPC port.
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        // Tests only: the declarative eligibility cases are YAML.
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // Layer 1: the wire's own messages (mesh/rpc/v1: heads, trailers, health; grpc's health and
        // reflection), which the protocol, transport and RPC layers compile against. No NIO, no domain.
        .target(
            name: "MeshWire",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Shared/MeshWire",
            swiftSettings: uncheckedExclusivity ? [.unsafeFlags(["-enforce-exclusivity=unchecked"])] : []
        ),
        // The domain's messages (jiaxing/benefits/v1, and the interop test service's), defined once in
        // Shared/Protos. No NIO.
        .target(
            name: "MeshMessages",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Shared/MeshMessages",
            // Generated code only: SwiftProtobuf's messages keep large ones' fields in a class, and every access
            // to them was checked for exclusivity at run time (a payout order's first copy was 2% of a payout).
            swiftSettings: uncheckedExclusivity ? [.unsafeFlags(["-enforce-exclusivity=unchecked"])] : []
        ),
        // Layer 2: framing, state machines and the status codes. NIOCore only.
        .target(
            name: "MeshProtocol",
            dependencies: ["MeshWire", .product(name: "NIOCore", package: "swift-nio")],
            path: "Shared/MeshProtocol"
        ),
        // Layer 3: TLS connections carrying the protocol.
        .target(
            name: "MeshTransport",
            dependencies: [
                "MeshProtocol", "MeshIdentity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/MeshTransport"
        ),
        // Layer 4: typed calls, servers and clients for the services.
        .target(
            name: "MeshRPC",
            dependencies: [
                "MeshTransport", "MeshProtocol", "MeshWire", "MeshIdentity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                "MeshTracing",
            ],
            path: "Shared/MeshRPC"
        ),
        // The tracer every mesh process has without an exporter (W3C `traceparent` carried on, a trace id for
        // the logs), and which tracer the calls use.
        .target(
            name: "MeshTracing",
            dependencies: [
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
            ],
            path: "Shared/MeshTracing"
        ),
        // The development certificate authority and certificates for services and counties.
        .target(
            name: "MeshPKI",
            dependencies: [
                "MeshIdentity",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Shared/MeshPKI"
        ),
        // What a party is (PartyRole): the PKI writes it, the transport reads it, the console's accounts hold it.
        .target(name: "MeshIdentity", path: "Shared/MeshIdentity"),
        // Domain types every service shares: dates, money, credit codes. No NIO.
        .target(name: "BenefitsDomain", dependencies: ["MeshMessages"], path: "Shared/BenefitsDomain"),
        // The catalog as data: model, loading, validation, conversion to the shared messages.
        .target(
            name: "CatalogModel",
            dependencies: [
                "BenefitsDomain", "MeshMessages",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Services/Catalog/Model"
        ),
        // Method descriptors of every service, shared by servers and their clients.
        .target(
            name: "BenefitsAPI",
            dependencies: [
                "MeshProtocol",
                "MeshWire",
                "MeshRPC", "MeshIdentity", "MeshMessages", "BenefitsDomain",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Shared/BenefitsAPI"
        ),
        .target(
            name: "CatalogService",
            dependencies: [
                "ServiceKit",
                "CatalogModel", "BenefitsAPI", "BenefitsDomain", "MeshRPC", "MeshIdentity", "MeshMessages",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Catalog/Service"
        ),
        // Follows the catalog service: loads each new revision a Watch announces.
        .target(
            name: "CatalogClient",
            dependencies: [
                "CatalogModel", "BenefitsAPI", "MeshRPC", "MeshIdentity", "MeshMessages",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Catalog/Client"
        ),
        .target(
            name: "EligibilityEngine",
            dependencies: ["CatalogModel", "BenefitsDomain", "MeshMessages"],
            path: "Services/Eligibility/Engine"
        ),
        .target(
            name: "EligibilityService",
            dependencies: [
                "MeshProtocol",
                "EligibilityEngine", "CatalogModel", "BenefitsAPI", "BenefitsDomain", "MeshRPC", "MeshIdentity",
                "MeshMessages", "MeshPKI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Eligibility/Service"
        ),
        // SQLite from the system (Debian: libsqlite3-dev), and the SQL layer the ledger runs on.
        .systemLibrary(name: "CSQLite", path: "Shared/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // A SQLite VFS that can lose what was not synced: the simulated disk of the crash and power-loss tests.
        .target(name: "CSQLiteFaults", path: "Shared/CSQLiteFaults", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(
            name: "SQLStore",
            dependencies: [
                "CSQLite",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/SQLStore"
        ),
        .target(
            name: "Ledger",
            dependencies: [
                "SQLStore", "CatalogModel", "BenefitsDomain", "MeshMessages",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                "MeshTracing",
            ],
            path: "Services/Disbursement/Ledger"
        ),
        .target(
            name: "DisbursementService",
            dependencies: [
                "ServiceKit",
                .product(name: "Metrics", package: "swift-metrics"),
                "Ledger", "BenefitsAPI", "BenefitsDomain", "MeshRPC", "MeshIdentity", "MeshTransport", "MeshMessages",
                "MeshPKI", "SQLStore", .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Disbursement/Service"
        ),
        .target(
            name: "NotificationCore",
            dependencies: [
                "SQLStore", "CatalogModel", "BenefitsDomain", "MeshMessages",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Services/Notification/Core",
            exclude: []
        ),
        .target(
            name: "NotificationService",
            dependencies: [
                "ServiceKit",
                .product(name: "Metrics", package: "swift-metrics"),
                "NotificationCore", "CatalogModel", "BenefitsAPI", "MeshRPC", "MeshIdentity", "MeshMessages",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Notification/Service"
        ),
        .target(
            name: "GatewayService",
            dependencies: [
                "MeshProtocol",
                "MeshWire",
                "ServiceKit",
                "GatewayStore", "BenefitsAPI", "BenefitsDomain", "CatalogModel", "EligibilityEngine", "MeshRPC",
                "MeshIdentity", "MeshTransport", "MeshMessages", "MeshTracing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Services/Gateway/Service"
        ),
        // What the gateway keeps: the counties' enterprise register, the console's accounts and sessions.
        .target(
            name: "GatewayStore",
            dependencies: [
                "SQLStore", "BenefitsDomain", "MeshMessages", "MeshIdentity",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Services/Gateway/Store"
        ),
        // The web console for department officers, county staff and the operator: server-rendered Chinese HTML.
        .target(
            name: "GatewayConsole",
            dependencies: [
                "GatewayStore", "GatewayService", "GatewayHTTP", "BenefitsAPI", "BenefitsDomain", "CatalogModel",
                "MeshRPC",
                "MeshIdentity", "MeshTransport", "MeshMessages",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/Gateway/Console"
        ),
        .target(
            name: "GatewayHTTP",
            dependencies: [
                "MeshTracing", .product(name: "Tracing", package: "swift-distributed-tracing"),
                "MeshProtocol",
                "BenefitsAPI", "BenefitsDomain", "MeshRPC", "MeshIdentity", "MeshTransport", "MeshMessages",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/Gateway/HTTP",
            exclude: ["openapi.json"]
        ),
        // The gateway's standard gRPC face: every method of the gateway's mesh server, served in process.
        .target(
            name: "GatewayGRPC",
            dependencies: [
                "MeshWire",
                "MeshRPC", "MeshTransport", "MeshMessages", "MeshProtocol", "BenefitsAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Gateway/GRPC"
        ),
        // What every service executable shares: flags, TLS files, the service group.
        .target(
            name: "ServiceKit",
            dependencies: [
                "MeshRPC", "MeshIdentity", "MeshTransport", "SQLStore", "MeshTracing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "OTel", package: "swift-otel", condition: .when(traits: ["OTel"])),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Services/ServiceKit"
        ),
        .executableTarget(
            name: "CatalogMain",
            dependencies: [
                "ServiceKit", "MeshRPC", "MeshIdentity", "CatalogModel", "CatalogService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], path: "Services/Catalog/Main"),
        .executableTarget(
            name: "EligibilityMain",
            dependencies: [
                "ServiceKit", "MeshRPC", "MeshIdentity", "MeshPKI", "EligibilityService", "CatalogClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], path: "Services/Eligibility/Main"),
        .executableTarget(
            name: "DisbursementMain",
            dependencies: [
                "ServiceKit", "MeshRPC", "MeshIdentity", "MeshPKI", "DisbursementService", "Ledger", "SQLStore",
                "CatalogClient", "CatalogModel",
                "MeshMessages", "BenefitsDomain", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], path: "Services/Disbursement/Main"),
        .executableTarget(
            name: "NotificationMain",
            dependencies: [
                "ServiceKit", "MeshRPC", "MeshIdentity", "NotificationService", "NotificationCore", "CatalogClient",
                "CatalogModel",
                "SQLStore", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], path: "Services/Notification/Main"),
        .executableTarget(
            name: "GatewayMain",
            dependencies: [
                "ServiceKit", "MeshRPC", "MeshIdentity", "MeshTransport", "GatewayService", "GatewayHTTP",
                "GatewayStore", "GatewayConsole", "GatewayGRPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], path: "Services/Gateway/Main"),
        .executableTarget(
            name: "MeshCommand",
            dependencies: [
                "MeshProtocol",
                "MeshWire",
                "MeshPKI", "MeshRPC", "MeshMessages", "MeshTransport", "ServiceKit", "BenefitsAPI", "BenefitsDomain",
                "NotificationCore", "CatalogModel", "GatewayStore", "MeshIdentity", "MeshHarness", "MeshSimulation",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Services/Mesh/Command"
        ),
        // The money path under faults drawn from a seed, in one process: the ledger, its group commit and its
        // outbox on a simulated disk that loses what was not synced, called through the gateway's balancer over
        // a simulated network (`mesh simulate` and the tests).
        .target(
            name: "MeshSimulation",
            dependencies: [
                "Ledger", "NotificationCore", "SQLStore", "CSQLiteFaults", "CatalogModel", "BenefitsDomain",
                "MeshMessages", "MeshRPC", "MeshProtocol", "DisbursementService",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Services/Mesh/Simulation"
        ),
        // What starts and watches a mesh on one machine, shared by `mesh` and the tests: the topology and the
        // command line of each replica, the processes, their health, and an HTTPS receiver playing the counties'
        // webhook endpoints.
        .target(
            name: "MeshHarness",
            dependencies: [
                "MeshIdentity", "MeshRPC", "MeshTransport", "MeshWire", "ServiceKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Services/Mesh/Harness"
        ),
        .testTarget(
            name: "MeshProtocolTests",
            dependencies: [
                "MeshWire",
                "MeshProtocol", "MeshMessages",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            path: "Tests/MeshProtocolTests"
        ),
        .target(
            name: "MeshTestSupport",
            dependencies: [
                "MeshProtocol",
                "MeshWire",
                "MeshRPC", "MeshPKI", "MeshTransport", "MeshIdentity", "MeshMessages", "SQLStore", "MeshHarness",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/MeshTestSupport"
        ),
        .testTarget(
            name: "CatalogTests",
            dependencies: [
                "CatalogModel", "CatalogService", "BenefitsAPI", "BenefitsDomain", "MeshRPC", "MeshIdentity",
                "MeshMessages",
                "MeshTestSupport",
            ],
            path: "Tests/CatalogTests"
        ),
        .testTarget(
            name: "EligibilityTests",
            dependencies: [
                "EligibilityEngine", "EligibilityService", "CatalogClient", "CatalogModel", "CatalogService",
                "BenefitsAPI", "BenefitsDomain",
                "MeshRPC", "MeshIdentity", "MeshMessages", "MeshTestSupport", "MeshPKI", "MeshTransport",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/EligibilityTests",
            exclude: ["Cases"]
        ),
        .testTarget(
            name: "DisbursementTests",
            dependencies: [
                "Ledger", "SQLStore", "CatalogModel", "BenefitsDomain", "MeshMessages", "MeshTestSupport",
                "DisbursementService", "BenefitsAPI", "MeshRPC", "MeshIdentity", "MeshPKI", "MeshSimulation",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/DisbursementTests"
        ),
        .testTarget(
            name: "SQLStoreTests",
            dependencies: [
                "SQLStore", "MeshTestSupport", "MeshSimulation", "MeshTransport",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/SQLStoreTests"
        ),
        .testTarget(
            name: "SimulationTests",
            dependencies: [
                "MeshSimulation", "MeshTestSupport", "CatalogModel", "NotificationCore", "Ledger",
                "DisbursementService",
            ],
            path: "Tests/SimulationTests"
        ),
        .testTarget(
            name: "BenefitsDomainTests",
            dependencies: ["BenefitsDomain", "MeshTestSupport"],
            path: "Tests/BenefitsDomainTests"
        ),
        .testTarget(
            name: "HarnessTests",
            dependencies: ["BenefitsDomain", "MeshTestSupport", "ServiceKit", "MeshHarness", "MeshIdentity"],
            path: "Tests/HarnessTests"
        ),
        .testTarget(
            name: "ServiceKitTests",
            dependencies: [
                "MeshTracing", .product(name: "Tracing", package: "swift-distributed-tracing"),
                "MeshWire",
                "ServiceKit", "MeshRPC", "MeshIdentity", "MeshMessages", "MeshTestSupport", "MeshPKI", "SQLStore",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ServiceKitTests"
        ),
        .testTarget(
            name: "NotificationTests",
            dependencies: [
                "NotificationCore", "NotificationService", "Ledger", "DisbursementService", "SQLStore", "CatalogModel",
                "BenefitsAPI", "BenefitsDomain", "MeshRPC", "MeshIdentity", "MeshMessages", "MeshTestSupport",
                "MeshPKI", "MeshHarness",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/NotificationTests"
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "MeshWire",
                "GatewayHTTP", "GatewayStore", "GatewayConsole", "GatewayGRPC",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                "MeshTransport", "MeshProtocol",
                "GatewayService", "CatalogService", "CatalogModel", "EligibilityService", "EligibilityEngine",
                "DisbursementService",
                "Ledger", "NotificationService", "NotificationCore", "SQLStore", "BenefitsAPI", "BenefitsDomain",
                "MeshRPC", "MeshIdentity",
                "MeshMessages", "MeshPKI", "MeshTestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/GatewayTests"
        ),
        .testTarget(
            name: "MeshTracingTests",
            dependencies: ["MeshTracing", .product(name: "Tracing", package: "swift-distributed-tracing")],
            path: "Tests/MeshTracingTests"
        ),
        .testTarget(
            name: "MeshRPCTests",
            dependencies: [
                "MeshTracing",
                "MeshWire",
                "MeshTestSupport", "MeshRPC", "MeshIdentity", "MeshPKI", "MeshMessages", "MeshProtocol",
                "MeshTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/MeshRPCTests"
        ),
    ]
)
