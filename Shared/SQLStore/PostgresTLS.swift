import NIOSSL
import PostgresNIO

typealias PostgresClientTLS = PostgresClient.Configuration.TLS

/// How a connection to PostgreSQL is protected, as libpq's `sslmode` names it: `disable` (loopback only, as
/// the tests' throwaway server), `require` (encrypted, the server's certificate not checked) or `verifyFull`
/// (encrypted, the certificate checked against `rootCertificatesPEM` and the host name): the ledger's
/// amounts and the register's facts do not cross a network in clear.
public enum PostgresTLS: Sendable, Hashable {
    case disable
    case require
    case verifyFull(rootCertificatesPEM: String?)

    func configuration() throws -> PostgresClientTLS {
        switch self {
        case .disable:
            return .disable
        case .require:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            return .require(tls)
        case .verifyFull(let roots):
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .fullVerification
            if let roots {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(roots.utf8)))
            }
            return .require(tls)
        }
    }
}
