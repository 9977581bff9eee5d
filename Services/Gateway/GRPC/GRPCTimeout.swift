/// The `grpc-timeout` header: at most eight digits and a unit (H, M, S, m, u, n), as the gRPC over HTTP/2
/// specification writes it.
enum GRPCTimeout {
    /// The timeout in microseconds (at least 1 for any timeout written, so a tiny one still expires), or nil
    /// when the header is absent or malformed (a malformed one is ignored, as gRPC's own servers do).
    static func microseconds(_ header: String?) -> UInt64? {
        guard let header, let unit = header.last, header.count >= 2, header.count <= 9 else { return nil }
        guard let value = UInt64(header.dropLast()) else { return nil }
        let micros: UInt64
        switch unit {
        case "H": micros = value.multipliedReportingOverflow(by: 3_600_000_000).partialValue
        case "M": micros = value.multipliedReportingOverflow(by: 60_000_000).partialValue
        case "S": micros = value * 1_000_000
        case "m": micros = value * 1_000
        case "u": micros = value
        case "n": micros = value / 1_000
        default: return nil
        }
        return max(1, micros)
    }
}
