import Histogram
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The ceiling: a raw NIO TLS echo. Each frame is a 4-byte big-endian length, then that many bytes, the first
/// of which is the frame's kind:
///
/// - 0 echo: the server sends the frame back as it is;
/// - 1 stream request: count (UInt32) and size (UInt32); the server answers with `count` frames of kind 2;
/// - 2 stream message: `size` payload bytes.
///
/// No protobuf, no per-call state on the server, frames built once: only TLS, TCP and NIO are paid for.
enum RawFrame {
    static let echo: UInt8 = 0
    static let streamRequest: UInt8 = 1
    static let streamMessage: UInt8 = 2

    static func make(kind: UInt8, payloadSize: Int) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 5 + payloadSize)
        buffer.writeInteger(UInt32(1 + payloadSize))
        buffer.writeInteger(kind)
        buffer.writeRepeatingByte(7, count: payloadSize)
        return buffer
    }

    static func kind(of frame: ByteBuffer) -> UInt8? {
        frame.getInteger(at: frame.readerIndex + 4, as: UInt8.self)
    }
}

/// Splits the byte stream into whole frames, length prefix included.
struct LengthPrefixedFrameDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxFrameSize: Int

    mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard Int(length) <= self.maxFrameSize else {
            throw BenchmarkError("raw frame of \(length) bytes exceeds \(self.maxFrameSize)")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        return buffer.readSlice(length: 4 + Int(length))
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try self.decode(buffer: &buffer)
    }
}

/// What the raw server saw of the TLS session (for the security line).
struct RawSessionFacts: Sendable {
    var tlsVersion: TLSVersion?
    var clientPresentedCertificate = false
}

