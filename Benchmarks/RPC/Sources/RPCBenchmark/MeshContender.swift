import Foundation
import Logging
import MeshMessages
import MeshProtocol
import MeshRPC
import MeshTransport
import ServiceLifecycle

/// The methods of the benchmark service, in mesh terms. The messages are the interop ones of
/// `mesh/testing/v1/interop.proto`, shared with the gRPC contender.
enum MeshEcho {
    static let service = "mesh.benchmark.v1.Echo"
    /// SimpleRequest → SimpleResponse carrying the request's payload back.
    static let unary = MethodDescriptor(service: service, method: "Unary")
    /// StreamingOutputCallRequest → one StreamingOutputCallResponse per ResponseParameters entry.
    static let stream = MethodDescriptor(service: service, method: "Stream")
    /// Empty → SimpleResponse naming the client the server saw.
    static let peer = MethodDescriptor(service: service, method: "Peer")

    static func router() -> RPCRouter {
        var router = RPCRouter()
        router.unary(Self.unary) { (request: Mesh_Testing_V1_SimpleRequest, _) in
            var response = Mesh_Testing_V1_SimpleResponse()
            response.payload = request.payload
            return response
        }
        router.unary(Self.peer) { (_: Mesh_Testing_V1_Empty, context) in
            var response = Mesh_Testing_V1_SimpleResponse()
            response.peerIdentity = context.peer?.description ?? "none"
            return response
        }
        router.serverStreaming(Self.stream) {
            (
                request: Mesh_Testing_V1_StreamingOutputCallRequest,
                writer: ResponseWriter<Mesh_Testing_V1_StreamingOutputCallResponse>, _
            ) in
            var cache = StreamResponses()
            for parameters in request.responseParameters {
                try await writer.write(cache.response(size: Int(parameters.size)))
            }
        }
        return router
    }
}

/// The response of the last size asked for, so a stream of equal messages builds its payload once (the same
/// for the gRPC contender).
struct StreamResponses {
    private var size = -1
    private var cached = Mesh_Testing_V1_StreamingOutputCallResponse()

    mutating func response(size: Int) -> Mesh_Testing_V1_StreamingOutputCallResponse {
        if size != self.size {
            self.size = size
            self.cached.payload.body = Data(repeating: 7, count: size)
        }
        return self.cached
    }
}

enum EchoRequests {
    static func simple(size: Int) -> Mesh_Testing_V1_SimpleRequest {
        var request = Mesh_Testing_V1_SimpleRequest()
        request.responseSize = Int32(size)
        request.payload.body = Data(repeating: 7, count: size)
        return request
    }

    static func streaming(count: Int, size: Int) -> Mesh_Testing_V1_StreamingOutputCallRequest {
        var parameters = Mesh_Testing_V1_ResponseParameters()
        parameters.size = Int32(size)
        var request = Mesh_Testing_V1_StreamingOutputCallRequest()
        request.responseParameters = Array(repeating: parameters, count: count)
        return request
    }
}

/// Our mesh protocol: MeshServer and MeshClient of MeshRPC over MeshTransport.
final class MeshContender: Contender {
    let name = "mesh"
    private let server: MeshServer
    private let group: ServiceGroup
    private let serverTask: Task<Void, any Error>
    private let client: MeshClient

    private init(server: MeshServer, group: ServiceGroup, serverTask: Task<Void, any Error>, client: MeshClient) {
        self.server = server
        self.group = group
        self.serverTask = serverTask
        self.client = client
    }

    static func start(credentials: BenchmarkCredentials, limits: Limits) async throws -> MeshContender {
        var logger = Logger(label: "rpc-benchmark.mesh")
        logger.logLevel = .error
        let transport = MeshTransportConfiguration(
            settings: ConnectionSettings(
                maxFrameSize: limits.maxMessageBytes,
                maxConcurrentStreams: limits.maxConcurrentStreams,
                initialWindowSize: limits.windowBytes
            )
        )
        let serverTLS = MeshTLSConfiguration(
            certificateChainPEM: credentials.serverCertificatePEM, privateKeyPEM: credentials.serverPrivateKeyPEM,
            trustRootsPEM: credentials.trustRootPEM
        )
        let server = MeshServer(
            configuration: .init(
                host: "127.0.0.1", port: 0, tls: serverTLS, transport: transport, drainGracePeriod: .seconds(2),
                serverName: "rpc-benchmark"),
            router: MeshEcho.router(), logger: logger
        )
        let group = ServiceGroup(
            services: [server], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        let serverTask = Task { try await group.run() }
        let port = try await server.boundPort()

        let clientTLS = MeshTLSConfiguration(
            certificateChainPEM: credentials.clientCertificatePEM, privateKeyPEM: credentials.clientPrivateKeyPEM,
            trustRootsPEM: credentials.trustRootPEM, serverHostname: BenchmarkCredentials.serverHostname
        )
        let client = MeshClient(
            configuration: .init(host: "127.0.0.1", port: port, tls: clientTLS, transport: transport), logger: logger)
        return MeshContender(server: server, group: group, serverTask: serverTask, client: client)
    }

    func security() async throws -> String {
        let response: Mesh_Testing_V1_SimpleResponse = try await self.client.unary(
            MeshEcho.peer, Mesh_Testing_V1_Empty())
        return "server saw client \(response.peerIdentity); TLS 1.3 (the mesh's minimum version)"
    }

    func unaryCall(size: Int) -> @Sendable () async throws -> Void {
        let request = EchoRequests.simple(size: size)
        let client = self.client
        return {
            let response: Mesh_Testing_V1_SimpleResponse = try await client.unary(MeshEcho.unary, request)
            guard response.payload.body.count == size else {
                throw BenchmarkError("mesh echoed \(response.payload.body.count) bytes, not \(size)")
            }
        }
    }

    func streamCall(count: Int, size: Int) -> @Sendable () async throws -> StreamResult {
        let request = EchoRequests.streaming(count: count, size: size)
        let client = self.client
        return {
            let start = nowNanoseconds()
            let result = try await client.serverStreaming(MeshEcho.stream, request) {
                (responses: ResponseStream<Mesh_Testing_V1_StreamingOutputCallResponse>) in
                var gaps = makeHistogram()
                var messages = 0
                var last = start
                for try await response in responses {
                    let now = nowNanoseconds()
                    gaps.record(now - last)
                    last = now
                    messages += 1
                    guard response.payload.body.count == size else {
                        throw BenchmarkError("mesh streamed \(response.payload.body.count) bytes, not \(size)")
                    }
                }
                return StreamResult(messages: messages, gaps: gaps)
            }
            guard result.messages == count else {
                throw BenchmarkError("mesh streamed \(result.messages) messages, not \(count)")
            }
            return result
        }
    }

    func shutdown() async {
        await self.client.close()
        await self.group.triggerGracefulShutdown()
        _ = try? await self.serverTask.value
    }
}
