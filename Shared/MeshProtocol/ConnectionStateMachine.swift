import MeshWire
import NIOCore

/// The rules of one connection, as plain values: which streams are open, how much each side may still send,
/// whether the connection is draining, and when it is idle or its keepalive has gone unanswered.
///
/// The channel handler feeds it events (a frame arrived, the application wants to send, time passed) and
/// carries out the actions it returns. It never touches a channel, so every rule is testable with plain values
/// and an injected `now`.
public struct ConnectionStateMachine: Sendable {
    public enum Role: Sendable, Hashable { case client, server }

    public struct Timeouts: Sendable, Hashable {
        /// Close a connection that has had no open stream for this long. nil: never.
        public var idleTimeout: TimeAmount?
        /// Send a PING after this long without receiving anything. nil: no keepalive.
        public var keepaliveInterval: TimeAmount?
        /// Close the connection if a keepalive PING is not answered within this long.
        public var keepaliveTimeout: TimeAmount

        public init(
            idleTimeout: TimeAmount? = .minutes(5), keepaliveInterval: TimeAmount? = nil,
            keepaliveTimeout: TimeAmount = .seconds(20)
        ) {
            self.idleTimeout = idleTimeout
            self.keepaliveInterval = keepaliveInterval
            self.keepaliveTimeout = keepaliveTimeout
        }
    }

    struct StreamState: Sendable {
        var sendWindow: Int
        var receiveWindow: Int
        var consumedSinceUpdate = 0
        var localClosed = false
        var remoteClosed = false
    }

    enum Phase: Sendable, Hashable {
        case active
        /// GOAWAY sent or received: streams above `lastStreamID` are refused; close once no stream is open.
        case draining(lastStreamID: UInt32, reason: String)
        case closed
    }

    public let role: Role
    public let localSettings: ConnectionSettings
    public private(set) var remoteSettings = ConnectionSettings.default
    public let timeouts: Timeouts
    private(set) var streams: [UInt32: StreamState] = [:]
    private(set) var phase = Phase.active
    /// Server: highest stream id the client opened. Client: highest stream id this side opened.
    private(set) var highestStreamID: UInt32 = 0
    private var prefaceReceived = false
    private var lastReceive: NIODeadline
    private var idleSince: NIODeadline?
    private var outstandingPing: (data: UInt64, sentAt: NIODeadline)?
    private var nextPingData: UInt64 = 1

    public init(role: Role, localSettings: ConnectionSettings, timeouts: Timeouts = Timeouts(), now: NIODeadline) {
        self.role = role
        self.localSettings = localSettings
        self.timeouts = timeouts
        self.lastReceive = now
        self.idleSince = now
    }

    public var openStreamCount: Int { self.streams.count }
    public var isDraining: Bool { if case .draining = self.phase { return true } else { return false } }
    public var isClosed: Bool { self.phase == .closed }
}

// MARK: - Inbound frames

extension ConnectionStateMachine {
    public enum InboundAction: Sendable {
        case none
        /// Server: a call begins.
        case openStream(UInt32, Mesh_Rpc_V1_RequestHead)
        /// Server: refuse a new stream with these trailers; the connection goes on.
        case refuseStream(UInt32, Mesh_Rpc_V1_Trailers)
        /// Client: the response head.
        case deliverResponseHead(UInt32, Mesh_Rpc_V1_ResponseHead)
        case deliverMessage(UInt32, ByteBuffer)
        /// Server: the client sent its last message.
        case deliverEnd(UInt32)
        /// Client: the call is over.
        case deliverTrailers(UInt32, Mesh_Rpc_V1_Trailers)
        /// Server: the client abandoned the call.
        case cancelStream(UInt32, CancelPayload)
        /// Credit arrived: pending writes on the stream may go on.
        case resumeWrites(UInt32)
        /// Credit arrived for every stream (a SETTINGS with a larger initial window).
        case resumeAllWrites
        case sendPingAck(UInt64)
        /// The peer sent GOAWAY. Streams above its last id were never processed and fail as retryable.
        case goAwayReceived(GoAwayPayload, refusedStreams: [UInt32], closeNow: Bool)
        /// Send GOAWAY with this error, fail every stream with it, and close.
        case connectionError(ConnectionError)
    }

