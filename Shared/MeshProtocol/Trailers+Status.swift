import MeshMessages

extension Mesh_Rpc_V1_Trailers {
    /// Trailers ending a stream with a status code and message (gRPC code numbers).
    public init(code: UInt32, message: String) {
        self.init()
        self.code = code
        self.message = message
    }
}
