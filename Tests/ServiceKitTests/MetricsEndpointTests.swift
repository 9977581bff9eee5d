import Foundation
import MeshMessages
import MeshRPC
import MeshTestSupport
import NIOConcurrencyHelpers
import ServiceKit
import ServiceLifecycle
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The HTTP side door of every service: Prometheus metrics from real calls, liveness and readiness.
@Suite("Metrics endpoint")
struct MetricsEndpointTests {
    static let echo = MethodDescriptor(service: "test.Metrics", method: "Echo")

    static func get(_ port: Int, _ path: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// The upper bounds of a method's latency buckets in a scrape.
    static func bucketBounds(_ text: String, method: String) -> [Double] {
        let prefix = #"mesh_rpc_server_call_duration_seconds_bucket{method=""# + method + #"",le=""#
        return text.split(separator: "\n").map(String.init).compactMap { line in
            guard line.hasPrefix(prefix) else { return nil }
            return Double(String(line.dropFirst(prefix.count).prefix { $0 != "\"" }))
        }
    }

    /// A metric without labels in a scrape.
    static func value(_ text: String, _ name: String) -> Double? {
        text.split(separator: "\n").map(String.init).first { $0.hasPrefix(name + " ") }
            .flatMap { Double($0.split(separator: " ").last.map(String.init) ?? "") }
    }

    @Test("calls are counted by method and status with their latency; /live, /ready and an unknown path")
    func scrape() async throws {
        var router = RPCRouter()
        router.unary(Self.echo) { (request: Mesh_Testing_V1_SimpleRequest, _) -> Mesh_Testing_V1_SimpleResponse in
            if request.responseSize < 0 { throw RPCError(.invalidArgument, "response_size: not negative") }
            return Mesh_Testing_V1_SimpleResponse()
        }
        let ready = NIOLockedValueBox(false)
        let endpoint = MetricsEndpoint(
            host: "127.0.0.1", port: 0, registry: ServiceMetrics.registry, isReady: { ready.withLockedValue { $0 } },
            logger: TestMesh.logger)
        let group = ServiceGroup(
            services: [endpoint], gracefulShutdownSignals: [], cancellationSignals: [], logger: TestMesh.logger)
        let running = Task { try await group.run() }
        defer {
            Task {
                await group.triggerGracefulShutdown()
                _ = try? await running.value
            }
        }
        let port = try await endpoint.boundPort()

        try await TestMesh.withServer(router: router) { _, meshPort in
            let client = TestMesh.client(port: meshPort)
            defer { Task { await client.close() } }
            for _ in 0..<3 {
                let _: Mesh_Testing_V1_SimpleResponse = try await client.unary(
                    Self.echo, Mesh_Testing_V1_SimpleRequest())
            }
            var bad = Mesh_Testing_V1_SimpleRequest()
            bad.responseSize = -1
            _ = try? await client.unary(Self.echo, bad) as Mesh_Testing_V1_SimpleResponse

            let (status, text) = try await Self.get(port, "/metrics")
            #expect(status == 200)
            let lines = text.split(separator: "\n").map(String.init)
            #expect(
                lines.contains {
                    $0.hasPrefix("mesh_rpc_server_calls_total{") && $0.contains(#"method="test.Metrics/Echo""#)
                        && $0.contains(#"code="ok""#) && $0.hasSuffix(" 3")
                })
            #expect(
                lines.contains {
                    $0.hasPrefix("mesh_rpc_server_calls_total{") && $0.contains(#"code="invalidArgument""#)
                        && $0.hasSuffix(" 1")
                })
            #expect(
                lines.contains {
                    $0.hasPrefix("mesh_rpc_server_call_duration_seconds_count{")
                        && $0.contains(#"method="test.Metrics/Echo""#)
                })
            #expect(lines.contains { $0.hasPrefix("mesh_rpc_server_open_connections{") })
            // Latency buckets from 50 µs to 5 s: a loopback call lands in the first few, not all in one.
            let bounds = Self.bucketBounds(text, method: "test.Metrics/Echo")
            #expect(bounds.min() == 0.00005, "\(bounds)")
            #expect(bounds.contains(5.0))
            // The process's own figures, read at the scrape.
            #expect((Self.value(text, "process_resident_memory_bytes") ?? 0) > 1_000_000)
            #expect((Self.value(text, "process_open_fds") ?? 0) > 2)
            #expect((Self.value(text, "process_max_fds") ?? 0) >= (Self.value(text, "process_open_fds") ?? .infinity))
            #expect((Self.value(text, "process_cpu_seconds_total") ?? 0) > 0)
            #expect((Self.value(text, "process_start_time_seconds") ?? 0) > 1_700_000_000)
        }
        #expect(try await Self.get(port, "/live").0 == 200)
        #expect(try await Self.get(port, "/ready").0 == 503)
        ready.withLockedValue { $0 = true }
        #expect(try await Self.get(port, "/ready").0 == 200)
        let missing = try await Self.get(port, "/nowhere")
        #expect(missing.0 == 404)
        #expect(missing.1.contains("/metrics"))
    }

    /// Runs a metrics endpoint that is always ready on a free port for the duration of `body`.
    static func withEndpoint<Result>(_ body: (Int) async throws -> Result) async throws -> Result {
        let endpoint = MetricsEndpoint(
            host: "127.0.0.1", port: 0, registry: ServiceMetrics.registry, isReady: { true }, logger: TestMesh.logger)
        let group = ServiceGroup(
            services: [endpoint], gracefulShutdownSignals: [], cancellationSignals: [], logger: TestMesh.logger)
        let running = Task { try await group.run() }
        defer {
            Task {
                await group.triggerGracefulShutdown()
                _ = try? await running.value
            }
        }
        return try await body(try await endpoint.boundPort())
    }

    @Test("2,000 calls to made-up methods count under one label; the scrape does not grow with them")
    func unknownMethodsAreOneLabel() async throws {
        try await Self.withEndpoint { port in
            try await TestMesh.withServer(router: RPCRouter()) { _, meshPort in
                let client = TestMesh.client(port: meshPort)
                defer { Task { await client.close() } }
                func call(_ index: Int) async {
                    let method = MethodDescriptor(service: "made.up.Service\(index)", method: "Method\(index)")
                    _ =
                        try? await client.unary(method, Mesh_Testing_V1_SimpleRequest())
                        as Mesh_Testing_V1_SimpleResponse
                }
                for index in 0..<10 { await call(index) }
                let before = try await Self.get(port, "/metrics").1
                for index in 10..<2_000 { await call(index) }
                let after = try await Self.get(port, "/metrics").1
                #expect(!after.contains("made.up.Service"))
                #expect(
                    after.split(separator: "\n").contains {
                        $0.hasPrefix("mesh_rpc_server_calls_total{") && $0.contains(#"method="unknown""#)
                            && $0.contains(#"code="unimplemented""#)
                    })
                // One series for all of them, before and after (other suites share the registry, so only these lines
                // are counted).
                func unknownSeries(_ text: String) -> Int {
                    text.split(separator: "\n").count {
                        $0.hasPrefix("mesh_rpc_server_calls_total{") && $0.contains(#"method="unknown""#)
                    }
                }
                #expect(unknownSeries(before) == 1)
                #expect(unknownSeries(after) == 1)
            }
        }
    }

    @Test("a metrics port that is taken: run throws naming the port, and whoever waits for the port hears it")
    func portTaken() async throws {
        try await Self.withEndpoint { taken in
            let second = MetricsEndpoint(
                host: "127.0.0.1", port: taken, registry: ServiceMetrics.registry, isReady: { true },
                logger: TestMesh.logger)
            let error = await #expect(throws: MetricsEndpointError.self) { try await second.run() }
            #expect(error?.message.contains("--metrics-port \(taken)") == true, "\(error?.message ?? "")")
            await #expect(throws: MetricsEndpointError.self) { _ = try await second.boundPort() }
        }
    }
}
