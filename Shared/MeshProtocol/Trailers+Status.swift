import MeshWire

extension Mesh_Rpc_V1_Trailers {
    /// Trailers ending a stream with a status and message (gRPC's code numbers, PROTOCOL.md §8).
    public init(status: RPCStatusCode, message: String) {
        self.init()
        self.code = status.rawValue
        self.message = message
    }
}
