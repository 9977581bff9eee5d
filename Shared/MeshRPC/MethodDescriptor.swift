/// Names one method: `package.Service/Method` on the wire.
public struct MethodDescriptor: Sendable, Hashable, CustomStringConvertible {
    public var service: String
    public var method: String

    public init(service: String, method: String) {
        self.service = service
        self.method = method
    }

    /// Parses `package.Service/Method`.
    public init?(fullName: String) {
        let parts = fullName.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(service: String(parts[0]), method: String(parts[1]))
    }

    public var fullName: String { "\(self.service)/\(self.method)" }
    public var description: String { self.fullName }
}

/// How a method exchanges messages.
public enum MethodKind: String, Sendable, Hashable {
    case unary, serverStreaming, clientStreaming, bidirectional
}
