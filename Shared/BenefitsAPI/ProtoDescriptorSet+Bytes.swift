import Foundation

extension ProtoDescriptorSet {
    /// The serialized FileDescriptorSet (`protoc --descriptor_set_out`'s bytes), decoded once.
    public static let bytes: Data = {
        guard let data = Data(base64Encoded: Self.base64.split(separator: "\n").joined()) else {
            preconditionFailure("ProtoDescriptorSet.base64 is not base64: run scripts/generate-protos.sh")
        }
        return data
    }()
}
