/// The TLS material and policy of one side of a mesh connection, as plain values (PEM text).
///
/// Always TLS 1.3. A server always asks for a client certificate and accepts only those signed by
/// `trustRootsPEM` (mutual TLS); a client checks that the server's certificate names `serverHostname`.
public struct MeshTLSConfiguration: Sendable {
    public var certificateChainPEM: String
    public var privateKeyPEM: String
    /// The mesh CA certificate(s) to trust.
    public var trustRootsPEM: String
    /// Client side: the name the server's certificate must carry (a DNS SAN). nil skips the hostname check
    /// (the chain is still verified against the mesh CA).
    public var serverHostname: String?
    /// How long a closing connection waits for the peer's close_notify before it drops the connection.
    public var closeTimeout: Duration

    public init(
        certificateChainPEM: String, privateKeyPEM: String, trustRootsPEM: String, serverHostname: String? = nil,
        closeTimeout: Duration = .seconds(5)
    ) {
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
        self.trustRootsPEM = trustRootsPEM
        self.serverHostname = serverHostname
        self.closeTimeout = closeTimeout
    }
}
