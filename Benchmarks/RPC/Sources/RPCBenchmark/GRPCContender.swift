import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
import MeshMessages
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// The benchmark service for grpc-swift-2, registered by hand (no generated code) with the same protobuf
/// messages as the mesh contender.
struct GRPCEchoService: RegistrableRPCService {
    static let service = ServiceDescriptor(fullyQualifiedService: "mesh.benchmark.v1.Echo")
    static let unary = MethodDescriptor(service: service, method: "Unary", type: .unary)
    static let stream = MethodDescriptor(service: service, method: "Stream", type: .serverStreaming)
    static let peer = MethodDescriptor(service: service, method: "Peer", type: .unary)

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Self.unary,
            deserializer: ProtobufDeserializer<Mesh_Testing_V1_SimpleRequest>(),
            serializer: ProtobufSerializer<Mesh_Testing_V1_SimpleResponse>()
        ) { request, _ in
            let single = try await ServerRequest(stream: request)
            var response = Mesh_Testing_V1_SimpleResponse()
            response.payload = single.message.payload
            return StreamingServerResponse(single: ServerResponse(message: response))
        }
        router.registerHandler(
            forMethod: Self.peer,
            deserializer: ProtobufDeserializer<Mesh_Testing_V1_Empty>(),
            serializer: ProtobufSerializer<Mesh_Testing_V1_SimpleResponse>()
        ) { request, context in
            _ = try await ServerRequest(stream: request)
            var response = Mesh_Testing_V1_SimpleResponse()
            if let certificate = (context.transportSpecific as? HTTP2ServerTransport.Posix.Context)?.peerCertificate {
                response.peerIdentity = "\(certificate.subject)"
            } else {
                response.peerIdentity = "none"
            }
            return StreamingServerResponse(single: ServerResponse(message: response))
        }
        router.registerHandler(
            forMethod: Self.stream,
            deserializer: ProtobufDeserializer<Mesh_Testing_V1_StreamingOutputCallRequest>(),
            serializer: ProtobufSerializer<Mesh_Testing_V1_StreamingOutputCallResponse>()
        ) { request, _ in
            let single = try await ServerRequest(stream: request)
            let parameters = single.message.responseParameters
            return StreamingServerResponse(of: Mesh_Testing_V1_StreamingOutputCallResponse.self) { writer in
                var cache = StreamResponses()
                for entry in parameters {
                    try await writer.write(cache.response(size: Int(entry.size)))
                }
                return [:]
            }
        }
    }
}

/// grpc-swift-2 over grpc-swift-nio-transport (HTTP/2 on NIOPosix, `.http2NIOPosix`), mutual TLS.
final class GRPCContender: Contender {
    let name = "grpc"
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let serverTask: Task<Void, any Error>
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let clientTask: Task<Void, any Error>
    private let options: CallOptions
    private let clientChannel: NIOLockedValueBox<(any Channel)?>

    private init(
        server: GRPCServer<HTTP2ServerTransport.Posix>, serverTask: Task<Void, any Error>,
        client: GRPCClient<HTTP2ClientTransport.Posix>, clientTask: Task<Void, any Error>,
        options: CallOptions, clientChannel: NIOLockedValueBox<(any Channel)?>
    ) {
        self.server = server
        self.serverTask = serverTask
        self.client = client
        self.clientTask = clientTask
        self.options = options
        self.clientChannel = clientChannel
    }

