import BenefitsAPI
import BenefitsDomain
import CatalogModel
import EligibilityEngine
import EligibilityService
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GatewayGRPC
import GatewayService
import GatewayStore
import Logging
import MeshIdentity
import MeshMessages
import MeshPKI
import MeshRPC
import MeshTransport
import NIOConcurrencyHelpers
import SQLStore
import ServiceLifecycle
import SwiftProtobuf

/// A single screening over the mesh, directly against eligibility and through the gateway, in one process
/// over mutual TLS on loopback: latency percentiles one call at a time, and throughput with 64 callers on one
/// and on two eligibility replicas; and the same screening through the gateway's standard gRPC face
/// (grpc-swift-2's client, contenders grpc-x1 and grpc-x64) beside the native face. The servers run their
/// calls where the product's do, on their connections' event loops, unless `--call-execution pool` says
/// otherwise. Prints one JSON object per row.
///
///     GatewayBenchmark [--seconds 5] [--catalog Services/Catalog/Data] [--call-execution event-loop|pool]
@main
struct GatewayBenchmark {
    static func main() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        func option(_ name: String) -> String? {
            guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
            defer { arguments.removeSubrange(index...(index + 1)) }
            return arguments[index + 1]
        }
        let seconds = Double(option("--seconds") ?? "5")!
        let execution = MeshServer.CallExecution(rawValue: option("--call-execution") ?? "event-loop")!
        let catalog = try CatalogLoader.load(directory: option("--catalog") ?? "Services/Catalog/Data")
        var logger = Logger(label: "gateway-benchmark")
        logger.logLevel = .critical

        let authority = try CertificateAuthority.create()
        func credentials(_ name: String, _ role: PartyRole, serverHostname: String?) throws -> MeshTLSConfiguration {
            let issued = try authority.issue(commonName: name, role: role, dnsNames: [name, "localhost"])
            return MeshTLSConfiguration(
                certificateChainPEM: issued.certificatePEM, privateKeyPEM: issued.privateKeyPEM,
                trustRootsPEM: authority.certificatePEM, serverHostname: serverHostname)
        }

