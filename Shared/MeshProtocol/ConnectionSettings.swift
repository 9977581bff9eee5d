import NIOCore

/// The limits one side announces to the other in its SETTINGS frame, and enforces on what it receives.
public struct ConnectionSettings: Sendable, Hashable {
    /// Largest frame payload this side accepts. Checked from the header, before the payload is buffered.
    public var maxFrameSize: Int
    /// Most streams the peer may have open on this connection at once.
    public var maxConcurrentStreams: Int
    /// Bytes of MESSAGE payload the peer may send on one stream before it needs a WINDOW_UPDATE.
    public var initialWindowSize: Int
    /// Largest HEADERS or TRAILERS payload this side accepts.
    public var maxHeaderSize: Int

    public static let defaultMaxFrameSize = 4 * 1024 * 1024
    /// The cap of `maxFrameSize`: the length field is 32 bits, but nothing in the mesh needs more than this.
    public static let maxFrameSizeLimit = 64 * 1024 * 1024

    public init(
        maxFrameSize: Int = ConnectionSettings.defaultMaxFrameSize,
        maxConcurrentStreams: Int = 1024,
        initialWindowSize: Int = 1024 * 1024,
        maxHeaderSize: Int = 16 * 1024
    ) {
        self.maxFrameSize = maxFrameSize
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialWindowSize = initialWindowSize
        self.maxHeaderSize = maxHeaderSize
    }

    /// What a side assumes of its peer until the peer's SETTINGS arrive.
    public static let `default` = ConnectionSettings()

    enum Identifier: UInt16 {
        case maxFrameSize = 1
        case maxConcurrentStreams = 2
        case initialWindowSize = 3
        case maxHeaderSize = 4
    }

    /// SETTINGS payload: pairs of (UInt16 identifier, UInt32 value). Unknown identifiers are ignored.
    public func encode() -> ByteBuffer {
        var buffer = ByteBuffer()
        for (identifier, value) in [
            (Identifier.maxFrameSize, self.maxFrameSize),
            (.maxConcurrentStreams, self.maxConcurrentStreams),
            (.initialWindowSize, self.initialWindowSize),
            (.maxHeaderSize, self.maxHeaderSize),
        ] {
            buffer.writeInteger(identifier.rawValue)
            buffer.writeInteger(UInt32(clamping: value))
        }
        return buffer
    }

    public static func decode(_ payload: ByteBuffer) throws(ConnectionError) -> ConnectionSettings {
        var payload = payload
        guard payload.readableBytes % 6 == 0 else {
            throw ConnectionError(
                .protocolError, "SETTINGS payload of \(payload.readableBytes) bytes is not a multiple of 6")
        }
        var settings = ConnectionSettings.default
        while let rawIdentifier = payload.readInteger(as: UInt16.self), let value = payload.readInteger(as: UInt32.self)
        {
            let value = Int(value)
            switch Identifier(rawValue: rawIdentifier) {
            case .maxFrameSize:
                guard value >= 1024, value <= Self.maxFrameSizeLimit else {
                    throw ConnectionError(
                        .protocolError, "SETTINGS maxFrameSize \(value) is outside 1024...\(Self.maxFrameSizeLimit)")
                }
                settings.maxFrameSize = value
            case .maxConcurrentStreams:
                settings.maxConcurrentStreams = value
            case .initialWindowSize:
                guard value >= 1 else {
                    throw ConnectionError(.protocolError, "SETTINGS initialWindowSize must be at least 1")
                }
                settings.initialWindowSize = value
            case .maxHeaderSize:
                settings.maxHeaderSize = value
            case nil:
                continue
            }
        }
        return settings
    }
}
