import MeshProtocol

extension RPCStatusCode {
    /// A status that is the server's failure rather than the caller's request: its server span is an error
    /// (OpenTelemetry's conventions for RPC spans). A refusal of a bad request is the server doing its job.
    var isServerFault: Bool {
        switch self {
        case .unknown, .deadlineExceeded, .unimplemented, .internal, .unavailable, .dataLoss: true
        default: false
        }
    }
}
