import NIOCore
import NIOSSL

/// The one place where the mesh's TLS policy becomes NIOSSL configuration.
extension MeshTLSConfiguration {
    func makeServerContext() throws -> NIOSSLContext {
        try NIOSSLContext(configuration: self.serverTLSConfiguration())
    }

    /// Server side: this party's certificate, and a client certificate from the trusted CA required. Other
    /// TLS servers of the mesh (the gateway's HTTP face) start from the same policy.
    public func serverTLSConfiguration(minimumVersion: TLSVersion = .tlsv13) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try Self.certificates(self.certificateChainPEM).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(self.privateKeyPEM.utf8), format: .pem))
        )
        configuration.minimumTLSVersion = minimumVersion
        configuration.trustRoots = .certificates(try Self.certificates(self.trustRootsPEM))
        // Clients are identified by their certificate, not by a host name.
        configuration.certificateVerification = .noHostnameVerification
        configuration.shutdownTimeout = TimeAmount(self.closeTimeout)
        return configuration
    }

    func makeClientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.certificateChain = try Self.certificates(self.certificateChainPEM).map { .certificate($0) }
        configuration.privateKey = .privateKey(
            try NIOSSLPrivateKey(bytes: Array(self.privateKeyPEM.utf8), format: .pem))
        configuration.trustRoots = .certificates(try Self.certificates(self.trustRootsPEM))
        configuration.certificateVerification = self.serverHostname == nil ? .noHostnameVerification : .fullVerification
        configuration.shutdownTimeout = TimeAmount(self.closeTimeout)
        return try NIOSSLContext(configuration: configuration)
    }

    private static func certificates(_ pem: String) throws -> [NIOSSLCertificate] {
        try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
    }
}
