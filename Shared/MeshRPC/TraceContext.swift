/// A W3C Trace Context (`traceparent`), carried in call metadata so one county request can be followed
/// through the gateway's fan-out into every service's logs.
public struct TraceContext: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hex digits, not all zero.
    public let traceID: String
    /// 16 lowercase hex digits: the span of the caller.
    public let parentID: String
    public let flags: String

    public static let metadataKey = "traceparent"

    /// Parses `00-<trace id>-<parent id>-<flags>`; nil for anything else (a malformed header starts a new trace).
    public init?(traceparent: String) {
        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff",
            parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
            parts[0...3].allSatisfy({ $0.allSatisfy(\.isHexDigit) && $0 == $0.lowercased() }),
            parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" })
        else { return nil }
        self.traceID = String(parts[1])
        self.parentID = String(parts[2])
        self.flags = String(parts[3])
    }

    init(traceID: String, parentID: String, flags: String) {
        self.traceID = traceID
        self.parentID = parentID
        self.flags = flags
    }

    /// A new trace, sampled.
    public static func start() -> TraceContext {
        TraceContext(
            traceID: Self.hex(UInt64.random(in: 1...UInt64.max)) + Self.hex(UInt64.random(in: 0...UInt64.max)),
            parentID: Self.hex(UInt64.random(in: 1...UInt64.max)), flags: "01")
    }

    /// The same trace with a new span: what a call made while handling this one carries.
    public func child() -> TraceContext {
        TraceContext(traceID: self.traceID, parentID: Self.hex(UInt64.random(in: 1...UInt64.max)), flags: self.flags)
    }

    public var traceparent: String { "00-\(self.traceID)-\(self.parentID)-\(self.flags)" }
    public var description: String { self.traceparent }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
