import NIOCore

/// What the decoder yields: first the peer's preface, then frames.
public enum FrameDecoderEvent: Sendable, Hashable {
    case preface(ConnectionPreface)
    case frame(Frame)
}

/// Decodes the peer's preface and then length-prefixed frames.
///
/// A frame longer than `maxFrameSize` or of an unknown type is refused from its 10-byte header, before any of
/// its payload is buffered, so a peer cannot make this side hold more than one frame's worth of bytes.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = FrameDecoderEvent

    public let maxFrameSize: Int
    private var awaitingPreface = true

    public init(maxFrameSize: Int = ConnectionSettings.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> FrameDecoderEvent? {
        if self.awaitingPreface {
            return try self.decodePreface(buffer: &buffer)
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
            let rawType = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt8.self)
        else { return nil }
        guard let type = FrameType(rawValue: rawType) else {
            throw ConnectionError(.protocolError, "unknown frame type 0x\(String(rawType, radix: 16))")
        }
        guard Int(length) <= self.maxFrameSize else {
            let streamID =
                buffer.getInteger(at: buffer.readerIndex + 6, as: UInt32.self).map { " on stream \($0)" } ?? ""
            throw ConnectionError(
                .frameSizeError,
                "frame of \(length) bytes\(streamID) exceeds the maximum frame size of \(self.maxFrameSize) bytes"
            )
        }
        guard buffer.readableBytes >= Frame.headerLength + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        let flags = buffer.readInteger(as: UInt8.self)!
        let streamID = buffer.readInteger(as: UInt32.self)!
        let payload = buffer.readSlice(length: Int(length))!
        return .frame(Frame(type: type, flags: FrameFlags(rawValue: flags), streamID: streamID, payload: payload))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> FrameDecoderEvent? {
        try self.decode(buffer: &buffer)
    }

    private mutating func decodePreface(buffer: inout ByteBuffer) throws -> FrameDecoderEvent? {
        // Compare what has arrived so far, so garbage is refused without waiting for all 8 bytes.
        let available = min(buffer.readableBytes, ConnectionPreface.magic.count)
        if let prefix = buffer.getBytes(at: buffer.readerIndex, length: available),
            prefix != Array(ConnectionPreface.magic.prefix(available))
        {
            throw ConnectionError(
                .badPreface, "connection did not start with the JXMESH preface (first bytes: \(Self.describe(prefix)))")
        }
        guard buffer.readableBytes >= ConnectionPreface.length else { return nil }
        buffer.moveReaderIndex(forwardBy: ConnectionPreface.magic.count)
        let preface = ConnectionPreface(major: buffer.readInteger()!, minor: buffer.readInteger()!)
        guard preface.major == ConnectionPreface.current.major else {
            throw ConnectionError(
                .unsupportedVersion,
                "peer speaks mesh protocol \(preface.description); this side speaks \(ConnectionPreface.current.major).x"
            )
        }
        self.awaitingPreface = false
        return .preface(preface)
    }

    private static func describe(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self),
            text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F })
        {
            return "\"\(text)\""
        }
        return bytes.map { String($0, radix: 16) }.joined(separator: " ")
    }
}
