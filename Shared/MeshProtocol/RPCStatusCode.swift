/// The status codes of the mesh protocol: gRPC's, with gRPC's meanings, so clients map them as they know.
public enum RPCStatusCode: UInt32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ok = 0
    case cancelled = 1
    case unknown = 2
    case invalidArgument = 3
    case deadlineExceeded = 4
    case notFound = 5
    case alreadyExists = 6
    case permissionDenied = 7
    case resourceExhausted = 8
    case failedPrecondition = 9
    case aborted = 10
    case outOfRange = 11
    case unimplemented = 12
    case `internal` = 13
    case unavailable = 14
    case dataLoss = 15
    case unauthenticated = 16

    /// Parses a wire code. An unknown number is `unknown`, as gRPC clients treat it.
    public static func parse(_ rawValue: UInt32) -> RPCStatusCode {
        RPCStatusCode(rawValue: rawValue) ?? .unknown
    }

    /// Codes that say the call was not processed, or may safely be tried again elsewhere.
    public var isRetryable: Bool { self == .unavailable }

    public var description: String {
        switch self {
        case .ok: return "ok"
        case .cancelled: return "cancelled"
        case .unknown: return "unknown"
        case .invalidArgument: return "invalidArgument"
        case .deadlineExceeded: return "deadlineExceeded"
        case .notFound: return "notFound"
        case .alreadyExists: return "alreadyExists"
        case .permissionDenied: return "permissionDenied"
        case .resourceExhausted: return "resourceExhausted"
        case .failedPrecondition: return "failedPrecondition"
        case .aborted: return "aborted"
        case .outOfRange: return "outOfRange"
        case .unimplemented: return "unimplemented"
        case .internal: return "internal"
        case .unavailable: return "unavailable"
        case .dataLoss: return "dataLoss"
        case .unauthenticated: return "unauthenticated"
        }
    }
}
