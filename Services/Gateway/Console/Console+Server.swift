import GatewayHTTP
import Hummingbird
import HummingbirdHTTP2
import Logging
import MeshTransport
import NIOCore
import NIOSSL

extension Console {
    /// The TLS 1.2 suites the console offers (TLS 1.3's are all AEAD already).
    static let tls12CipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// The console over TLS with the gateway's certificate. Browsers bring no client certificate: people
    /// are identified by their session, and act only through the gateway's own authorization.
    public func application(
        host: String, port: Int, tls: MeshTLSConfiguration, logger: Logger,
        limits: ConnectionLimits = .init(), open: ConnectionCount = .init(),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        var tlsConfiguration = try tls.serverTLSConfiguration(minimumVersion: .tlsv12)
        tlsConfiguration.certificateVerification = .none
        // TLS 1.2 stays for browsers, with forward-secret AEAD suites only (no CBC, no SHA-1 MACs).
        tlsConfiguration.cipherSuites = Self.tls12CipherSuites
        return Application(
            router: self.router(),
            server: .guarded(tlsConfiguration: tlsConfiguration, limits: limits, open: open),
            configuration: .init(address: .hostname(host, port: port), serverName: "jiaxing-console"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }
}
