import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GatewayGRPC
import MeshMessages
import MeshProtocol
import MeshRPC
import MeshTestSupport
import MeshTransport
import MeshWire
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import SwiftProtobuf
import Testing

/// The gateway's standard gRPC face over real mutual TLS, in front of a mesh server serving the gRPC interop
/// service: grpc-swift-2's own client calls it as a county system's gRPC library would.
@Suite("gRPC face", .timeLimit(.minutes(1)))
struct GRPCFaceTests {
    static let unary = GRPCCore.MethodDescriptor(fullyQualifiedService: InteropService.service, method: "UnaryCall")
    static let serverStreaming = GRPCCore.MethodDescriptor(
        fullyQualifiedService: InteropService.service, method: "StreamingOutputCall")
    static let clientStreaming = GRPCCore.MethodDescriptor(
        fullyQualifiedService: InteropService.service, method: "StreamingInputCall")
    static let bidirectional = GRPCCore.MethodDescriptor(
        fullyQualifiedService: InteropService.service, method: "FullDuplexCall")
    static let hang = GRPCCore.MethodDescriptor(fullyQualifiedService: InteropService.service, method: "Hang")
    static let healthCheck = GRPCCore.MethodDescriptor(fullyQualifiedService: "grpc.health.v1.Health", method: "Check")
    static let healthWatch = GRPCCore.MethodDescriptor(fullyQualifiedService: "grpc.health.v1.Health", method: "Watch")

    @Test("a unary call reaches the mesh handler with the caller's certificate identity and metadata")
    func unary() async throws {
        try await Self.withFace { client, _, _ in
            var request = Mesh_Testing_V1_SimpleRequest()
            request.responseSize = 10
            let (peer, size, trailing) = try await client.unary(
                request: ClientRequest(
                    message: request, metadata: ["x-grpc-test-echo-trailing-bin": .binary([1, 2, 3])]),
                descriptor: Self.unary, serializer: ProtoCoding<Mesh_Testing_V1_SimpleRequest>(),
                deserializer: ProtoCoding<Mesh_Testing_V1_SimpleResponse>(), options: GRPCCore.CallOptions.defaults
            ) { response in
                let message = try response.message
                return (
                    message.peerIdentity, message.payload.body.count,
                    Array(response.trailingMetadata[binaryValues: "x-grpc-test-echo-trailing-bin"])
                )
            }
            #expect(peer == "county/nanhu")
            #expect(size == 10)
            #expect(trailing == [[1, 2, 3]])
        }
    }

