import NIOCore

/// The 8 bytes each side sends first: the ASCII magic `JXMESH` and the protocol version (major, minor).
public struct ConnectionPreface: Sendable, Hashable {
    public static let magic: [UInt8] = Array("JXMESH".utf8)
    public static let length = 8
    /// The version this implementation speaks. Peers must agree on `major`; `minor` only adds.
    public static let current = ConnectionPreface(major: 1, minor: 0)

    public var major: UInt8
    public var minor: UInt8

    public init(major: UInt8, minor: UInt8) {
        self.major = major
        self.minor = minor
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeBytes(Self.magic)
        buffer.writeInteger(self.major)
        buffer.writeInteger(self.minor)
    }

    public var description: String { "\(self.major).\(self.minor)" }
}