    /// - Parameters:
    ///   - equalWindows: give HTTP/2 the mesh's per-stream window on both sides (otherwise gRPC's defaults:
    ///     64 KiB - 1 on the server, 8 MiB on the client).
    ///   - flushCoalescing: gRPC's default (since transport 2.8) delays flushes by up to 100 µs to batch them.
    static func start(credentials: BenchmarkCredentials, limits: Limits, equalWindows: Bool, flushCoalescing: Bool)
        async throws -> GRPCContender
    {
        func certificate(_ pem: String) -> TLSConfig.CertificateSource { .bytes(Array(pem.utf8), format: .pem) }
        func privateKey(_ pem: String) -> TLSConfig.PrivateKeySource { .bytes(Array(pem.utf8), format: .pem) }

        var serverConfig = HTTP2ServerTransport.Posix.Config.defaults
        serverConfig.rpc.maxRequestPayloadSize = limits.maxMessageBytes
        serverConfig.http2.maxConcurrentStreams = limits.maxConcurrentStreams
        if equalWindows { serverConfig.http2.targetWindowSize = limits.windowBytes }
        if !flushCoalescing { serverConfig.connection.flushCoalescing = nil }
        let serverTransport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: 0),
            transportSecurity: .mTLS(
                certificateChain: [certificate(credentials.serverCertificatePEM)],
                privateKey: privateKey(credentials.serverPrivateKeyPEM)
            ) { tls in
                tls.trustRoots = .certificates([certificate(credentials.trustRootPEM)])
                tls.clientCertificateVerification = .noHostnameVerification
            },
            config: serverConfig
        )
        let server = GRPCServer(transport: serverTransport, services: [GRPCEchoService()])
        let serverTask = Task { try await server.serve() }
        guard let port = try await server.listeningAddress?.ipv4?.port else {
            throw BenchmarkError("the gRPC server has no IPv4 listening address")
        }

        var clientConfig = HTTP2ClientTransport.Posix.Config.defaults
        clientConfig.http2.authority = BenchmarkCredentials.serverHostname
        if equalWindows { clientConfig.http2.targetWindowSize = limits.windowBytes }
        if !flushCoalescing { clientConfig.connection.flushCoalescing = nil }
        let clientChannel = NIOLockedValueBox<(any Channel)?>(nil)
        clientConfig.channelDebuggingCallbacks.onCreateTCPConnection = { channel in
            clientChannel.withLockedValue { $0 = channel }
            return channel.eventLoop.makeSucceededVoidFuture()
        }
        let clientTransport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port),
            transportSecurity: .mTLS(
                certificateChain: [certificate(credentials.clientCertificatePEM)],
                privateKey: privateKey(credentials.clientPrivateKeyPEM)
            ) { tls in
                tls.trustRoots = .certificates([certificate(credentials.trustRootPEM)])
                tls.serverCertificateVerification = .fullVerification
            },
            config: clientConfig
        )
        let client = GRPCClient(transport: clientTransport)
        let clientTask = Task { try await client.runConnections() }

        var options = CallOptions.defaults
        options.maxRequestMessageBytes = limits.maxMessageBytes
        options.maxResponseMessageBytes = limits.maxMessageBytes
        return GRPCContender(
            server: server, serverTask: serverTask, client: client, clientTask: clientTask, options: options,
            clientChannel: clientChannel)
    }

    func security() async throws -> String {
        let response = try await self.client.unary(
            request: ClientRequest(message: Mesh_Testing_V1_Empty()),
            descriptor: GRPCEchoService.peer,
            serializer: ProtobufSerializer<Mesh_Testing_V1_Empty>(),
            deserializer: ProtobufDeserializer<Mesh_Testing_V1_SimpleResponse>(),
            options: self.options
        ) { try $0.message }
        var version = "unknown"
        if let channel = self.clientChannel.withLockedValue({ $0 }),
            let negotiated = try await channel.nioSSL_tlsVersion().get()
        {
            version = "\(negotiated)"
        }
        return "server saw client \(response.peerIdentity); TLS version \(version)"
    }

    func unaryCall(size: Int) -> @Sendable () async throws -> Void {
        let request = ClientRequest(message: EchoRequests.simple(size: size))
        let client = self.client
        let options = self.options
        return {
            let response = try await client.unary(
                request: request,
                descriptor: GRPCEchoService.unary,
                serializer: ProtobufSerializer<Mesh_Testing_V1_SimpleRequest>(),
                deserializer: ProtobufDeserializer<Mesh_Testing_V1_SimpleResponse>(),
                options: options
            ) { try $0.message }
            guard response.payload.body.count == size else {
                throw BenchmarkError("grpc echoed \(response.payload.body.count) bytes, not \(size)")
            }
        }
    }

    func streamCall(count: Int, size: Int) -> @Sendable () async throws -> StreamResult {
        let request = ClientRequest(message: EchoRequests.streaming(count: count, size: size))
        let client = self.client
        let options = self.options
        return {
            let start = nowNanoseconds()
            let result = try await client.serverStreaming(
                request: request,
                descriptor: GRPCEchoService.stream,
                serializer: ProtobufSerializer<Mesh_Testing_V1_StreamingOutputCallRequest>(),
                deserializer: ProtobufDeserializer<Mesh_Testing_V1_StreamingOutputCallResponse>(),
                options: options
            ) { response in
                var gaps = makeHistogram()
                var messages = 0
                var last = start
                for try await message in response.messages {
                    let now = nowNanoseconds()
                    gaps.record(now - last)
                    last = now
                    messages += 1
                    guard message.payload.body.count == size else {
                        throw BenchmarkError("grpc streamed \(message.payload.body.count) bytes, not \(size)")
                    }
                }
                return StreamResult(messages: messages, gaps: gaps)
            }
            guard result.messages == count else {
                throw BenchmarkError("grpc streamed \(result.messages) messages, not \(count)")
            }
            return result
        }
    }

    func shutdown() async {
        self.client.beginGracefulShutdown()
        _ = try? await self.clientTask.value
        self.server.beginGracefulShutdown()
        _ = try? await self.serverTask.value
    }
}