    public mutating func receivePreface(now: NIODeadline) {
        self.prefaceReceived = true
        self.lastReceive = now
        // Idleness counts from the moment the peer can send calls, not from the TCP accept: a slow TLS
        // handshake must not use up the idle time (the handshake has its own timeout).
        if self.streams.isEmpty { self.idleSince = now }
    }

    public mutating func receive(_ frame: Frame, now: NIODeadline) -> InboundAction {
        self.lastReceive = now
        switch self.phase {
        case .closed:
            return .none
        case .active, .draining:
            break
        }
        if frame.type.isStreamFrame != (frame.streamID != 0) {
            return .connectionError(
                ConnectionError(
                    .protocolError,
                    frame.streamID == 0
                        ? "\(frame.type) frame on stream 0"
                        : "\(frame.type) frame on stream \(frame.streamID); it belongs on stream 0"
                ))
        }
        do throws(ConnectionError) {
            switch frame.type {
            case .settings:
                return try self.receiveSettings(frame.payload)
            case .ping:
                let data = try PingPayload.decode(frame.payload)
                if frame.flags.contains(.ack) {
                    if self.outstandingPing?.data == data { self.outstandingPing = nil }
                    return .none
                }
                return .sendPingAck(data)
            case .goAway:
                return self.receiveGoAway(try GoAwayPayload.decode(frame.payload))
            case .windowUpdate:
                let increment = try WindowUpdatePayload.decode(frame.payload)
                guard var stream = self.streams[frame.streamID] else { return .none }
                stream.sendWindow += Int(increment)
                self.streams[frame.streamID] = stream
                return stream.sendWindow > 0 ? .resumeWrites(frame.streamID) : .none
            case .headers:
                return try self.receiveHeaders(frame)
            case .message:
                return try self.receiveMessage(frame)
            case .end:
                return try self.receiveEnd(frame.streamID)
            case .trailers:
                return try self.receiveTrailers(frame)
            case .cancel:
                let payload = try CancelPayload.decode(frame.payload)
                guard self.role == .server else {
                    throw ConnectionError(
                        .protocolError,
                        "a server sent CANCEL on stream \(frame.streamID); servers end calls with TRAILERS")
                }
                guard self.streams.removeValue(forKey: frame.streamID) != nil else { return .none }
                self.streamRemoved(now: now)
                return .cancelStream(frame.streamID, payload)
            }
        } catch {
            return .connectionError(error)
        }
    }

    private mutating func receiveSettings(_ payload: ByteBuffer) throws(ConnectionError) -> InboundAction {
        let settings = try ConnectionSettings.decode(payload)
        let windowDelta = settings.initialWindowSize - self.remoteSettings.initialWindowSize
        self.remoteSettings = settings
        guard windowDelta != 0 else { return .none }
        for key in self.streams.keys { self.streams[key]!.sendWindow += windowDelta }
        return windowDelta > 0 ? .resumeAllWrites : .none
    }

    private mutating func receiveGoAway(_ goAway: GoAwayPayload) -> InboundAction {
        // Only the server processes streams, so only its last stream id refuses anything. A client's GOAWAY
        // says it opens no more streams; the ones open finish.
        let refused = self.role == .client ? self.streams.keys.filter { $0 > goAway.lastStreamID }.sorted() : []
        for id in refused { self.streams.removeValue(forKey: id) }
        self.phase = .draining(
            lastStreamID: goAway.lastStreamID, reason: "peer sent GOAWAY (\(goAway.code)): \(goAway.message)")
        let closeNow = self.streams.isEmpty || goAway.code != .noError
        if closeNow { self.phase = .closed }
        return .goAwayReceived(goAway, refusedStreams: refused, closeNow: closeNow)
    }

