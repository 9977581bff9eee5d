import Logging
import MeshProtocol
import MeshTracing
import MeshTransport
import MeshWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import Tracing

/// A mesh RPC server: listens over mutual TLS, routes calls to handlers, enforces deadlines, and drains
/// gracefully when its service group shuts down.
public final class MeshServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port; `boundPort()` tells which.
        public var port: Int
        public var tls: MeshTLSConfiguration
        public var transport: MeshTransportConfiguration
        /// How long calls in flight may run after a graceful shutdown begins before connections are closed.
        public var drainGracePeriod: Duration
        /// Name and version reported by the health service, e.g. "catalog 0.1.0".
        public var serverName: String
        /// Where the handlers run.
        public var callExecution: CallExecution

        public init(
            host: String = "127.0.0.1",
            port: Int,
            tls: MeshTLSConfiguration,
            transport: MeshTransportConfiguration = .init(),
            drainGracePeriod: Duration = .seconds(10),
            serverName: String = "mesh",
            callExecution: CallExecution = .cooperativePool
        ) {
            self.host = host
            self.port = port
            self.tls = tls
            self.transport = transport
            self.drainGracePeriod = drainGracePeriod
            self.serverName = serverName
            self.callExecution = callExecution
        }
    }

    /// Where a server's handlers run.
    public enum CallExecution: String, Sendable, CaseIterable {
        /// Swift's cooperative pool: for handlers that block (a SQLite statement, a file's sync).
        case cooperativePool = "pool"
        /// The event loop of the connection the call came in on (`EventLoopTaskExecutor`): for handlers that
        /// only compute briefly and wait, which then answer without waking another thread.
        case connectionEventLoop = "event-loop"
    }

    public let configuration: Configuration
    let router: RPCRouter
    let interceptors: [any ServerInterceptor]
    let logger: Logger
    private let bound: EventLoopPromise<Int>
    private let connections = NIOLockedValueBox([ObjectIdentifier: ServerConnection]())
    /// Set once shutdown begins: a connection registered later is drained at once; once the grace period
    /// is over, closed at once.
    private let shutdown = NIOLockedValueBox((draining: false, closing: false))
    private let health: HealthState
    private let metrics: ServerMetrics

    public init(
        configuration: Configuration, router: RPCRouter, interceptors: [any ServerInterceptor] = [], logger: Logger
    ) {
        self.configuration = configuration
        var router = router
        let health = HealthState(
            serverName: configuration.serverName,
            services: Set(router.methods.compactMap { MethodDescriptor(fullName: $0.name)?.service }))
        health.register(into: &router)
        self.health = health
        self.metrics = ServerMetrics(
            server: configuration.serverName.split(separator: " ").first.map(String.init) ?? "mesh")
        self.router = router
        self.interceptors = interceptors
        self.logger = logger
        self.bound = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Int.self)
    }

    /// The port the server listens on, once it does.
    public func boundPort() async throws -> Int {
        try await self.bound.futureResult.get()
    }

    /// Marks the server not serving in its health answers (for example while it reloads).
    public func setServing(_ serving: Bool) { self.health.setServing(serving) }

    /// Whether it answers SERVING (ready): false while a service is still loading what it needs.
    public var isServing: Bool { self.health.isServing }

    public func run() async throws {
        let listener: NIOAsyncChannel<ServerConnection, Never>
        do {
            listener = try await MeshServerTransport.bind(
                host: self.configuration.host, port: self.configuration.port, tls: self.configuration.tls,
                configuration: self.configuration.transport, logger: self.logger
            )
        } catch {
            self.bound.fail(error)
            throw error
        }
        let port = listener.channel.localAddress?.port ?? self.configuration.port
        self.bound.succeed(port)
        self.logger.info("listening", metadata: ["host": "\(self.configuration.host)", "port": "\(port)"])

        // Shutdown is bounded: once the grace period is over and the connections were closed, whatever still
        // runs gets a second more, then it is cancelled. (A peer that never answers TLS's close_notify keeps
        // its connection open for NIOSSL's shutdown timeout, five seconds, and its calls with it.) The watcher
        // and the connections are siblings, so the watcher outlives the listener until every connection ended,
        // and is cancelled with the group once they have.
        let (draining, startDraining) = AsyncStream<Void>.makeStream()
        let grace = self.configuration.drainGracePeriod
        try await withGracefulShutdownHandler {
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await _ in draining {
                            try await Task.sleep(for: grace)
                            self.shutdown.withLockedValue { $0.closing = true }
                            for connection in self.connections.withLockedValue({ Array($0.values) }) {
                                connection.close()
                            }
                            try await Task.sleep(for: .seconds(1))
                            throw ForcedShutdown(connections: self.connections.withLockedValue { $0.count })
                        }
                    }
                    group.addTask {
                        try await withThrowingDiscardingTaskGroup { connectionTasks in
                            try await listener.executeThenClose { connections in
                                for try await connection in connections {
                                    switch self.configuration.callExecution {
                                    case .cooperativePool:
                                        connectionTasks.addTask { await self.serve(connection) }
                                    case .connectionEventLoop:
                                        // The calls, the connection's child tasks, inherit the preference.
                                        connectionTasks.addTask(
                                            executorPreference: EventLoopTaskExecutor(connection.eventLoop)
                                        ) { await self.serve(connection) }
                                    }
                                }
                            }
                        }
                    }
                    // Every connection ended (the watcher is then cancelled), or the watcher threw: leaving the
                    // group cancels the connections' tasks and waits for them.
                    try await group.next()
                    group.cancelAll()
                }
            } catch let forced as ForcedShutdown {
                self.logger.warning(
                    "shutdown forced after the grace period", metadata: ["connections": "\(forced.connections)"])
            }
        } onGracefulShutdown: {
            self.logger.info("draining", metadata: ["grace": "\(self.configuration.drainGracePeriod)"])
            self.shutdown.withLockedValue { $0.draining = true }
            listener.channel.close(promise: nil)
            let open = self.connections.withLockedValue { Array($0.values) }
            for connection in open { connection.drain(reason: "server is shutting down") }
            // The grace period runs in the watcher, a child of the server's task group.
            startDraining.yield()
        }
        self.logger.info("stopped")
    }

    private func serve(_ connection: ServerConnection) async {
        let key = connection.id
        self.connections.withLockedValue { $0[key] = connection }
        // A connection accepted while the server was shutting down is told so at once.
        let state = self.shutdown.withLockedValue { $0 }
        if state.closing {
            connection.close()
        } else if state.draining {
            connection.drain(reason: "server is shutting down")
        }
        self.metrics.connectionOpened()
        defer {
            _ = self.connections.withLockedValue { $0.removeValue(forKey: key) }
            self.metrics.connectionClosed()
        }
        await withDiscardingTaskGroup { group in
            for await call in connection.calls {
                group.addTask { await self.serve(call) }
            }
        }
    }

    private enum Outcome: Sendable {
        /// The trailers, and what goes out right before them in the same write (a unary response).
        case finished(Mesh_Rpc_V1_Trailers, leading: [OutboundPart])
        case deadlineExpired
        case cancelledByPeer
    }

    /// Serves a call another face of this process received (the gateway's standard gRPC port): the same
    /// routes, interceptors, deadline and metrics as a call over a mesh connection.
    public func serve(_ call: InProcessCall) async {
        await self.serve(call.call)
    }

    /// The methods this server routes, its health's among them, sorted by full name.
    public var methods: [(name: String, kind: MethodKind)] { self.router.methods }

    /// The services this server answers for, by full name (what a health check may ask about).
    public var services: Set<String> { self.health.services }

    func serve(_ call: InboundCall) async {
        let started = ContinuousClock.now
        self.metrics.callStarted()
        var code = RPCStatusCode.unknown
        // The method label is the routed method's name; a name the caller made up counts under one label, so
        // no caller can grow the metrics without bound.
        var label = ServerMetrics.unknownMethod
        defer {
            self.metrics.callFinished(method: label, code: code, duration: ContinuousClock.now - started)
        }
        guard let method = MethodDescriptor(fullName: call.head.method), let route = self.router.route(call.head.method)
        else {
            var trailers = Mesh_Rpc_V1_Trailers()
            trailers.code = RPCStatusCode.unimplemented.rawValue
            trailers.message = "method '\(call.head.method)' is not implemented by \(self.configuration.serverName)"
            try? await call.stream.write(.trailers(trailers))
            code = .unimplemented
            return
        }
        label = method.fullName
        let deadline: ContinuousClock.Instant? =
            call.head.timeoutMicros == 0
            ? nil
            : {
                let elapsed = NIODeadline.now() - call.receivedAt
                return ContinuousClock.now + .microseconds(Int64(clamping: call.head.timeoutMicros))
                    - .nanoseconds(elapsed.nanoseconds)
            }()
        let context = ServerContext(
            method: method, metadata: Metadata(wire: call.head.metadata), peer: call.peer, deadline: deadline)
        // The call's server span, a child of the caller's (its `traceparent`), or the first of a new trace.
        let tracer = MeshTracing.tracer
        var parent = InstrumentationContext.topLevel
        tracer.extract(context.metadata, into: &parent, using: Metadata.Extractor())
        let span = tracer.startSpan(method.fullName, context: parent, ofKind: .server)
        if span.isRecording {
            span.attributes["rpc.system"] = "mesh"
            span.attributes["rpc.service"] = method.service
            span.attributes["rpc.method"] = method.method
            span.attributes["mesh.peer"] = call.peer?.commonName
        }
        defer {
            if span.isRecording {
                span.attributes["rpc.grpc.status_code"] = Int(code.rawValue)
                if code.isServerFault { span.setStatus(SpanStatus(code: .error, message: "\(code)")) }
            }
            span.end()
        }
        // What stops the handler early, the client's cancellation or the deadline, both reported from the
        // connection's event loop into one stream that one task waits on.
        let (stops, stop) = AsyncStream<Outcome>.makeStream()
        call.stream.onCancel { _ in stop.yield(.cancelledByPeer) }
        let deadlineTimer =
            call.head.timeoutMicros == 0
            ? nil
            : call.stream.schedule(at: call.receivedAt + .microseconds(Int64(clamping: call.head.timeoutMicros))) {
                stop.yield(.deadlineExpired)
            }
        defer { deadlineTimer?.cancel() }

        code = await withTaskGroup(of: Outcome?.self) { group -> RPCStatusCode in
            var code = RPCStatusCode.cancelled
            group.addTask {
                await ServerContext.$current.withValue(context) {
                    await InstrumentationContext.$current.withValue(span.context) {
                        await self.run(route: route, stream: call.stream, context: context)
                    }
                }
            }
            group.addTask {
                for await reason in stops { return reason }
                return nil
            }
            while let outcome = await group.next() {
                guard let outcome else { continue }
                switch outcome {
                case .finished(let trailers, let leading):
                    code = RPCStatusCode.parse(trailers.code)
                    do {
                        try await call.stream.write(leading + [.trailers(trailers)])
                    } catch let error as TransportError where error.kind == .messageTooLarge {
                        // The held-back response was over the client's limit: the call ends with that status.
                        let status = RPCError.from(error)
                        var refusal = Mesh_Rpc_V1_Trailers()
                        refusal.code = status.code.rawValue
                        refusal.message = status.message
                        try? await call.stream.write(.trailers(refusal))
                        code = status.code
                    } catch {
                        // The stream or connection is gone; nobody is left to tell.
                    }
                case .deadlineExpired:
                    code = .deadlineExceeded
                    var trailers = Mesh_Rpc_V1_Trailers()
                    trailers.code = RPCStatusCode.deadlineExceeded.rawValue
                    trailers.message =
                        "deadline of \(call.head.timeoutMicros / 1000) ms expired before \(method.method) finished"
                    try? await call.stream.write(.trailers(trailers))
                case .cancelledByPeer:
                    self.logger.debug("call cancelled by the client", metadata: ["method": "\(method)"])
                }
                stop.finish()
                group.cancelAll()
                break
            }
            return code
        }
    }

    private func run(route: RPCRouter.Route, stream: MeshStream, context: ServerContext) async -> Outcome? {
        let handler = route.handler
        var chain: @Sendable (ServerContext) async throws -> Void = { context in try await handler(stream, context) }
        for interceptor in self.interceptors.reversed() {
            let next = chain
            chain = { context in try await interceptor.intercept(context: context, next: next) }
        }
        var trailers = Mesh_Rpc_V1_Trailers()
        do {
            try await chain(context)
            trailers.code = RPCStatusCode.ok.rawValue
        } catch {
            if Task.isCancelled { return nil }
            let status = RPCError.from(error)
            if status.code == .unknown || status.code == .internal {
                self.logger.error(
                    "handler failed",
                    metadata: [
                        "method": "\(context.method)", "error": "\(error)",
                        "trace_id": "\(MeshTracing.currentTraceID ?? "")",
                    ])
            }
            trailers.code = status.code.rawValue
            trailers.message = status.message
            var metadata = status.metadata
            metadata.merge(context.response.trailing)
            trailers.metadata = metadata.wire
            return .finished(trailers, leading: [])
        }
        trailers.metadata = context.response.trailing.wire
        return .finished(trailers, leading: context.response.takeFinal())
    }
}

/// The grace period and one more second passed and the server still had work: it stops anyway.
struct ForcedShutdown: Error {
    /// Connections still open when the server stopped waiting for them.
    let connections: Int
}
