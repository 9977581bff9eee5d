/// Why a connection is being closed; carried by GOAWAY. Codes are parsed failably: an unknown code is kept
/// as its number so a newer peer's reason is still shown.
public struct ConnectionErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A graceful close: drain or idle.
    public static let noError = ConnectionErrorCode(rawValue: 0)
    public static let protocolError = ConnectionErrorCode(rawValue: 1)
    public static let internalError = ConnectionErrorCode(rawValue: 2)
    /// A frame longer than the receiver's maximum frame size.
    public static let frameSizeError = ConnectionErrorCode(rawValue: 3)
    /// The first bytes were not the `JXMESH` magic (for example plaintext HTTP, or TLS to a plaintext port).
    public static let badPreface = ConnectionErrorCode(rawValue: 4)
    public static let unsupportedVersion = ConnectionErrorCode(rawValue: 5)
    /// A sender wrote past the window the receiver granted.
    public static let flowControlError = ConnectionErrorCode(rawValue: 6)
    /// The connection had no calls for longer than the idle timeout.
    public static let idleTimeout = ConnectionErrorCode(rawValue: 7)
    /// A keepalive ping went unanswered for longer than the keepalive timeout.
    public static let keepaliveTimeout = ConnectionErrorCode(rawValue: 8)
    /// The peer opened more streams than the maximum it was told.
    public static let streamLimitExceeded = ConnectionErrorCode(rawValue: 9)

    public var description: String {
        switch self {
        case .noError: return "noError"
        case .protocolError: return "protocolError"
        case .internalError: return "internalError"
        case .frameSizeError: return "frameSizeError"
        case .badPreface: return "badPreface"
        case .unsupportedVersion: return "unsupportedVersion"
        case .flowControlError: return "flowControlError"
        case .idleTimeout: return "idleTimeout"
        case .keepaliveTimeout: return "keepaliveTimeout"
        case .streamLimitExceeded: return "streamLimitExceeded"
        default: return "code \(self.rawValue)"
        }
    }
}

/// A reason to close the whole connection: sent as GOAWAY before the close, and reported to every open call.
public struct ConnectionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: ConnectionErrorCode
    public var message: String

    public init(_ code: ConnectionErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}