        var eligibilityRouter = RPCRouter()
        let signing = try credentials("eligibility", .service, serverHostname: nil)
        EligibilityHandlers(
            holder: EngineHolder(engine: EligibilityEngine(catalog: catalog)),
            sealer: DecisionSealer(
                signer: try StatementSigner(
                    certificatePEM: signing.certificateChainPEM, privateKeyPEM: signing.privateKeyPEM))
        ).register(into: &eligibilityRouter)
        let eligibility = [
            MeshServer(
                configuration: .init(
                    port: 0, tls: try credentials("eligibility", .service, serverHostname: nil),
                    serverName: "eligibility", callExecution: execution), router: eligibilityRouter,
                interceptors: [DelegationInterceptor()],
                logger: logger),
            MeshServer(
                configuration: .init(
                    port: 0, tls: try credentials("eligibility", .service, serverHostname: nil),
                    serverName: "eligibility", callExecution: execution), router: eligibilityRouter,
                interceptors: [DelegationInterceptor()],
                logger: logger),
        ]
        let group = ServiceGroup(
            services: eligibility, gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        let running = Task { try await group.run() }
        var endpoints: [(host: String, port: Int)] = []
        for server in eligibility { endpoints.append(("127.0.0.1", try await server.boundPort())) }

        let gatewayTLS = try credentials("gateway", .service, serverHostname: "eligibility")
        func gateway(replicas: Int) async throws -> (MeshServer, ServiceGroup, Task<Void, any Error>, Int) {
            let pool = ReplicaPool(
                service: "eligibility", endpoints: Array(endpoints.prefix(replicas)), tls: gatewayTLS, logger: logger)
            let unused = ReplicaPool(service: "unused", endpoints: [endpoints[0]], tls: gatewayTLS, logger: logger)
            var router = RPCRouter()
            let audit = try AuditLog(
                path: FileManager.default.temporaryDirectory.appendingPathComponent(
                    "gateway-benchmark-\(UUID().uuidString).log"
                ).path)
            GatewayHandlers(
                services: .init(catalog: unused, eligibility: pool, disbursement: unused, notification: unused),
                audit: audit, limiter: CountyRateLimiter(rate: 1e9, burst: 1e9),
                store: try await GatewayStore.open(SQLiteDatabase(path: audit.path + ".sqlite"))
            ).register(into: &router)
            let server = MeshServer(
                configuration: .init(
                    port: 0, tls: try credentials("gateway", .service, serverHostname: nil), serverName: "gateway",
                    callExecution: execution),
                router: router, interceptors: [DelegationInterceptor()], logger: logger)
            let group = ServiceGroup(
                services: [server], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
            let task = Task { try await group.run() }
            return (server, group, task, try await server.boundPort())
        }

        var request = Jiaxing_Benefits_V1_ScreenRequest()
        request.asOf = CalendarDate("2023-09-01")!.message
        request.profile.creditCode = CreditCode.completing("91330402MA2B00001")!.value
        request.profile.name = "嘉兴示例制造有限公司"
        request.profile.county = .nanhu
        var record = Jiaxing_Benefits_V1_RecognitionRecord()
        record.recognition = "greenFactory"
        record.level = "national"
        record.recognizedOn = CalendarDate("2023-07-01")!.message
        request.profile.recognitions = [record]
        let screen = request

        // Directly: a service calling eligibility (as the gateway does).
        let direct = MeshClient(
            configuration: .init(
                port: endpoints[0].port, tls: try credentials("bench-direct", .service, serverHostname: "eligibility")),
            logger: logger)
        let directMethod = EligibilityMethods.screen
        try await Self.row("screening direct", contender: "x1", seconds: seconds, callers: 1) {
            let _: Jiaxing_Benefits_V1_ScreeningResult = try await direct.unary(directMethod, screen)
        }
        // Through the gateway, with one eligibility replica and then two.
        for replicas in [1, 2] {
            let (server, gatewayGroup, gatewayTask, port) = try await gateway(replicas: replicas)
            let county = MeshClient(
                configuration: .init(port: port, tls: try credentials("nanhu", .county, serverHostname: "gateway")),
                logger: logger)
            if replicas == 1 {
                try await Self.row("screening via gateway", contender: "x1", seconds: seconds, callers: 1) {
                    let _: Jiaxing_Benefits_V1_ScreeningResult = try await county.unary(GatewayMethods.screen, screen)
                }
                try await Self.viaGRPCFace(
                    server, serverTLS: try credentials("gateway", .service, serverHostname: nil),
                    countyTLS: try credentials("nanhu", .county, serverHostname: "gateway"), screen: screen,
                    seconds: seconds, logger: logger)
            }
            try await Self.row(
                "screening via gateway, \(replicas) replica\(replicas == 1 ? "" : "s")", contender: "x64",
                seconds: seconds, callers: 64
            ) {
                let _: Jiaxing_Benefits_V1_ScreeningResult = try await county.unary(GatewayMethods.screen, screen)
            }
            await county.close()
            await gatewayGroup.triggerGracefulShutdown()
            _ = try? await gatewayTask.value
        }
        try await Self.row("screening direct", contender: "x64", seconds: seconds, callers: 64) {
            let _: Jiaxing_Benefits_V1_ScreeningResult = try await direct.unary(directMethod, screen)
        }
        await direct.close()
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }

    /// Screening through the gateway's gRPC face in front of `server`, one call at a time and with 64 callers on
    /// one HTTP/2 connection, with grpc-swift-2's client and a county's certificate.
    static func viaGRPCFace(
        _ server: MeshServer, serverTLS: MeshTLSConfiguration, countyTLS county: MeshTLSConfiguration,
        screen: Jiaxing_Benefits_V1_ScreenRequest, seconds: Double, logger: Logger
    ) async throws {
        let face = try GRPCFace(
            configuration: .init(host: "127.0.0.1", port: 0, tls: serverTLS),
            mesh: server, logger: logger)
        let group = ServiceGroup(services: [face], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try await face.boundPort()
            func pem(_ text: String) -> TLSConfig.CertificateSource { .bytes(Array(text.utf8), format: .pem) }
            var config = HTTP2ClientTransport.Posix.Config.defaults
            config.http2.authority = "localhost"
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: port),
                transportSecurity: .mTLS(
                    certificateChain: [pem(county.certificateChainPEM)],
                    privateKey: .bytes(Array(county.privateKeyPEM.utf8), format: .pem)
                ) { tls in tls.trustRoots = .certificates([pem(county.trustRootsPEM)]) },
                config: config)
            try await withGRPCClient(transport: transport) { client in
                let method = GRPCCore.MethodDescriptor(
                    fullyQualifiedService: GatewayMethods.service, method: GatewayMethods.screen.method)
                let call: @Sendable () async throws -> Void = {
                    _ = try await client.unary(
                        request: ClientRequest(message: screen), descriptor: method,
                        serializer: ProtoCoding<Jiaxing_Benefits_V1_ScreenRequest>(),
                        deserializer: ProtoCoding<Jiaxing_Benefits_V1_ScreeningResult>(),
                        options: GRPCCore.CallOptions.defaults
                    ) { try $0.message }
                }
                try await Self.row("screening via gateway", contender: "grpc-x1", seconds: seconds, callers: 1, call)
                try await Self.row(
                    "screening via gateway, 1 replica", contender: "grpc-x64", seconds: seconds, callers: 64, call)
            }
            await group.triggerGracefulShutdown()
            try await tasks.next()
            tasks.cancelAll()
        }
    }

    /// Calls `call` from `callers` concurrent tasks for `seconds` after a warm-up; prints calls/s and
    /// latency percentiles in microseconds.
    static func row(
        _ row: String, contender: String, seconds: Double, callers: Int,
        _ call: @escaping @Sendable () async throws -> Void
    ) async throws {
        for _ in 0..<200 { try await call() }
        let allocationsBefore = AllocationCounter.count()
        let latencies = NIOLockedValueBox<[Int64]>([])
        let failures = NIOLockedValueBox(0)
        let start = ContinuousClock.now
        let end = start + .milliseconds(Int64(seconds * 1000))
        await withDiscardingTaskGroup { group in
            for _ in 0..<callers {
                group.addTask {
                    var mine: [Int64] = []
                    while ContinuousClock.now < end {
                        let began = ContinuousClock.now
                        do { try await call() } catch { failures.withLockedValue { $0 += 1 } }
                        let took = ContinuousClock.now - began
                        mine.append(
                            took.components.seconds * 1_000_000 + took.components.attoseconds / 1_000_000_000_000)
                    }
                    latencies.withLockedValue { $0 += mine }
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        let allocationsAfter = AllocationCounter.count()
        let sorted = latencies.withLockedValue { $0 }.sorted()
        // The whole process's heap allocations (client, gateway and eligibility share it) per call.
        let perCall = allocationsBefore.flatMap { before in
            allocationsAfter.map { Double($0 - before) / Double(max(1, sorted.count)) }
        }
        func percentile(_ p: Double) -> Int64 {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
        let perSecond =
            Double(sorted.count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        print(
            #"{"row":"\#(row)","contender":"\#(contender)","callsPerSecond":\#(Int(perSecond)),"p50us":\#(percentile(0.5)),"p99us":\#(percentile(0.99)),"p999us":\#(percentile(0.999)),"failures":\#(failures.withLockedValue { $0 }),"allocationsPerCall":\#(perCall.map { String(format: "%.0f", $0) } ?? "null")}"#
        )
    }
}

/// SwiftProtobuf messages as gRPC's coding, as a client generated by grpc-swift-protobuf would do.
struct ProtoCoding<Message: SwiftProtobuf.Message & Sendable>: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: Message) throws -> Bytes {
        Bytes(try message.serializedBytes() as [UInt8])
    }

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Message {
        try serializedMessageBytes.withUnsafeBytes { try Message(serializedBytes: Array($0)) }
    }
}
