import NIOCore

/// GOAWAY: the sender will process no stream above `lastStreamID`; `code` and `message` say why.
public struct GoAwayPayload: Sendable, Hashable {
    public var lastStreamID: UInt32
    public var code: ConnectionErrorCode
    public var message: String

    public init(lastStreamID: UInt32, code: ConnectionErrorCode, message: String) {
        self.lastStreamID = lastStreamID
        self.code = code
        self.message = message
    }

    public func encode() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(self.lastStreamID)
        buffer.writeInteger(self.code.rawValue)
        buffer.writeString(self.message)
        return buffer
    }

    public static func decode(_ payload: ByteBuffer) throws(ConnectionError) -> GoAwayPayload {
        var payload = payload
        let length = payload.readableBytes
        guard let lastStreamID = payload.readInteger(as: UInt32.self), let code = payload.readInteger(as: UInt32.self)
        else {
            throw ConnectionError(.protocolError, "GOAWAY payload of \(length) bytes is shorter than 8")
        }
        let message = payload.readString(length: payload.readableBytes) ?? ""
        return GoAwayPayload(lastStreamID: lastStreamID, code: ConnectionErrorCode(rawValue: code), message: message)
    }
}

/// CANCEL: the client abandons the call; `code` is the status it reports locally (usually cancelled or
/// deadlineExceeded), `reason` is for logs.
public struct CancelPayload: Sendable, Hashable {
    public var code: UInt32
    public var reason: String

    public init(code: UInt32, reason: String) {
        self.code = code
        self.reason = reason
    }

    public func encode() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(self.code)
        buffer.writeString(self.reason)
        return buffer
    }

    public static func decode(_ payload: ByteBuffer) throws(ConnectionError) -> CancelPayload {
        var payload = payload
        guard let code = payload.readInteger(as: UInt32.self) else {
            throw ConnectionError(.protocolError, "CANCEL payload of \(payload.readableBytes) bytes is shorter than 4")
        }
        return CancelPayload(code: code, reason: payload.readString(length: payload.readableBytes) ?? "")
    }
}

/// WINDOW_UPDATE: the receiver lets the sender write `increment` more bytes of messages on the stream.
public enum WindowUpdatePayload {
    public static func encode(_ increment: UInt32) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(increment)
        return buffer
    }

    public static func decode(_ payload: ByteBuffer) throws(ConnectionError) -> UInt32 {
        var payload = payload
        guard payload.readableBytes == 4, let increment = payload.readInteger(as: UInt32.self), increment > 0 else {
            throw ConnectionError(.protocolError, "WINDOW_UPDATE payload must be a non-zero 4-byte increment")
        }
        return increment
    }
}

/// PING: 8 opaque bytes, echoed back with the ACK flag.
public enum PingPayload {
    public static let length = 8

    public static func encode(_ data: UInt64) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(data)
        return buffer
    }

    public static func decode(_ payload: ByteBuffer) throws(ConnectionError) -> UInt64 {
        var payload = payload
        guard payload.readableBytes == Self.length, let data = payload.readInteger(as: UInt64.self) else {
            throw ConnectionError(.protocolError, "PING payload must be exactly 8 bytes, got \(payload.readableBytes)")
        }
        return data
    }
}
