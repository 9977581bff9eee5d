/// The gRPC face could not do what was asked of it (tell its port before it listens on one).
struct GRPCFaceError: Error, CustomStringConvertible {
    let message: String
    var description: String { self.message }
}
