import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// Serves what operators scrape, over plain HTTP on its own port (kept off the mesh port, which speaks only
/// the mesh protocol over mutual TLS): `GET /metrics` (Prometheus text), `GET /live` (200 while the process
/// answers) and `GET /ready` (200 when the server is serving, 503 while it loads or drains).
public struct MetricsEndpoint: Service {
    let host: String
    let port: Int
    let registry: PrometheusCollectorRegistry
    let isReady: @Sendable () -> Bool
    let logger: Logger
    let bound: EventLoopPromise<Int>
    let process: ProcessMetrics

    public init(
        host: String, port: Int, registry: PrometheusCollectorRegistry, isReady: @escaping @Sendable () -> Bool,
        logger: Logger
    ) {
        self.host = host
        self.port = port
        self.registry = registry
        self.isReady = isReady
        self.logger = logger
        self.bound = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Int.self)
        self.process = ProcessMetrics.of(registry)
    }

    /// The port it listens on, once it does.
    public func boundPort() async throws -> Int { try await self.bound.futureResult.get() }

    public func run() async throws {
        let channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: self.host, port: self.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            // A port that is taken ends the service (and with it the process) with an error that names it;
            // whoever waits for the port hears of it too.
            let failure = MetricsEndpointError(
                message: "--metrics-port \(self.port) on \(self.host): cannot listen: \(error)")
            self.bound.fail(failure)
            self.logger.error("metrics endpoint cannot start", metadata: ["error": "\(failure)"])
            throw failure
        }
        self.bound.succeed(channel.channel.localAddress?.port ?? self.port)
        self.logger.info(
            "metrics and health over HTTP", metadata: ["port": "\(channel.channel.localAddress?.port ?? self.port)"])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask {
                            do { try await self.serve(connection) } catch {
                                self.logger.debug("metrics connection ended", metadata: ["error": "\(error)"])
                            }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            channel.channel.close(promise: nil)
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let request): head = request
                case .body: continue
                case .end:
                    guard let request = head else { return }
                    let (status, contentType, body) = self.answer(request)
                    var response = HTTPResponseHead(version: request.version, status: status)
                    response.headers.add(name: "Content-Type", value: contentType)
                    response.headers.add(name: "Content-Length", value: "\(body.count)")
                    try await outbound.write(.head(response))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                    try await outbound.write(.end(nil))
                    if !request.isKeepAlive { return }
                }
            }
        }
    }

    func answer(_ request: HTTPRequestHead) -> (HTTPResponseStatus, String, [UInt8]) {
        guard request.method == .GET else { return (.methodNotAllowed, "text/plain", Array("GET only\n".utf8)) }
        switch request.uri.split(separator: "?").first.map(String.init) ?? "" {
        case "/metrics":
            self.process.update()
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", self.registry.emitToBuffer())
        case "/live":
            return (.ok, "text/plain", Array("live\n".utf8))
        case "/ready":
            return self.isReady()
                ? (.ok, "text/plain", Array("ready\n".utf8))
                : (.serviceUnavailable, "text/plain", Array("not ready\n".utf8))
        default:
            return (.notFound, "text/plain", Array("not found: /metrics, /live and /ready are served here\n".utf8))
        }
    }
}

/// The process's metrics registry: swift-metrics is bootstrapped once, into Prometheus.
public enum ServiceMetrics {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.durationBuckets
        factory.nameAndLabelSanitizer = { name, labels in
            (Self.prometheusName(name), labels.map { (Self.prometheusName($0.0), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// A name Prometheus takes (`[a-zA-Z_][a-zA-Z0-9_]*`): libraries name their metrics and labels in
    /// OpenTelemetry's dotted style (Hummingbird's `http.server.request.duration`, `http.route`), which a
    /// scraper refuses. Every other character becomes `_`.
    public static func prometheusName(_ name: String) -> String {
        var result = String(
            name.unicodeScalars.map { scalar -> Character in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_")
                    ? Character(scalar) : "_"
            })
        if result.first?.isNumber ?? true { result = "_" + result }
        return result
    }

    /// The buckets of every latency histogram: from 50 µs (a call within one process, a cached read) to 5 s
    /// (a slow batch). swift-prometheus' defaults begin at 5 ms, under which nearly every mesh call fell.
    public static let durationBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
    ]
}

/// The metrics endpoint could not start.
public struct MetricsEndpointError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { self.message }
}