    @Test("a handler's error arrives as the gRPC status with its code and message")
    func status() async throws {
        try await Self.withFace { client, _, _ in
            var request = Mesh_Testing_V1_SimpleRequest()
            request.responseStatus.code = RPCStatusCode.permissionDenied.rawValue
            request.responseStatus.message = "county/nanhu acts only on its own enterprises"
            let error = await #expect(throws: GRPCCore.RPCError.self) {
                try await client.unary(
                    request: ClientRequest(message: request), descriptor: Self.unary,
                    serializer: ProtoCoding<Mesh_Testing_V1_SimpleRequest>(),
                    deserializer: ProtoCoding<Mesh_Testing_V1_SimpleResponse>(), options: GRPCCore.CallOptions.defaults
                ) { try $0.message }
            }
            #expect(error?.code == .permissionDenied)
            #expect(error?.message == "county/nanhu acts only on its own enterprises")
        }
    }

    @Test("the mesh server's interceptors judge calls that come in over gRPC")
    func interceptors() async throws {
        try await Self.withFace(interceptors: [RefuseCounties()]) { client, _, _ in
            let error = await #expect(throws: GRPCCore.RPCError.self) {
                try await client.unary(
                    request: ClientRequest(message: Mesh_Testing_V1_SimpleRequest()), descriptor: Self.unary,
                    serializer: ProtoCoding<Mesh_Testing_V1_SimpleRequest>(),
                    deserializer: ProtoCoding<Mesh_Testing_V1_SimpleResponse>(), options: GRPCCore.CallOptions.defaults
                ) { try $0.message }
            }
            #expect(error?.code == .permissionDenied)
            #expect(error?.message == "county callers may not call UnaryCall")
        }
    }

    @Test("server streaming, client streaming and both ways carry every message in order")
    func streams() async throws {
        try await Self.withFace { client, _, _ in
            var request = Mesh_Testing_V1_StreamingOutputCallRequest()
            for size in 1...50 {
                var parameters = Mesh_Testing_V1_ResponseParameters()
                parameters.size = Int32(size)
                request.responseParameters.append(parameters)
            }
            let sizes = try await client.serverStreaming(
                request: ClientRequest(message: request), descriptor: Self.serverStreaming,
                serializer: ProtoCoding<Mesh_Testing_V1_StreamingOutputCallRequest>(),
                deserializer: ProtoCoding<Mesh_Testing_V1_StreamingOutputCallResponse>(),
                options: GRPCCore.CallOptions.defaults
            ) { response in
                var sizes: [Int] = []
                for try await message in response.messages { sizes.append(message.payload.body.count) }
                return sizes
            }
            #expect(sizes == Array(1...50))

            // More bytes than the in-process window (1 MiB): the sender is held back, nothing is lost.
            let total = try await client.clientStreaming(
                request: StreamingClientRequest(of: Mesh_Testing_V1_StreamingInputCallRequest.self) { writer in
                    for _ in 0..<40 {
                        var message = Mesh_Testing_V1_StreamingInputCallRequest()
                        message.payload = InteropService.payload(size: 100_000)
                        try await writer.write(message)
                    }
                },
                descriptor: Self.clientStreaming,
                serializer: ProtoCoding<Mesh_Testing_V1_StreamingInputCallRequest>(),
                deserializer: ProtoCoding<Mesh_Testing_V1_StreamingInputCallResponse>(),
                options: GRPCCore.CallOptions.defaults
            ) { try $0.message.aggregatedPayloadSize }
            #expect(total == 4_000_000)

            let echoed = try await client.bidirectionalStreaming(
                request: StreamingClientRequest(of: Mesh_Testing_V1_StreamingOutputCallRequest.self) { writer in
                    for size in 1...20 {
                        var message = Mesh_Testing_V1_StreamingOutputCallRequest()
                        var parameters = Mesh_Testing_V1_ResponseParameters()
                        parameters.size = Int32(size)
                        message.responseParameters = [parameters]
                        try await writer.write(message)
                    }
                },
                descriptor: Self.bidirectional,
                serializer: ProtoCoding<Mesh_Testing_V1_StreamingOutputCallRequest>(),
                deserializer: ProtoCoding<Mesh_Testing_V1_StreamingOutputCallResponse>(),
                options: GRPCCore.CallOptions.defaults
            ) { response in
                var sizes: [Int] = []
                for try await message in response.messages { sizes.append(message.payload.body.count) }
                return sizes
            }
            #expect(echoed == Array(1...20))
        }
    }

    @Test("a call past its grpc-timeout ends as DEADLINE_EXCEEDED and its handler is stopped")
    func deadline() async throws {
        try await Self.withFace { client, _, events in
            var options = GRPCCore.CallOptions.defaults
            options.timeout = .milliseconds(300)
            let error = await #expect(throws: GRPCCore.RPCError.self) {
                try await client.unary(
                    request: ClientRequest(message: Mesh_Testing_V1_Empty()), descriptor: Self.hang,
                    serializer: ProtoCoding<Mesh_Testing_V1_Empty>(),
                    deserializer: ProtoCoding<Mesh_Testing_V1_Empty>(), options: options
                ) { try $0.message }
            }
            #expect(error?.code == .deadlineExceeded)
            // A handler not yet started when the deadline passed is never started (a loaded machine); one that
            // started is stopped.
            if events.recorded.contains("hang started") { await events.wait(for: "hang cancelled") }
        }
    }

    @Test("a stream the client abandons cancels its handler, and the face serves the next call")
    func cancellation() async throws {
        try await Self.withFace { client, _, events in
            let first = try await client.serverStreaming(
                request: ClientRequest(message: Mesh_Testing_V1_Empty()), descriptor: Self.hang,
                serializer: ProtoCoding<Mesh_Testing_V1_Empty>(),
                deserializer: ProtoCoding<Mesh_Testing_V1_Empty>(), options: GRPCCore.CallOptions.defaults
            ) { response -> Int in
                // The hang method answers once, then waits for ever; leaving here cancels the call.
                for try await _ in response.messages { return 1 }
                return 0
            }
            #expect(first == 1)
            await events.wait(for: "hang cancelled")
            let peer = try await client.unary(
                request: ClientRequest(message: Mesh_Testing_V1_SimpleRequest()), descriptor: Self.unary,
                serializer: ProtoCoding<Mesh_Testing_V1_SimpleRequest>(),
                deserializer: ProtoCoding<Mesh_Testing_V1_SimpleResponse>(), options: GRPCCore.CallOptions.defaults
            ) { try $0.message.peerIdentity }
            #expect(peer == "county/nanhu")
        }
    }

    @Test("grpc.health.v1: Check answers the server's readiness, NOT_FOUND for another service; Watch follows it")
    func health() async throws {
        try await Self.withFace { client, server, _ in
            func check(_ service: String) async throws -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
                var request = Grpc_Health_V1_HealthCheckRequest()
                request.service = service
                return try await client.unary(
                    request: ClientRequest(message: request), descriptor: Self.healthCheck,
                    serializer: ProtoCoding<Grpc_Health_V1_HealthCheckRequest>(),
                    deserializer: ProtoCoding<Grpc_Health_V1_HealthCheckResponse>(),
                    options: GRPCCore.CallOptions.defaults
                ) { try $0.message.status }
            }
            #expect(try await check("") == .serving)
            #expect(try await check(InteropService.service) == .serving)
            let unknown = await #expect(throws: GRPCCore.RPCError.self) { try await check("no.such.Service") }
            #expect(unknown?.code == .notFound)

            let seen = try await client.serverStreaming(
                request: ClientRequest(message: Grpc_Health_V1_HealthCheckRequest()), descriptor: Self.healthWatch,
                serializer: ProtoCoding<Grpc_Health_V1_HealthCheckRequest>(),
                deserializer: ProtoCoding<Grpc_Health_V1_HealthCheckResponse>(), options: GRPCCore.CallOptions.defaults
            ) { response in
                var seen: [Grpc_Health_V1_HealthCheckResponse.ServingStatus] = []
                for try await message in response.messages {
                    seen.append(message.status)
                    if seen.count == 1 { server.setServing(false) }
                    if seen.count == 2 { break }
                }
                return seen
            }
            #expect(seen == [.serving, .notServing])
            #expect(try await check("") == .notServing)
        }
    }

    @Test(
        "a request message over the mesh protocol's 4 MiB limit is RESOURCE_EXHAUSTED naming the limit; one far over it is reset; the face serves on"
    )
    func oversized() async throws {
        try await Self.withFace { client, _, _ in
            func call(size: Int) async -> GRPCCore.RPCError? {
                var request = Mesh_Testing_V1_SimpleRequest()
                request.payload = InteropService.payload(size: size)
                return await #expect(throws: GRPCCore.RPCError.self) {
                    try await client.unary(
                        request: ClientRequest(message: request), descriptor: Self.unary,
                        serializer: ProtoCoding<Mesh_Testing_V1_SimpleRequest>(),
                        deserializer: ProtoCoding<Mesh_Testing_V1_SimpleResponse>(),
                        options: GRPCCore.CallOptions.defaults
                    ) { try $0.message }
                }
            }
            let limit = ConnectionSettings.defaultMaxFrameSize
            let over = await call(size: limit + 1)
            #expect(over?.code == .resourceExhausted)
            #expect(over?.message.contains("exceeds the limit of \(limit) bytes") == true)
            let farOver = await call(size: 2 * limit + 1)
            #expect(farOver?.code == .unavailable)
            let peer = try await client.unary(
                request: ClientRequest(message: Mesh_Testing_V1_SimpleRequest()), descriptor: Self.unary,
                serializer: ProtoCoding<Mesh_Testing_V1_SimpleRequest>(),
                deserializer: ProtoCoding<Mesh_Testing_V1_SimpleResponse>(), options: GRPCCore.CallOptions.defaults
            ) { try $0.message.peerIdentity }
            #expect(peer == "county/nanhu")
        }
    }

    @Test("server reflection lists the port's services and sends the file declaring a symbol with its imports")
    func reflection() async throws {
        try await Self.withFace { client, _, _ in
            func ask(_ requests: [Grpc_Reflection_V1_ServerReflectionRequest], package: String) async throws
                -> [Grpc_Reflection_V1_ServerReflectionResponse]
            {
                try await client.bidirectionalStreaming(
                    request: StreamingClientRequest(of: Grpc_Reflection_V1_ServerReflectionRequest.self) { writer in
                        for request in requests { try await writer.write(request) }
                    },
                    descriptor: GRPCCore.MethodDescriptor(
                        fullyQualifiedService: "\(package).ServerReflection", method: "ServerReflectionInfo"),
                    serializer: ProtoCoding<Grpc_Reflection_V1_ServerReflectionRequest>(),
                    deserializer: ProtoCoding<Grpc_Reflection_V1_ServerReflectionResponse>(),
                    options: GRPCCore.CallOptions.defaults
                ) { response in
                    var answers: [Grpc_Reflection_V1_ServerReflectionResponse] = []
                    for try await answer in response.messages { answers.append(answer) }
                    return answers
                }
            }
            var list = Grpc_Reflection_V1_ServerReflectionRequest()
            list.listServices = ""
            var symbol = Grpc_Reflection_V1_ServerReflectionRequest()
            symbol.fileContainingSymbol = "jiaxing.benefits.v1.ScreenRequest"
            var method = Grpc_Reflection_V1_ServerReflectionRequest()
            method.fileContainingSymbol = "mesh.testing.v1.TestService.UnaryCall"
            var unknown = Grpc_Reflection_V1_ServerReflectionRequest()
            unknown.fileContainingSymbol = "no.such.Symbol"
            for package in ["grpc.reflection.v1", "grpc.reflection.v1alpha"] {
                let answers = try await ask([list, symbol, method, unknown], package: package)
                try #require(answers.count == 4)
                #expect(
                    answers[0].listServicesResponse.service.map(\.name) == [
                        "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                        "grpc.reflection.v1alpha.ServerReflection", "mesh.rpc.v1.Health", InteropService.service,
                    ])
                let files = try answers[1].fileDescriptorResponse.fileDescriptorProto.map {
                    try Google_Protobuf_FileDescriptorProto(serializedBytes: $0).name
                }
                #expect(files.first == "jiaxing/benefits/v1/eligibility.proto")
                #expect(
                    Set(files).isSuperset(of: [
                        "jiaxing/benefits/v1/enterprise.proto", "jiaxing/benefits/v1/common.proto",
                    ]))
                let declaring = try answers[2].fileDescriptorResponse.fileDescriptorProto.first.map {
                    try Google_Protobuf_FileDescriptorProto(serializedBytes: $0).name
                }
                #expect(declaring == "mesh/testing/v1/interop.proto")
                #expect(answers[3].errorResponse.errorCode == Int32(Status.Code.notFound.rawValue))
            }
        }
    }

    @Test("a method the mesh server does not route is UNIMPLEMENTED")
    func unimplemented() async throws {
        try await Self.withFace { client, _, _ in
            let error = await #expect(throws: GRPCCore.RPCError.self) {
                try await client.unary(
                    request: ClientRequest(message: Mesh_Testing_V1_Empty()),
                    descriptor: GRPCCore.MethodDescriptor(
                        fullyQualifiedService: InteropService.service, method: "UnimplementedCall"),
                    serializer: ProtoCoding<Mesh_Testing_V1_Empty>(),
                    deserializer: ProtoCoding<Mesh_Testing_V1_Empty>(), options: GRPCCore.CallOptions.defaults
                ) { try $0.message }
            }
            #expect(error?.code == .unimplemented)
        }
    }
}

