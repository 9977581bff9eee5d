import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Posts webhooks over HTTPS and returns the response status. Connections are kept and reused
/// (async-http-client's pool: HTTP/1.1 keep-alive, or HTTP/2 where the endpoint offers it), one pool per
/// endpoint host and the address it was checked at: a campaign's notices go to a few county endpoints, and a
/// TLS handshake per notice was half of notification's time. The receiver's certificate is verified against
/// the system's trust roots plus any the operator adds (a county's own CA, or the mesh CA on a test machine).
/// Redirects are not followed (a webhook goes where it was registered, checked).
///
/// `shutdown()` closes the pools; it is due before the client is dropped.
public final class WebhookClient: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Where a webhook goes: `https://host[:port]/path`. Plain `http://` is refused: notices name enterprises
    /// and amounts of public money.
    public struct Endpoint: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var path: String

        public init?(_ url: String) {
            guard url.hasPrefix("https://") else { return nil }
            let rest = url.dropFirst(8)
            let hostPort = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            let path = rest.dropFirst(hostPort.count)
            let parts = hostPort.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, let host = parts.first, !host.isEmpty,
                host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
            else { return nil }
            let port = parts.count == 2 ? Int(parts[1]) : 443
            guard let port, (1...65535).contains(port), !path.contains(where: { $0 == " " || $0 == "#" }) else {
                return nil
            }
            self.host = String(host)
            self.port = port
            self.path = path.isEmpty ? "/" : String(path)
        }

        /// The endpoint as a URL, for the HTTP client.
        var url: String { "https://\(self.host):\(self.port)\(self.path)" }

        /// The name the certificate must carry; nil for an IP address, which is checked against the address.
        var serverHostname: String? {
            self.host.allSatisfy { $0.isNumber || $0 == "." } ? nil : self.host
        }
    }

    let tls: TLSConfiguration
    /// Which addresses webhooks may reach.
    public let addresses: WebhookAddressPolicy
    /// The pools by endpoint host, port and the address the policy checked; a name that resolves to several
    /// addresses (round-robin) has a pool for each, and none is closed while others are used.
    private let pools: Mutex<(byTarget: [String: Pool], shutDown: Bool)>
    /// Pools kept at most; beyond, the least recently used is closed (a county registers one endpoint).
    static let maximumPools = 64
    /// Connections to one endpoint address at most: a pass's deliveries (`Notifier.deliveriesPerPass`) wait
    /// for one at most once, inside their deadline.
    static let connectionsPerEndpoint = 32
    /// The most of an answer's body read: an endpoint answers with its status; the body is read (and
    /// dropped) only so that the connection can be used again.
    static let maximumAnswer = 64 * 1024

    final class Pool: Sendable {
        let client: HTTPClient
        let lastUsed: Mutex<ContinuousClock.Instant>

        init(client: HTTPClient) {
            self.client = client
            self.lastUsed = Mutex(.now)
        }
    }

    /// `additionalTrustRootsPEM`: certificates trusted besides the system's, in PEM.
    public init(additionalTrustRootsPEM: String? = nil, addresses: WebhookAddressPolicy = .init()) throws {
        self.addresses = addresses
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let additionalTrustRootsPEM {
            configuration.additionalTrustRoots = [
                .certificates(try NIOSSLCertificate.fromPEMBytes(Array(additionalTrustRootsPEM.utf8)))
            ]
        }
        self.tls = configuration
        self.pools = Mutex(([:], false))
    }

    public func post(_ endpoint: Endpoint, headers: [(String, String)], body: [UInt8], timeout: Duration) async throws
        -> Int
    {
        // The address is checked, then connected to as checked: a name re-pointed in between is not followed.
        let address = try await Self.resolve(endpoint)
        if let refusal = self.addresses.refusal(host: endpoint.host, address: address) {
            throw Failure(description: refusal)
        }
        guard let ip = address.ipAddress else { throw Failure(description: "\(address) has no IP address") }
        let client = try await self.client(for: endpoint, at: ip)
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        // A failure names its stage, so a dead letter's last error says where the exchange broke.
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout / .nanoseconds(1))))
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw Failure(description: "no answer within \(timeout)")
        } catch {
            throw Failure(
                description: "exchanging with \(ip):\(endpoint.port) (connection, TLS, request or response): \(error)")
        }
        // The status is the answer; a body too long or cut off does not undo a delivery.
        _ = try? await response.body.collect(upTo: Self.maximumAnswer)
        return Int(response.status.code)
    }

    /// The pool for `endpoint` connecting to `ip`, made on first use. Past `maximumPools`, the least recently
    /// used pool is closed (its calls fail and are retried later).
    private func client(for endpoint: Endpoint, at ip: String) async throws -> HTTPClient {
        let key = "\(endpoint.host.lowercased()):\(endpoint.port)|\(ip)"
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: self.tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5)))
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: Self.connectionsPerEndpoint)
        configuration.decompression = .disabled
        // Anything but an IP address as written is a name: it is connected to at the address checked, and
        // its certificate checked against the name.
        if (try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port)) == nil {
            // Both spellings, as one key when they are the same (a literal with the key twice traps).
            var overrides = [endpoint.host.lowercased(): ip]
            overrides[endpoint.host] = ip
            configuration.dnsOverride = overrides
        }
        let (client, retired): (HTTPClient?, HTTPClient?) = self.pools.withLock { pools in
            if pools.shutDown { return (nil, nil) }
            if let kept = pools.byTarget[key] {
                kept.lastUsed.withLock { $0 = .now }
                return (kept.client, nil)
            }
            var retired: HTTPClient?
            if pools.byTarget.count >= Self.maximumPools,
                let oldest = pools.byTarget.min(by: {
                    $0.value.lastUsed.withLock { $0 } < $1.value.lastUsed.withLock { $0 }
                })
            {
                pools.byTarget.removeValue(forKey: oldest.key)
                retired = oldest.value.client
            }
            let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
            pools.byTarget[key] = Pool(client: client)
            return (client, retired)
        }
        if let retired { try? await retired.shutdown() }
        guard let client else { throw Failure(description: "the webhook client is shut down") }
        return client
    }

    /// Closes every pool; later posts fail.
    public func shutdown() async {
        let clients = self.pools.withLock { pools -> [HTTPClient] in
            pools.shutDown = true
            defer { pools.byTarget = [:] }
            return pools.byTarget.values.map(\.client)
        }
        for client in clients { try? await client.shutdown() }
    }

    /// The address `endpoint` names now: its IP address as written, or what its name resolves to.
    public static func resolve(_ endpoint: Endpoint) async throws -> SocketAddress {
        if let literal = try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port) { return literal }
        return try await NIOThreadPool.singleton.runIfActive {
            try SocketAddress.makeAddressResolvingHost(endpoint.host, port: endpoint.port)
        }
    }

    /// Why a webhook may not go to `endpoint` as it resolves now; nil when it may.
    public func refusal(_ endpoint: Endpoint) async throws -> String? {
        self.addresses.refusal(host: endpoint.host, address: try await Self.resolve(endpoint))
    }
}
