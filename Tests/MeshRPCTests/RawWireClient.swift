import MeshMessages
import MeshProtocol
import MeshTestSupport
import MeshTransport
import MeshWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A deliberately dumb mesh peer for tests: connects to 127.0.0.1 (over mutual TLS, or plain TCP when no TLS
/// configuration is given), writes whatever bytes the test hands it, and records everything the server sends
/// until the server closes the connection. It speaks no protocol itself: no PING answers, no WINDOW_UPDATE.
final class RawWireClient: Sendable {
    /// What the server sent so far.
    struct Collected: Sendable, CustomStringConvertible {
        var bytes: [UInt8]
        /// The connection is closed, whoever closed it.
        var isClosed: Bool
        /// The connection closed without this side asking for it (server close, reset, TLS failure).
        var serverClosed: Bool
        /// From TCP connect to close, when closed.
        var closedAfter: Duration?
        /// Errors the client pipeline saw (TLS failures, resets), for diagnostics.
        var errors: [String]

        /// The server's preface and frames, decoded.
        var output: ServerOutput { ServerOutput(decoding: self.bytes) }

        /// Whether `needle` occurs anywhere in the received bytes.
        func contains(_ needle: [UInt8]) -> Bool {
            guard !needle.isEmpty, needle.count <= self.bytes.count else { return false }
            return (0...(self.bytes.count - needle.count)).contains {
                Array(self.bytes[$0..<($0 + needle.count)]) == needle
            }
        }

        var description: String {
            "\(self.bytes.count) bytes, closed \(self.isClosed) (by server \(self.serverClosed)), errors \(self.errors): \(self.output)"
        }
    }

    private let channel: any Channel
    private let collector: RawWireCollector

    private init(channel: any Channel, collector: RawWireCollector) {
        self.channel = channel
        self.collector = collector
    }

    /// Connects to `127.0.0.1:port`. With `tls` the connection is wrapped in TLS 1.3 (client certificate,
    /// mesh CA, SNI and hostname check against `serverHostname`); the handshake runs in the background and
    /// bytes written before it completes are sent once it does. With `tls: nil` the bytes go out in plaintext.
    static func connect(
        port: Int,
        tls: MeshTLSConfiguration? = TestMesh.credentials.client,
        connectTimeout: TimeAmount = .seconds(2)
    ) async throws -> RawWireClient {
        let sslContext: NIOSSLContext? = try tls.map { try Self.makeClientContext($0) }
        let serverHostname = tls?.serverHostname
        let collector = RawWireCollector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(connectTimeout)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { () throws -> any Channel in
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
                        )
                    }
                    try channel.pipeline.syncOperations.addHandler(collector)
                    return channel
                }
            }
        collector.markConnected()
        return RawWireClient(channel: channel, collector: collector)
    }

    /// The same TLS policy as the mesh client (`MeshTLSConfiguration.makeClientContext`, which is internal).
    static func makeClientContext(_ tls: MeshTLSConfiguration) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(tls.certificateChainPEM.utf8)).map {
            .certificate($0)
        }
        configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(tls.privateKeyPEM.utf8), format: .pem))
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(tls.trustRootsPEM.utf8)))
        configuration.certificateVerification = tls.serverHostname == nil ? .noHostnameVerification : .fullVerification
        return try NIOSSLContext(configuration: configuration)
    }

    /// Writes the parts back to back in one flush.
    func send(_ parts: ByteBuffer...) async throws {
        var all = ByteBuffer()
        for var part in parts { all.writeBuffer(&part) }
        try await self.channel.writeAndFlush(all)
    }

    func send(bytes: [UInt8]) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// What arrived so far.
    var collected: Collected { self.collector.snapshot() }

    /// Waits until `condition` holds for what arrived, the connection closes, or `timeout` passes.
    func waitUntil(timeout: Duration, _ condition: (Collected) -> Bool) async -> Collected {
        let deadline = ContinuousClock.now + timeout
        while true {
            let snapshot = self.collector.snapshot()
            if snapshot.isClosed || condition(snapshot) || ContinuousClock.now >= deadline { return snapshot }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Everything the server sends until it closes the connection or `timeout` passes.
    func collectUntilClosed(timeout: Duration) async -> Collected {
        await self.waitUntil(timeout: timeout) { _ in false }
    }

    /// Closes this side (TLS close_notify first when wrapped).
    func close() async {
        self.collector.markClosedLocally()
        try? await self.channel.close()
    }

    /// Connects, writes `parts` in one flush, and collects until the server closes or `timeout` passes.
    static func exchange(
        port: Int,
        tls: MeshTLSConfiguration? = TestMesh.credentials.client,
        sending parts: ByteBuffer...,
        timeout: Duration = .seconds(2)
    ) async throws -> Collected {
        let client = try await RawWireClient.connect(port: port, tls: tls)
        var all = ByteBuffer()
        for var part in parts { all.writeBuffer(&part) }
        // The server may close before the write goes out (that is what some tests provoke).
        try? await client.send(all)
        let collected = await client.collectUntilClosed(timeout: timeout)
        await client.close()
        return collected
    }

    // MARK: Building raw input

    /// The 8-byte preface followed by a SETTINGS frame with all defaults, as the Swift side sends them.
    static func prefaceAndSettings(_ preface: ConnectionPreface = .current) -> ByteBuffer {
        var buffer = ByteBuffer()
        preface.encode(into: &buffer)
        Frame(type: .settings, streamID: 0, payload: ConnectionSettings.default.encode()).encode(into: &buffer)
        return buffer
    }

    /// A bare 10-byte frame header: lets a test announce a length or type it does not back with a payload.
    static func frameHeader(length: UInt32, type: UInt8, flags: UInt8 = 0, streamID: UInt32) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(length)
        buffer.writeInteger(type)
        buffer.writeInteger(flags)
        buffer.writeInteger(streamID)
        return buffer
    }

    static func frame(_ type: FrameType, streamID: UInt32, payload: ByteBuffer = ByteBuffer()) -> ByteBuffer {
        var buffer = ByteBuffer()
        Frame(type: type, streamID: streamID, payload: payload).encode(into: &buffer)
        return buffer
    }

    /// A serialized `RequestHead` with only `method` set (no deadline, no metadata).
    static func requestHead(method: String) throws -> ByteBuffer {
        var head = Mesh_Rpc_V1_RequestHead()
        head.method = method
        let bytes: [UInt8] = try head.serializedBytes()
        return ByteBuffer(bytes: bytes)
    }

    /// HEADERS, one empty MESSAGE and END on `streamID`: a whole unary call with an empty request.
    static func unaryCall(streamID: UInt32, method: String) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        Frame(type: .headers, streamID: streamID, payload: try Self.requestHead(method: method)).encode(into: &buffer)
        Frame(type: .message, streamID: streamID).encode(into: &buffer)
        Frame(type: .end, streamID: streamID).encode(into: &buffer)
        return buffer
    }
}

