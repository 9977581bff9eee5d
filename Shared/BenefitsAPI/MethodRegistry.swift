import MeshMessages
import MeshRPC
import MeshWire
import SwiftProtobuf

/// Every method of every mesh service with its message types, so tools can call any of them with JSON
/// (the protobuf JSON mapping) in and out, and list them.
public enum MethodRegistry {
    public struct Entry: Sendable {
        public let method: MethodDescriptor
        public let kind: MethodKind
        public let request: any SwiftProtobuf.Message.Type
        public let response: any SwiftProtobuf.Message.Type
        /// Calls the method: requests as JSON objects, responses as JSON, one per message.
        public let call: @Sendable (MeshClient, [String], CallOptions) async throws -> [String]
    }

    static func entry<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor, _ kind: MethodKind, _ request: Request.Type, _ response: Response.Type
    ) -> Entry {
        Entry(method: method, kind: kind, request: request, response: response) { client, json, options in
            let requests = try json.map { try Request(jsonString: $0) }
            @Sendable func render(_ message: Response) throws -> String { try message.jsonString() }
            switch kind {
            case .unary:
                guard requests.count == 1 else {
                    throw RPCError(.invalidArgument, "\(method) takes one request, got \(requests.count)")
                }
                let response: Response = try await client.unary(method, requests[0], options: options)
                return [try render(response)]
            case .serverStreaming:
                guard requests.count == 1 else {
                    throw RPCError(.invalidArgument, "\(method) takes one request, got \(requests.count)")
                }
                return try await client.serverStreaming(method, requests[0], options: options) {
                    (responses: ResponseStream<Response>) in
                    var out: [String] = []
                    for try await response in responses { out.append(try render(response)) }
                    return out
                }
            case .clientStreaming:
                let response: Response = try await client.clientStreaming(method, options: options) { writer in
                    for request in requests { try await writer.write(request) }
                }
                return [try render(response)]
            case .bidirectional:
                return try await client.bidirectional(
                    method, options: options,
                    requests: { writer in
                        for request in requests { try await writer.write(request) }
                    },
                    responses: { (responses: ResponseStream<Response>) in
                        var out: [String] = []
                        for try await response in responses { out.append(try render(response)) }
                        return out
                    })
            }
        }
    }

    /// The mesh's health check, then every method of the domain's services, from their .proto files
    /// (`Generated/*.mesh.swift`, written by protoc-gen-mesh).
    public static let entries: [Entry] =
        [entry(HealthMethods.check, .unary, Mesh_Rpc_V1_HealthCheckRequest.self, Mesh_Rpc_V1_HealthCheckResponse.self)]
        + CatalogMethods.entries + EligibilityMethods.entries + DisbursementMethods.entries
        + NotificationMethods.entries + GatewayMethods.entries

    /// Finds a method by its full name (`package.Service/Method`) or by `Service/Method`.
    public static func find(_ name: String) -> Entry? {
        self.entries.first { $0.method.fullName == name }
            ?? self.entries.first { $0.method.fullName.hasSuffix("." + name) }
    }
}
