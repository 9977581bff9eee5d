import NIOCore

/// One unit on the wire: a 10-byte header (length, type, flags, stream id) and `length` bytes of payload.
public struct Frame: Sendable, Hashable {
    /// Bytes in the fixed header that precedes every payload.
    public static let headerLength = 10

    public var type: FrameType
    public var flags: FrameFlags
    /// 0 for frames about the whole connection (SETTINGS, PING, GOAWAY), otherwise the call's stream.
    public var streamID: UInt32
    public var payload: ByteBuffer

    public init(type: FrameType, flags: FrameFlags = [], streamID: UInt32, payload: ByteBuffer = ByteBuffer()) {
        self.type = type
        self.flags = flags
        self.streamID = streamID
        self.payload = payload
    }

    /// Appends the header and payload to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(self.payload.readableBytes))
        buffer.writeInteger(self.type.rawValue)
        buffer.writeInteger(self.flags.rawValue)
        buffer.writeInteger(self.streamID)
        var payload = self.payload
        buffer.writeBuffer(&payload)
    }
}

/// The kinds of frame. An unknown kind is a connection error: the protocol has no optional frames.
public enum FrameType: UInt8, Sendable, Hashable, CaseIterable {
    case headers = 0x1
    case message = 0x2
    case end = 0x3
    case trailers = 0x4
    case cancel = 0x5
    case windowUpdate = 0x6
    case ping = 0x7
    case goAway = 0x8
    case settings = 0x9

    /// Whether the frame must name a stream (non-zero id) or must not (zero id).
    public var isStreamFrame: Bool {
        switch self {
        case .headers, .message, .end, .trailers, .cancel: return true
        case .ping, .goAway, .settings: return false
        case .windowUpdate: return true
        }
    }
}

public struct FrameFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// On PING: this is the answer to a ping with the same payload.
    public static let ack = FrameFlags(rawValue: 0x1)
}
