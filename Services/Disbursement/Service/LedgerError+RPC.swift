import Ledger
import MeshRPC

extension LedgerError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self.kind {
        case .invalidArgument: return RPCError(.invalidArgument, self.message)
        case .notFound: return RPCError(.notFound, self.message)
        case .alreadyExists: return RPCError(.alreadyExists, self.message)
        case .failedPrecondition: return RPCError(.failedPrecondition, self.message)
        case .permissionDenied: return RPCError(.permissionDenied, self.message)
        case .unavailable: return RPCError(.unavailable, self.message)
        }
    }
}