    private mutating func receiveHeaders(_ frame: Frame) throws(ConnectionError) -> InboundAction {
        guard frame.payload.readableBytes <= self.localSettings.maxHeaderSize else {
            // The frame is already buffered (it passed the frame size limit), so refuse the stream only.
            if self.role == .server, frame.streamID > self.highestStreamID {
                self.highestStreamID = frame.streamID
                return .refuseStream(
                    frame.streamID,
                    .init(
                        status: .resourceExhausted,
                        message:
                            "request head of \(frame.payload.readableBytes) bytes exceeds the maximum header size of \(self.localSettings.maxHeaderSize) bytes"
                    ))
            }
            throw ConnectionError(
                .protocolError,
                "HEADERS of \(frame.payload.readableBytes) bytes on stream \(frame.streamID) exceeds the maximum header size of \(self.localSettings.maxHeaderSize) bytes"
            )
        }
        switch self.role {
        case .server:
            guard frame.streamID > self.highestStreamID else {
                throw ConnectionError(
                    .protocolError,
                    "stream id \(frame.streamID) reused: stream ids must increase (highest so far \(self.highestStreamID))"
                )
            }
            self.highestStreamID = frame.streamID
            let head: Mesh_Rpc_V1_RequestHead
            do {
                head = try Mesh_Rpc_V1_RequestHead(serializedBytes: Array(buffer: frame.payload))
            } catch {
                return .refuseStream(
                    frame.streamID,
                    .init(
                        status: .internal,
                        message: "request head on stream \(frame.streamID) is not a valid RequestHead message"
                    ))
            }
            if case .draining = self.phase {
                return .refuseStream(
                    frame.streamID,
                    .init(
                        status: .unavailable,
                        message: "server is draining and accepts no new calls; retry on another connection")
                )
            }
            guard self.streams.count < self.localSettings.maxConcurrentStreams else {
                // unavailable: the call was not processed and may be retried, as HTTP/2's REFUSED_STREAM.
                return .refuseStream(
                    frame.streamID,
                    .init(
                        status: .unavailable,
                        message:
                            "connection already has \(self.streams.count) open streams, the maximum of concurrent streams is \(self.localSettings.maxConcurrentStreams)"
                    ))
            }
            self.streams[frame.streamID] = StreamState(
                sendWindow: self.remoteSettings.initialWindowSize, receiveWindow: self.localSettings.initialWindowSize
            )
            self.idleSince = nil
            return .openStream(frame.streamID, head)
        case .client:
            try self.checkClientStream(frame)
            guard self.streams[frame.streamID] != nil else { return .none }
            do {
                return .deliverResponseHead(
                    frame.streamID, try Mesh_Rpc_V1_ResponseHead(serializedBytes: Array(buffer: frame.payload)))
            } catch {
                throw ConnectionError(
                    .protocolError, "response head on stream \(frame.streamID) is not a valid ResponseHead message")
            }
        }
    }

    private func checkClientStream(_ frame: Frame) throws(ConnectionError) {
        guard frame.streamID <= self.highestStreamID else {
            throw ConnectionError(
                .protocolError, "\(frame.type) frame for stream \(frame.streamID), which this client never opened")
        }
    }

    private mutating func receiveMessage(_ frame: Frame) throws(ConnectionError) -> InboundAction {
        if self.role == .client {
            try self.checkClientStream(frame)
        } else if frame.streamID > self.highestStreamID {
            throw ConnectionError(.protocolError, "MESSAGE frame for stream \(frame.streamID), which was never opened")
        }
        // A frame for a stream that has just ended (cancelled, refused, finished) is dropped.
        guard var stream = self.streams[frame.streamID] else { return .none }
        guard !stream.remoteClosed else {
            throw ConnectionError(.protocolError, "MESSAGE frame on stream \(frame.streamID) after the sender ended it")
        }
        guard stream.receiveWindow > 0 else {
            throw ConnectionError(
                .flowControlError,
                "MESSAGE of \(frame.payload.readableBytes) bytes on stream \(frame.streamID) sent with no window left")
        }
        stream.receiveWindow -= frame.payload.readableBytes
        self.streams[frame.streamID] = stream
        return .deliverMessage(frame.streamID, frame.payload)
    }

