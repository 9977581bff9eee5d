import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A small HTTPS server that records the webhooks it receives and answers with a chosen status: what a county
/// system's endpoint does, for the demo (`mesh up --demo`) and the tests.
public final class WebhookReceiver: Sendable {
    public struct Request: Sendable {
        public var path: String
        public var headers: [String: String]
        public var body: [UInt8]
    }

    private let state = NIOLockedValueBox((requests: [Request](), statuses: [Int](), defaultStatus: 200))
    private let down = NIOLockedValueBox(false)

    /// While down, every connection is dropped before a response, as an endpoint that is away.
    public func setDown(_ down: Bool) { self.down.withLockedValue { $0 = down } }
    var isDown: Bool { self.down.withLockedValue { $0 } }
    private let channel: NIOLockedValueBox<(any Channel)?> = .init(nil)
    /// The connections open now, kept alive between requests: stopping closes them too, as an endpoint that
    /// went away does.
    private let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    private let accepted = NIOLockedValueBox(0)

    /// Connections accepted since it was made: fewer than the requests where the client keeps them.
    public var connectionsAccepted: Int { self.accepted.withLockedValue { $0 } }
    private let boundPort = NIOLockedValueBox(0)

    /// The port it listens on (the last one, while stopped).
    public var port: Int { self.boundPort.withLockedValue { $0 } }

    private let tls: NIOSSLContext

    /// Serves TLS with the given certificate (chain) and key, in PEM.
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem))
        )
        self.tls = try NIOSSLContext(configuration: configuration)
    }

    /// Starts listening on `host` (on `port`, or a free one).
    public func start(host: String = "127.0.0.1", port: Int = 0) async throws {
        let receiver = self
        let tls = self.tls
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                receiver.connections.withLockedValue { $0[id] = channel }
                receiver.accepted.withLockedValue { $0 += 1 }
                channel.closeFuture.whenComplete { _ in
                    _ = receiver.connections.withLockedValue { $0.removeValue(forKey: id) }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(receiver: receiver))
                }
            }
            .bind(host: host, port: port).get()
        self.boundPort.withLockedValue { $0 = channel.localAddress?.port ?? port }
        self.channel.withLockedValue { $0 = channel }
    }

    /// Runs `body`, then stops the receiver, whether `body` returned or threw (a `defer` cannot await it).
    public func stopping<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        let result: Result
        do {
            result = try await body()
        } catch {
            await self.stop()
            throw error
        }
        await self.stop()
        return result
    }

    /// Stops listening: the endpoint is down.
    public func stop() async {
        let channel = self.channel.withLockedValue { current -> (any Channel)? in
            defer { current = nil }
            return current
        }
        try? await channel?.close()
        let open = self.connections.withLockedValue { connections in
            defer { connections = [:] }
            return Array(connections.values)
        }
        for connection in open { try? await connection.close() }
    }

    /// The next answers, in order; after them, `defaultStatus`.
    public func answer(_ statuses: [Int], thenDefault defaultStatus: Int = 200) {
        self.state.withLockedValue {
            $0.statuses = statuses
            $0.defaultStatus = defaultStatus
        }
    }

    public var requests: [Request] { self.state.withLockedValue { $0.requests } }

    func receive(_ request: Request) -> Int {
        self.state.withLockedValue { state in
            state.requests.append(request)
            return state.statuses.isEmpty ? state.defaultStatus : state.statuses.removeFirst()
        }
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let receiver: WebhookReceiver
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(receiver: WebhookReceiver) { self.receiver = receiver }

        func channelActive(context: ChannelHandlerContext) {
            if self.receiver.isDown {
                context.close(promise: nil)
                return
            }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch self.unwrapInboundIn(data) {
            case .head(let head):
                // An endpoint that went down answers nothing, on a kept connection too.
                if self.receiver.isDown {
                    context.close(promise: nil)
                    return
                }
                self.head = head
                self.body = []
            case .body(var buffer):
                self.body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let head = self.head else { return }
                var headers: [String: String] = [:]
                for (name, value) in head.headers { headers[name.lowercased()] = value }
                let status = self.receiver.receive(Request(path: head.uri, headers: headers, body: self.body))
                var response = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
                response.headers.add(name: "Content-Length", value: "0")
                // Kept alive unless the client asked to close (HTTPServerPipeline closes it then).
                context.write(self.wrapOutboundOut(.head(response)), promise: nil)
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
                self.head = nil
            }
        }
    }
}