extension GRPCFaceTests {
    /// What the hang method's handler went through, and a wait for one of those events (the suite's time
    /// limit ends a wait that never ends).
    final class Events: Sendable {
        private struct State {
            var recorded: [String] = []
            var waiting: [(event: String, continuation: CheckedContinuation<Void, Never>)] = []
        }
        private let state = NIOLockedValueBox(State())

        var recorded: [String] { self.state.withLockedValue { $0.recorded } }

        func record(_ event: String) {
            let ready = self.state.withLockedValue { state in
                state.recorded.append(event)
                let ready = state.waiting.filter { $0.event == event }.map(\.continuation)
                state.waiting.removeAll { $0.event == event }
                return ready
            }
            for continuation in ready { continuation.resume() }
        }

        func wait(for event: String) async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let already = self.state.withLockedValue { state in
                    if state.recorded.contains(event) { return true }
                    state.waiting.append((event, continuation))
                    return false
                }
                if already { continuation.resume() }
            }
        }
    }

    /// Refuses every county caller, as the gateway's door refuses a role a method is not open to.
    struct RefuseCounties: MeshRPC.ServerInterceptor {
        func intercept(context: MeshRPC.ServerContext, next: @Sendable (MeshRPC.ServerContext) async throws -> Void)
            async throws
        {
            if context.peer?.role == .county {
                throw MeshRPC.RPCError(.permissionDenied, "county callers may not call \(context.method.method)")
            }
            try await next(context)
        }
    }

    /// Runs a mesh server with the interop service and a method that hangs until cancelled, the gRPC face in
    /// front of it, and a grpc-swift-2 client with a county's certificate, for the duration of `body`.
    static func withFace(
        interceptors: [any MeshRPC.ServerInterceptor] = [],
        _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>, MeshServer, Events) async throws -> Void
    ) async throws {
        let events = Events()
        var router = InteropService.router()
        router.serverStreaming(MeshRPC.MethodDescriptor(service: InteropService.service, method: "Hang")) {
            (_: Mesh_Testing_V1_Empty, writer: ResponseWriter<Mesh_Testing_V1_Empty>, _) in
            events.record("hang started")
            try await writer.write(Mesh_Testing_V1_Empty())
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                events.record("hang cancelled")
                throw error
            }
        }
        let credentials = TestMesh.credentials
        try await TestMesh.withServer(router: router, interceptors: interceptors) { server, _ in
            let face = try GRPCFace(
                configuration: .init(
                    host: "127.0.0.1", port: 0, tls: credentials.server, drainGracePeriod: .seconds(2)),
                mesh: server, logger: TestMesh.logger)
            try await Self.running(face) { port in
                func pem(_ text: String) -> TLSConfig.CertificateSource { .bytes(Array(text.utf8), format: .pem) }
                var config = HTTP2ClientTransport.Posix.Config.defaults
                config.http2.authority = "localhost"
                let transport = try HTTP2ClientTransport.Posix(
                    target: .ipv4(address: "127.0.0.1", port: port),
                    transportSecurity: .mTLS(
                        certificateChain: [pem(credentials.client.certificateChainPEM)],
                        privateKey: .bytes(Array(credentials.client.privateKeyPEM.utf8), format: .pem)
                    ) { tls in
                        tls.trustRoots = .certificates([pem(credentials.client.trustRootsPEM)])
                    },
                    config: config)
                try await withGRPCClient(transport: transport) { client in
                    try await body(client, server, events)
                }
            }
        }
    }

    /// Serves `face` in a service group for the length of `body`, which gets the port it bound; then shuts it
    /// down gracefully.
    static func running(_ face: GRPCFace, _ body: (Int) async throws -> Void) async throws {
        let group = ServiceGroup(
            services: [face], gracefulShutdownSignals: [], cancellationSignals: [], logger: TestMesh.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await body(try await face.boundPort())
            await group.triggerGracefulShutdown()
            try await tasks.next()
            tasks.cancelAll()
        }
    }
}

/// SwiftProtobuf messages as gRPC's coding (the tests' own; grpc-swift-protobuf is not a dependency).
struct ProtoCoding<Message: SwiftProtobuf.Message & Sendable>: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: Message) throws -> Bytes {
        Bytes(try message.serializedBytes() as [UInt8])
    }

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Message {
        try serializedMessageBytes.withUnsafeBytes { try Message(serializedBytes: Array($0)) }
    }
}