    private mutating func receiveEnd(_ streamID: UInt32) throws(ConnectionError) -> InboundAction {
        guard self.role == .server else {
            throw ConnectionError(
                .protocolError, "a server sent END on stream \(streamID); servers end calls with TRAILERS")
        }
        guard streamID <= self.highestStreamID else {
            throw ConnectionError(.protocolError, "END frame for stream \(streamID), which was never opened")
        }
        guard var stream = self.streams[streamID] else { return .none }
        guard !stream.remoteClosed else {
            throw ConnectionError(.protocolError, "second END frame on stream \(streamID)")
        }
        stream.remoteClosed = true
        self.streams[streamID] = stream
        return .deliverEnd(streamID)
    }

    private mutating func receiveTrailers(_ frame: Frame) throws(ConnectionError) -> InboundAction {
        guard self.role == .client else {
            throw ConnectionError(
                .protocolError, "a client sent TRAILERS on stream \(frame.streamID); clients end with END or CANCEL")
        }
        try self.checkClientStream(frame)
        guard frame.payload.readableBytes <= self.localSettings.maxHeaderSize else {
            throw ConnectionError(
                .protocolError,
                "TRAILERS of \(frame.payload.readableBytes) bytes on stream \(frame.streamID) exceeds the maximum header size of \(self.localSettings.maxHeaderSize) bytes"
            )
        }
        guard self.streams.removeValue(forKey: frame.streamID) != nil else { return .none }
        let trailers: Mesh_Rpc_V1_Trailers
        do {
            trailers = try Mesh_Rpc_V1_Trailers(serializedBytes: Array(buffer: frame.payload))
        } catch {
            throw ConnectionError(
                .protocolError, "trailers on stream \(frame.streamID) are not a valid Trailers message")
        }
        self.streamRemoved(now: self.lastReceive)
        return .deliverTrailers(frame.streamID, trailers)
    }
}

// MARK: - Outbound

extension ConnectionStateMachine {
    public enum OpenStreamResult: Sendable, Hashable {
        case opened(UInt32)
        /// The connection cannot take a new call; the reason is retryable elsewhere.
        case refused(String)
    }

    /// Client: allocate the next stream id.
    public mutating func openStream(now: NIODeadline) -> OpenStreamResult {
        precondition(self.role == .client)
        switch self.phase {
        case .draining(_, let reason):
            return .refused("connection is draining: \(reason)")
        case .closed:
            return .refused("connection is closed")
        case .active:
            break
        }
        guard self.streams.count < self.remoteSettings.maxConcurrentStreams else {
            return .refused(
                "connection already has \(self.streams.count) open streams, the server's maximum of concurrent streams")
        }
        guard self.highestStreamID < UInt32.max - 1 else {
            return .refused("stream ids of this connection are used up")
        }
        self.highestStreamID += 1
        self.streams[self.highestStreamID] = StreamState(
            sendWindow: self.remoteSettings.initialWindowSize, receiveWindow: self.localSettings.initialWindowSize
        )
        self.idleSince = nil
        return .opened(self.highestStreamID)
    }

    public enum SendMessageResult: Sendable, Hashable {
        case send
        /// No window left: wait for `resumeWrites`.
        case wait
        case streamClosed
        /// The message is longer than the peer accepts; nothing was sent.
        case tooLarge(limit: Int)
    }

    /// Whether a message of `size` bytes may be written now. A sender may write while its window is positive;
    /// the window then goes down by the message's size and may go below zero.
    public mutating func sendMessage(streamID: UInt32, size: Int) -> SendMessageResult {
        guard var stream = self.streams[streamID], !stream.localClosed else { return .streamClosed }
        guard size <= self.remoteSettings.maxFrameSize else {
            return .tooLarge(limit: self.remoteSettings.maxFrameSize)
        }
        guard stream.sendWindow > 0 else { return .wait }
        stream.sendWindow -= size
        self.streams[streamID] = stream
        return .send
    }

    /// Client: the last message was sent. Returns false if the stream is gone.
    public mutating func sendEnd(streamID: UInt32) -> Bool {
        guard var stream = self.streams[streamID], !stream.localClosed else { return false }
        stream.localClosed = true
        self.streams[streamID] = stream
        return true
    }

    public enum CloseAction: Sendable, Hashable {
        case none
        /// The stream was open: write the frame.
        case send
        /// The stream was open, and was the last of a draining connection: write the frame, then close.
        case sendAndClose
    }

