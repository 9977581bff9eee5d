import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import MeshRPC
import MeshTransport
import NIOCore
import NIOSSL

extension GatewayHTTP {
    /// The HTTP face as a service of the gateway's service group: HTTP/2 where the client offers it (ALPN),
    /// HTTP/1.1 otherwise, over TLS that requires a client certificate from the mesh CA.
    /// - Parameter onListening: told the port once the server listens (tests pass port 0).
    public static func application(
        host: String, port: Int, tls: MeshTLSConfiguration, gateway: MeshClient, logger: Logger,
        limits: ConnectionLimits = .init(), open: ConnectionCount = .init(),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        // Mutual TLS for county systems, as on the mesh port: TLS 1.3 only (no CBC or SHA-1 suites).
        let tlsConfiguration = try tls.serverTLSConfiguration(minimumVersion: .tlsv13)
        return Application(
            router: Self.router(gateway: gateway),
            server: .guarded(tlsConfiguration: tlsConfiguration, limits: limits, open: open),
            configuration: .init(address: .hostname(host, port: port), serverName: "jiaxing-gateway"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }
}

extension HTTPServerBuilder {
    /// HTTP/2 where the client offers it, HTTP/1.1 otherwise, over TLS, within `limits`.
    public static func guarded(
        tlsConfiguration: TLSConfiguration, limits: ConnectionLimits, open: ConnectionCount
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            GuardedChildChannel(
                try HTTP2UpgradeChannel(
                    tlsConfiguration: tlsConfiguration,
                    configuration: .init(
                        idleTimeout: limits.idleTimeout,
                        streamConfiguration: .init(idleTimeout: TimeAmount(limits.idleTimeout))),
                    responder: responder),
                limits: limits, open: open)
        }
    }
}
