import MeshPKI

/// One in-process CA (the mesh's own development CA, MeshPKI) issuing a server certificate for
/// "localhost"/127.0.0.1 and a client certificate. All three contenders use exactly these PEMs, mutual TLS,
/// and check the server certificate against the name "localhost".
struct BenchmarkCredentials: Sendable {
    static let serverHostname = "localhost"

    let trustRootPEM: String
    let serverCertificatePEM: String
    let serverPrivateKeyPEM: String
    let clientCertificatePEM: String
    let clientPrivateKeyPEM: String

    static func make() throws -> BenchmarkCredentials {
        let authority = try CertificateAuthority.create(commonName: "RPC Benchmark CA")
        // issue() adds the IP SAN 127.0.0.1 itself.
        let server = try authority.issue(commonName: "rpc-benchmark-server", role: .service, dnsNames: [serverHostname])
        let client = try authority.issue(commonName: "rpc-benchmark-client", role: .client, dnsNames: [])
        return BenchmarkCredentials(
            trustRootPEM: authority.certificatePEM,
            serverCertificatePEM: server.certificatePEM,
            serverPrivateKeyPEM: server.privateKeyPEM,
            clientCertificatePEM: client.certificatePEM,
            clientPrivateKeyPEM: client.privateKeyPEM
        )
    }
}

/// Limits set explicitly and equally for every contender.
struct Limits: Sendable {
    /// Largest message (mesh: maxFrameSize; gRPC: max request/response message bytes; raw: max frame).
    var maxMessageBytes = 4 * 1024 * 1024
    /// Flow-control window per stream (mesh: initialWindowSize; gRPC: HTTP/2 target window, both sides).
    var windowBytes = 1024 * 1024
    /// Most concurrent streams on one connection.
    var maxConcurrentStreams = 1024
}