    /// Server sends TRAILERS, or client sends CANCEL: the stream is over on this side.
    public mutating func closeStream(streamID: UInt32, now: NIODeadline) -> CloseAction {
        guard self.streams.removeValue(forKey: streamID) != nil else { return .none }
        return self.streamRemoved(now: now) ? .sendAndClose : .send
    }

    /// The application read a message of `size` bytes. Returns the increment to grant, if it is time to.
    public mutating func consumed(streamID: UInt32, size: Int) -> UInt32? {
        guard var stream = self.streams[streamID] else { return nil }
        stream.consumedSinceUpdate += size
        guard stream.consumedSinceUpdate >= self.localSettings.initialWindowSize / 2 || stream.receiveWindow <= 0 else {
            self.streams[streamID] = stream
            return nil
        }
        let increment = stream.consumedSinceUpdate
        stream.consumedSinceUpdate = 0
        stream.receiveWindow += increment
        self.streams[streamID] = stream
        return increment > 0 ? UInt32(clamping: increment) : nil
    }

    /// Start a graceful drain. Returns the GOAWAY to send, and whether to close at once (nothing open).
    public mutating func beginDrain(reason: String) -> (goAway: GoAwayPayload, closeNow: Bool)? {
        guard self.phase == .active else { return nil }
        let lastStreamID = self.role == .server ? self.highestStreamID : 0
        self.phase = .draining(lastStreamID: lastStreamID, reason: reason)
        let closeNow = self.streams.isEmpty
        if closeNow { self.phase = .closed }
        return (GoAwayPayload(lastStreamID: lastStreamID, code: .noError, message: reason), closeNow)
    }

    /// The transport closed, or a connection error was sent. Returns the streams still open, to be failed.
    public mutating func close() -> [UInt32] {
        self.phase = .closed
        let open = self.streams.keys.sorted()
        self.streams.removeAll()
        return open
    }

    public var lastProcessedStreamID: UInt32 { self.highestStreamID }

    /// Returns true when the removal leaves a draining connection with nothing open.
    @discardableResult
    private mutating func streamRemoved(now: NIODeadline) -> Bool {
        if self.streams.isEmpty {
            self.idleSince = now
            if self.isDraining {
                self.phase = .closed
                return true
            }
        }
        return false
    }
}

// MARK: - Time

extension ConnectionStateMachine {
    public enum TimerAction: Sendable, Hashable {
        case none
        case sendPing(UInt64)
        /// Close gracefully with this GOAWAY (idle).
        case closeIdle(GoAwayPayload)
        case connectionError(ConnectionError)
    }

    /// Called periodically by the handler with the current time.
    public mutating func tick(now: NIODeadline) -> TimerAction {
        guard self.phase != .closed else { return .none }
        if let ping = self.outstandingPing, now - ping.sentAt >= self.timeouts.keepaliveTimeout {
            self.phase = .closed
            return .connectionError(
                ConnectionError(
                    .keepaliveTimeout,
                    "keepalive PING unanswered for \(Self.describe(now - ping.sentAt)), the keepalive timeout is \(Self.describe(self.timeouts.keepaliveTimeout))"
                ))
        }
        if let idleTimeout = self.timeouts.idleTimeout, let idleSince = self.idleSince, self.streams.isEmpty,
            self.prefaceReceived,
            now - idleSince >= idleTimeout
        {
            self.phase = .closed
            return .closeIdle(
                GoAwayPayload(
                    lastStreamID: self.role == .server ? self.highestStreamID : 0,
                    code: .idleTimeout,
                    message:
                        "connection had no calls for \(Self.describe(now - idleSince)), the idle timeout is \(Self.describe(idleTimeout))"
                ))
        }
        if let interval = self.timeouts.keepaliveInterval, self.outstandingPing == nil, self.prefaceReceived,
            now - self.lastReceive >= interval
        {
            let data = self.nextPingData
            self.nextPingData &+= 1
            self.outstandingPing = (data, now)
            return .sendPing(data)
        }
        return .none
    }

    static func describe(_ amount: TimeAmount) -> String {
        let milliseconds = amount.nanoseconds / 1_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }
}
