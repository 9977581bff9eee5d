import MeshProtocol
import NIOCore
import SwiftProtobuf

extension SwiftProtobuf.Message {
    /// Serialized bytes in a buffer, ready for a MESSAGE frame.
    func byteBuffer() throws -> ByteBuffer {
        let bytes: [UInt8] = try self.serializedBytes()
        return ByteBuffer(bytes: bytes)
    }

    /// Decodes a message, turning a malformed one into `invalidArgument` (server) or `internal` (client).
    static func decode(_ buffer: ByteBuffer, code: RPCStatusCode) throws -> Self {
        do {
            return try buffer.withUnsafeReadableBytes { try Self(serializedBytes: $0) }
        } catch {
            throw RPCError(code, "message is not a valid \(Self.protoMessageName): \(error)", cause: error)
        }
    }
}
