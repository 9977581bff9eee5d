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

    /// The pool's protection.
    func configuration() throws -> PostgresClientTLS {
        try self.tlsConfiguration().map { .require($0) } ?? .disable
    }

    /// The same protection for a single connection (`PostgresDatabase.check`).
    func connectionConfiguration() throws -> PostgresConnection.Configuration.TLS {
        try self.tlsConfiguration().map { .require(try NIOSSLContext(configuration: $0)) } ?? .disable
    }

    /// TLS as the mode asks; nil for none.
    private func tlsConfiguration() throws -> TLSConfiguration? {
        switch self {
        case .disable:
            return nil
        case .require:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            return tls
        case .verifyFull(let roots):
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .fullVerification
            if let roots {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(roots.utf8)))
            }
            return tls
        }
    }
}