final class RawServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let facts: NIOLockedValueBox<RawSessionFacts>
    private var streamRemaining = 0
    private var streamFrame = ByteBuffer()
    private var recorded = false

    init(facts: NIOLockedValueBox<RawSessionFacts>) {
        self.facts = facts
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        if !self.recorded { self.recordSessionFacts(context: context) }
        switch RawFrame.kind(of: frame) {
        case RawFrame.echo:
            context.write(self.wrapOutboundOut(frame), promise: nil)
        case RawFrame.streamRequest:
            guard let count = frame.getInteger(at: frame.readerIndex + 5, as: UInt32.self),
                let size = frame.getInteger(at: frame.readerIndex + 9, as: UInt32.self)
            else {
                context.close(promise: nil)
                return
            }
            self.streamFrame = RawFrame.make(kind: RawFrame.streamMessage, payloadSize: Int(size))
            self.streamRemaining = Int(count)
            self.pump(context: context)
        default:
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { self.pump(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// Writes stream frames while the socket keeps up, 16 to a flush.
    private func pump(context: ChannelHandlerContext) {
        while self.streamRemaining > 0, context.channel.isWritable {
            let batch = min(self.streamRemaining, 16)
            for _ in 0..<batch { context.write(self.wrapOutboundOut(self.streamFrame), promise: nil) }
            self.streamRemaining -= batch
            context.flush()
        }
    }

    /// Once, at the first frame (the handshake is over by then): what the TLS session is.
    private func recordSessionFacts(context: ChannelHandlerContext) {
        self.recorded = true
        let version = try? context.pipeline.syncOperations.nioSSL_tlsVersion()
        let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
        self.facts.withLockedValue {
            $0.tlsVersion = version
            $0.clientPresentedCertificate = certificate != nil
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

final class RawClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Stream {
        var remaining: Int
        var messages = 0
        var last: UInt64
        var gaps = makeHistogram()
        let promise: EventLoopPromise<StreamResult>
    }

    private var context: ChannelHandlerContext?
    private var echoes = CircularBuffer<EventLoopPromise<ByteBuffer>>()
    private var activeStream: Stream?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func echo(_ frame: ByteBuffer, promise: EventLoopPromise<ByteBuffer>) {
        guard let context = self.context else {
            promise.fail(BenchmarkError("raw connection is closed"))
            return
        }
        self.echoes.append(promise)
        context.writeAndFlush(self.wrapOutboundOut(frame), promise: nil)
    }

    func stream(count: Int, size: Int, start: UInt64, promise: EventLoopPromise<StreamResult>) {
        guard let context = self.context, self.activeStream == nil else {
            promise.fail(BenchmarkError("raw connection is closed or already streaming"))
            return
        }
        self.activeStream = Stream(remaining: count, last: start, promise: promise)
        var request = context.channel.allocator.buffer(capacity: 13)
        request.writeInteger(UInt32(9))
        request.writeInteger(RawFrame.streamRequest)
        request.writeInteger(UInt32(count))
        request.writeInteger(UInt32(size))
        context.writeAndFlush(self.wrapOutboundOut(request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch RawFrame.kind(of: frame) {
        case RawFrame.echo:
            self.echoes.popFirst()?.succeed(frame)
        case RawFrame.streamMessage:
            // Mutated in place: a copy of the stream state would copy its histogram on every message.
            guard self.activeStream != nil else { return }
            let now = nowNanoseconds()
            let gap = now - self.activeStream!.last
            self.activeStream!.gaps.record(gap)
            self.activeStream!.last = now
            self.activeStream!.messages += 1
            self.activeStream!.remaining -= 1
            if self.activeStream!.remaining == 0 {
                let finished = self.activeStream!
                self.activeStream = nil
                finished.promise.succeed(StreamResult(messages: finished.messages, gaps: finished.gaps))
            }
        default:
            self.failAll(BenchmarkError("raw client got a frame of unknown kind"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(BenchmarkError("raw connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        while let promise = self.echoes.popFirst() { promise.fail(error) }
        self.activeStream?.promise.fail(error)
        self.activeStream = nil
    }
}

/// The raw NIO TLS echo: one server, one client connection.
final class RawContender: Contender {
    let name = "raw"
    private let serverChannel: any Channel
    private let clientChannel: any Channel
    private let handler: NIOLoopBound<RawClientHandler>
    private let facts: NIOLockedValueBox<RawSessionFacts>

    private init(
        serverChannel: any Channel, clientChannel: any Channel, handler: NIOLoopBound<RawClientHandler>,
        facts: NIOLockedValueBox<RawSessionFacts>
    ) {
        self.serverChannel = serverChannel
        self.clientChannel = clientChannel
        self.handler = handler
        self.facts = facts
    }

    static func start(credentials: BenchmarkCredentials, limits: Limits) async throws -> RawContender {
        func certificates(_ pem: String) throws -> [NIOSSLCertificate] {
            try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
        }
        func privateKey(_ pem: String) throws -> NIOSSLPrivateKey {
            try NIOSSLPrivateKey(bytes: Array(pem.utf8), format: .pem)
        }

        // The same TLS policy as the mesh: TLS 1.3 only, client certificate required and checked against the CA.
        var serverTLS = TLSConfiguration.makeServerConfiguration(
            certificateChain: try certificates(credentials.serverCertificatePEM).map { .certificate($0) },
            privateKey: .privateKey(try privateKey(credentials.serverPrivateKeyPEM))
        )
        serverTLS.minimumTLSVersion = .tlsv13
        serverTLS.trustRoots = .certificates(try certificates(credentials.trustRootPEM))
        serverTLS.certificateVerification = .noHostnameVerification
        let serverContext = try NIOSSLContext(configuration: serverTLS)

        var clientTLS = TLSConfiguration.makeClientConfiguration()
        clientTLS.minimumTLSVersion = .tlsv13
        clientTLS.certificateChain = try certificates(credentials.clientCertificatePEM).map { .certificate($0) }
        clientTLS.privateKey = .privateKey(try privateKey(credentials.clientPrivateKeyPEM))
        clientTLS.trustRoots = .certificates(try certificates(credentials.trustRootPEM))
        clientTLS.certificateVerification = .fullVerification
        let clientContext = try NIOSSLContext(configuration: clientTLS)

        let maxFrameSize = limits.maxMessageBytes + 16
        let facts = NIOLockedValueBox(RawSessionFacts())
        let group = MultiThreadedEventLoopGroup.singleton
        let serverChannel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        NIOSSLServerHandler(context: serverContext),
                        ByteToMessageHandler(LengthPrefixedFrameDecoder(maxFrameSize: maxFrameSize)),
                        RawServerHandler(facts: facts),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = serverChannel.localAddress?.port else { throw BenchmarkError("raw server has no port") }

        let (clientChannel, handler) = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = RawClientHandler()
                    try channel.pipeline.syncOperations.addHandlers([
                        try NIOSSLClientHandler(
                            context: clientContext, serverHostname: BenchmarkCredentials.serverHostname),
                        ByteToMessageHandler(LengthPrefixedFrameDecoder(maxFrameSize: maxFrameSize)),
                        handler,
                    ])
                    return (channel, NIOLoopBound(handler, eventLoop: channel.eventLoop))
                }
            }
        return RawContender(serverChannel: serverChannel, clientChannel: clientChannel, handler: handler, facts: facts)
    }

    private func echo(_ frame: ByteBuffer) async throws -> ByteBuffer {
        let promise = self.clientChannel.eventLoop.makePromise(of: ByteBuffer.self)
        let handler = self.handler
        self.clientChannel.eventLoop.execute { handler.value.echo(frame, promise: promise) }
        return try await promise.futureResult.get()
    }

    func security() async throws -> String {
        _ = try await self.echo(RawFrame.make(kind: RawFrame.echo, payloadSize: 1))
        let facts = self.facts.withLockedValue { $0 }
        let clientVersion = try await self.clientChannel.nioSSL_tlsVersion().get()
        return
            "server saw a client certificate: \(facts.clientPresentedCertificate); TLS version \(clientVersion.map { "\($0)" } ?? "unknown")"
    }

    func unaryCall(size: Int) -> @Sendable () async throws -> Void {
        let frame = RawFrame.make(kind: RawFrame.echo, payloadSize: size)
        let expected = frame.readableBytes
        let channel = self.clientChannel
        let handler = self.handler
        return {
            let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
            channel.eventLoop.execute { handler.value.echo(frame, promise: promise) }
            let answer = try await promise.futureResult.get()
            guard answer.readableBytes == expected else {
                throw BenchmarkError("raw echoed \(answer.readableBytes) bytes, not \(expected)")
            }
        }
    }

    func streamCall(count: Int, size: Int) -> @Sendable () async throws -> StreamResult {
        let channel = self.clientChannel
        let handler = self.handler
        return {
            let promise = channel.eventLoop.makePromise(of: StreamResult.self)
            let start = nowNanoseconds()
            channel.eventLoop.execute { handler.value.stream(count: count, size: size, start: start, promise: promise) }
            return try await promise.futureResult.get()
        }
    }

    func shutdown() async {
        try? await self.clientChannel.close()
        try? await self.serverChannel.close()
    }
}
