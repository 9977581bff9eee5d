import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Posts one webhook over HTTPS (HTTP/1.1) and returns the response status. One connection per request:
/// webhook traffic is low and each county's endpoint differs. The receiver's certificate is verified against
/// the system's trust roots plus any the operator adds (a county's own CA, or the mesh CA on a test machine).
public struct WebhookClient: Sendable {
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

        /// The name the certificate must carry; nil for an IP address, which is checked against the address.
        var serverHostname: String? {
            self.host.allSatisfy { $0.isNumber || $0 == "." } ? nil : self.host
        }
    }

    let context: NIOSSLContext
    /// Which addresses webhooks may reach.
    public let addresses: WebhookAddressPolicy

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
        self.context = try NIOSSLContext(configuration: configuration)
    }

    public func post(_ endpoint: Endpoint, headers: [(String, String)], body: [UInt8], timeout: Duration) async throws
        -> Int
    {
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask { try await self.send(endpoint, headers: headers, body: body) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw Failure(description: "no answer within \(timeout)")
            }
            let status = try await group.next()!
            group.cancelAll()
            return status
        }
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

    private func send(_ endpoint: Endpoint, headers: [(String, String)], body: [UInt8]) async throws -> Int {
        let context = self.context
        // The address is checked, then connected to as checked: a name re-pointed in between is not followed.
        let address = try await Self.resolve(endpoint)
        if let refusal = self.addresses.refusal(host: endpoint.host, address: address) {
            throw Failure(description: refusal)
        }
        // A failure names its stage, so a dead letter's last error says where the exchange broke.
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(5))
                .connect(to: address) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: context, serverHostname: endpoint.serverHostname))
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Failure(description: "connecting to \(address): \(error)")
        }
        do {
            return try await Self.exchange(channel, endpoint, headers: headers, body: body)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "exchanging with \(address) (TLS, request or response): \(error)")
        }
    }

    private static func exchange(
        _ channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>, _ endpoint: Endpoint,
        headers: [(String, String)], body: [UInt8]
    ) async throws -> Int {
        try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.path)
            head.headers.add(
                name: "Host", value: endpoint.port == 443 ? endpoint.host : "\(endpoint.host):\(endpoint.port)")
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: "\(body.count)")
            head.headers.add(name: "Connection", value: "close")
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            // One write: with Content-Length the endpoint has the whole request once the body's bytes arrive and
            // may answer and close at once; a separate write of the (empty) end after that would fail on the
            // closed channel and count a delivered webhook as failed.
            try await outbound.write(
                contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil)])
            var status: Int?
            for try await part in inbound {
                switch part {
                case .head(let response): status = Int(response.status.code)
                case .body: continue
                case .end: return status ?? 0
                }
            }
            guard let status else { throw Failure(description: "the endpoint closed without a response") }
            return status
        }
    }
}
