import GRPCCore
import NIOCore

/// Passes a message's bytes through untouched: the mesh server decodes and encodes them as its handlers
/// always do, so the gRPC face adds no second copy of the messages' types.
///
/// A request message over `limit` is refused here, as `RESOURCE_EXHAUSTED` naming the size and the limit,
/// like the mesh protocol's own refusal; the transport (which resets the stream without a status when its
/// own cap is passed) is given a higher cap, `GRPCFace.transportCap(for:)`.
struct ByteBufferCoding: MessageSerializer, MessageDeserializer {
    var limit: Int = .max

    func serialize<Bytes: GRPCContiguousBytes>(_ message: ByteBuffer) throws -> Bytes {
        Bytes(message.readableBytesView)
    }

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> ByteBuffer {
        guard serializedMessageBytes.count <= self.limit else {
            // gRPC's own error, so every service of the port answers it as this status (the bridged routes pass
            // it to the mesh handler as the same code).
            throw GRPCCore.RPCError(
                code: .resourceExhausted,
                message:
                    "request message of \(serializedMessageBytes.count) bytes exceeds the limit of \(self.limit) bytes")
        }
        return serializedMessageBytes.withUnsafeBytes { ByteBuffer(bytes: $0) }
    }
}