/// What a server sent, decoded with the mesh's own `FrameDecoder`: its preface, then its frames.
struct ServerOutput: Sendable, CustomStringConvertible {
    var preface: ConnectionPreface?
    var frames: [Frame] = []
    /// Why decoding stopped early, if it did (for example the bytes were not a mesh stream at all).
    var decodeError: String?
    /// Bytes left over after the last whole frame.
    var leftoverBytes = 0

    init(decoding bytes: [UInt8]) {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: bytes)
        do {
            while let event = try decoder.decode(buffer: &buffer) {
                switch event {
                case .preface(let preface): self.preface = preface
                case .frame(let frame): self.frames.append(frame)
                }
            }
        } catch {
            self.decodeError = "\(error)"
        }
        self.leftoverBytes = buffer.readableBytes
    }

    /// The server's first SETTINGS, decoded.
    var settings: ConnectionSettings? {
        self.frames.first { $0.type == .settings }.flatMap { try? ConnectionSettings.decode($0.payload) }
    }

    /// The first GOAWAY, decoded.
    var goAway: GoAwayPayload? {
        self.frames.first { $0.type == .goAway }.flatMap { try? GoAwayPayload.decode($0.payload) }
    }

    /// The TRAILERS ending `streamID`, decoded (an empty payload is code 0 ok).
    func trailers(onStream streamID: UInt32) -> Mesh_Rpc_V1_Trailers? {
        self.frames.first { $0.type == .trailers && $0.streamID == streamID }.flatMap {
            try? Mesh_Rpc_V1_Trailers(serializedBytes: Array(buffer: $0.payload))
        }
    }

    func frames(onStream streamID: UInt32) -> [Frame] {
        self.frames.filter { $0.streamID == streamID }
    }

    var description: String {
        var parts = [self.preface.map { "preface \($0.description)" } ?? "no preface"]
        parts.append(
            "frames ["
                + self.frames.map { "\($0.type)@\($0.streamID)(\($0.payload.readableBytes))" }.joined(separator: ", ")
                + "]")
        if let goAway = self.goAway {
            parts.append("GOAWAY \(goAway.code) last \(goAway.lastStreamID): \(goAway.message)")
        }
        for frame in self.frames where frame.type == .trailers {
            if let trailers = self.trailers(onStream: frame.streamID) {
                parts.append("TRAILERS@\(frame.streamID) code \(trailers.code): \(trailers.message)")
            }
        }
        if let decodeError = self.decodeError { parts.append("decode error: \(decodeError)") }
        if self.leftoverBytes > 0 { parts.append("\(self.leftoverBytes) bytes left over") }
        return parts.joined(separator: "; ")
    }
}

/// Records every byte, error and the close, behind a lock so tests can poll from any task.
private final class RawWireCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    struct State: Sendable {
        var bytes: [UInt8] = []
        var connectedAt: ContinuousClock.Instant?
        var closedAt: ContinuousClock.Instant?
        var closedLocally = false
        var errors: [String] = []
    }

    private let state = NIOLockedValueBox(State())

    func markConnected() {
        self.state.withLockedValue { state in
            if state.connectedAt == nil { state.connectedAt = .now }
        }
    }

    func markClosedLocally() {
        self.state.withLockedValue { state in
            if state.closedAt == nil { state.closedLocally = true }
        }
    }

    func snapshot() -> RawWireClient.Collected {
        self.state.withLockedValue { state in
            let closedAfter: Duration? = {
                guard let connectedAt = state.connectedAt, let closedAt = state.closedAt else { return nil }
                return closedAt - connectedAt
            }()
            return RawWireClient.Collected(
                bytes: state.bytes,
                isClosed: state.closedAt != nil,
                serverClosed: state.closedAt != nil && !state.closedLocally,
                closedAfter: closedAfter,
                errors: state.errors
            )
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.markConnected()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        self.state.withLockedValue { $0.bytes.append(contentsOf: bytes) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.state.withLockedValue { state in
            if state.closedAt == nil { state.closedAt = .now }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.state.withLockedValue { $0.errors.append("\(error)") }
        context.close(promise: nil)
    }
}
