import NIOCore
import NIOHTTP1
import NIOPosix

/// Posts one webhook over HTTP/1.1 and returns the response status. One connection per request: webhook
/// traffic is low and each county's endpoint differs.
public enum WebhookClient {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Endpoint: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var path: String

        /// Parses `http://host:port/path`.
        public init?(_ url: String) {
            guard url.hasPrefix("http://") else { return nil }
            let rest = url.dropFirst(7)
            let hostPort = rest.prefix { $0 != "/" }
            let path = rest.dropFirst(hostPort.count)
            let parts = hostPort.split(separator: ":")
            guard parts.count <= 2, let host = parts.first, !host.isEmpty else { return nil }
            let port = parts.count == 2 ? Int(parts[1]) : 80
            guard let port, (1...65535).contains(port) else { return nil }
            self.host = String(host)
            self.port = port
            self.path = path.isEmpty ? "/" : String(path)
        }
    }

    public static func post(_ endpoint: Endpoint, headers: [(String, String)], body: [UInt8], timeout: Duration) async throws -> Int {
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

    private static func send(_ endpoint: Endpoint, headers: [(String, String)], body: [UInt8]) async throws -> Int {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.path)
            head.headers.add(name: "Host", value: "\(endpoint.host):\(endpoint.port)")
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: "\(body.count)")
            head.headers.add(name: "Connection", value: "close")
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            try await outbound.write(.head(head))
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
            try await outbound.write(.end(nil))
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
