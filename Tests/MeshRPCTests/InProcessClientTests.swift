import MeshIdentity
import MeshMessages
import MeshProtocol
import MeshRPC
import MeshTestSupport
import MeshTransport
import Testing

/// A client of a server in the same process (`MeshClient(serving:as:)`, what the gateway's HTTP face and
/// console use): every call kind, statuses, deadlines and interceptors as over a connection. The server
/// listens, but the calls reach it only in process.
@Suite("In-process client", .timeLimit(.minutes(1)))
struct InProcessClientTests {
    typealias Service = InteropService
    static let county = PeerIdentity(commonName: "nanhu", role: .county, subject: "CN=nanhu,OU=county")

    static func withClient(
        interceptors: [any ServerInterceptor] = [], _ body: (MeshClient) async throws -> Void
    ) async throws {
        try await TestMesh.withServer(router: InteropService.router(), interceptors: interceptors) { server, _ in
            try await body(MeshClient(serving: server, as: Self.county, logger: TestMesh.logger))
        }
    }

    @Test("a unary call is served with the caller's identity, and a handler's status comes back as it was thrown")
    func unary() async throws {
        try await Self.withClient { client in
            var request = Mesh_Testing_V1_SimpleRequest()
            request.responseSize = 314_159
            let response: Mesh_Testing_V1_SimpleResponse = try await client.unary(Service.unaryCall, request)
            #expect(response.payload.body.count == 314_159)
            #expect(response.peerIdentity == "county/nanhu")

            request.responseStatus.code = RPCStatusCode.failedPrecondition.rawValue
            request.responseStatus.message = "the fund is closed"
            let error = await #expect(throws: RPCError.self) {
                let _: Mesh_Testing_V1_SimpleResponse = try await client.unary(Service.unaryCall, request)
            }
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message == "the fund is closed")
        }
    }

    @Test("streams: responses in order, requests past the 1 MiB window held back and all counted, ping-pong")
    func streams() async throws {
        try await Self.withClient { client in
            var request = Mesh_Testing_V1_StreamingOutputCallRequest()
            request.responseParameters = (1...40).map { _ in
                var parameters = Mesh_Testing_V1_ResponseParameters()
                parameters.size = 100_000
                return parameters
            }
            let sizes = try await client.serverStreaming(Service.streamingOutputCall, request) {
                (responses: ResponseStream<Mesh_Testing_V1_StreamingOutputCallResponse>) in
                var sizes: [Int] = []
                for try await response in responses { sizes.append(response.payload.body.count) }
                return sizes
            }
            #expect(sizes == Array(repeating: 100_000, count: 40))

            let total: Mesh_Testing_V1_StreamingInputCallResponse = try await client.clientStreaming(
                Service.streamingInputCall
            ) { writer in
                for _ in 0..<40 {
                    var message = Mesh_Testing_V1_StreamingInputCallRequest()
                    message.payload = Service.payload(size: 100_000)
                    try await writer.write(message)
                }
            }
            #expect(total.aggregatedPayloadSize == 4_000_000)

            let echoed = try await client.bidirectional(
                Service.fullDuplexCall,
                requests: { writer in
                    for size in 1...20 {
                        var message = Mesh_Testing_V1_StreamingOutputCallRequest()
                        var parameters = Mesh_Testing_V1_ResponseParameters()
                        parameters.size = Int32(size)
                        message.responseParameters = [parameters]
                        try await writer.write(message)
                    }
                },
                responses: { (responses: ResponseStream<Mesh_Testing_V1_StreamingOutputCallResponse>) in
                    var sizes: [Int] = []
                    for try await response in responses { sizes.append(response.payload.body.count) }
                    return sizes
                })
            #expect(echoed == Array(1...20))
        }
    }

    @Test("a call past its deadline ends as deadlineExceeded; an interceptor's refusal ends it before the handler")
    func deadlineAndInterceptors() async throws {
        try await Self.withClient { client in
            var slow = Mesh_Testing_V1_SimpleRequest()
            slow.sleepMillis = 30_000
            let error = await #expect(throws: RPCError.self) {
                let _: Mesh_Testing_V1_SimpleResponse = try await client.unary(
                    Service.unaryCall, slow, options: CallOptions(timeout: .milliseconds(200)))
            }
            #expect(error?.code == .deadlineExceeded)
            let next: Mesh_Testing_V1_SimpleResponse = try await client.unary(
                Service.unaryCall, Mesh_Testing_V1_SimpleRequest())
            #expect(next.peerIdentity == "county/nanhu")
        }
        try await Self.withClient(interceptors: [RefuseCounties()]) { client in
            let error = await #expect(throws: RPCError.self) {
                let _: Mesh_Testing_V1_Empty = try await client.unary(Service.emptyCall, Mesh_Testing_V1_Empty())
            }
            #expect(error?.code == .permissionDenied)
        }
    }

    @Test(
        "a server that answers before reading the requests is heard at once, not after the deadline; close ends calls")
    func answeredBeforeReading() async throws {
        try await Self.withClient(interceptors: [RefuseCounties()]) { client in
            // 4 MB of requests against a 1 MiB window, refused before the handler reads any: the writer learns the
            // call is over, and the refusal is the call's outcome.
            let started = ContinuousClock.now
            let error = await #expect(throws: RPCError.self) {
                let _: Mesh_Testing_V1_StreamingInputCallResponse = try await client.clientStreaming(
                    Service.streamingInputCall, options: CallOptions(timeout: .seconds(30))
                ) { writer in
                    for _ in 0..<40 {
                        var message = Mesh_Testing_V1_StreamingInputCallRequest()
                        message.payload = Service.payload(size: 100_000)
                        try await writer.write(message)
                    }
                }
            }
            #expect(error?.code == .permissionDenied)
            #expect(ContinuousClock.now - started < .seconds(30))

            await client.close()
            let closed = await #expect(throws: RPCError.self) {
                let _: Mesh_Testing_V1_Empty = try await client.unary(Service.emptyCall, Mesh_Testing_V1_Empty())
            }
            #expect(closed?.code == .unavailable)
        }
    }

    struct RefuseCounties: ServerInterceptor {
        func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
            if context.peer?.role == .county { throw RPCError(.permissionDenied, "no counties here") }
            try await next(context)
        }
    }
}
