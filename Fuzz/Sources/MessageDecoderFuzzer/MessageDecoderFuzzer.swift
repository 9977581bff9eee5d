import MeshMessages
import MeshWire
import SwiftProtobuf

/// Feeds arbitrary bytes to the protobuf decoders of the messages a server accepts from the wire (the first
/// byte picks which), and re-encodes whatever decodes: neither may crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let payload = Array(bytes.dropFirst())
    let types: [any SwiftProtobuf.Message.Type] = [
        Mesh_Rpc_V1_RequestHead.self, Mesh_Rpc_V1_Trailers.self, Jiaxing_Benefits_V1_ScreenRequest.self,
        Jiaxing_Benefits_V1_ProposePayoutRequest.self, Jiaxing_Benefits_V1_DecideRequest.self,
        Jiaxing_Benefits_V1_RegisterWebhookRequest.self, Jiaxing_Benefits_V1_SubscribeRequest.self,
        Jiaxing_Benefits_V1_DisbursementEvent.self,
    ]
    let type = types[Int(bytes[0]) % types.count]
    if let message = try? type.init(serializedBytes: payload) {
        _ = try? message.serializedBytes() as [UInt8]
        _ = try? message.jsonString()
    }
    return 0
}
