import MeshMessages
import MeshProtocol
import MeshRPC
import MeshTestSupport
import MeshTransport
import Testing

/// Stream windows over a real connection: a reader reports what it consumed in batches (half its window),
/// and a writer held back by the window always resumes, in both directions.
@Suite("Flow control")
struct FlowControlTests {
    typealias Service = InteropService

    /// A 64 KiB window against 4 MB in 20,000-byte messages: the writer waits for the reader about 60 times.
    static let smallWindow = MeshTransportConfiguration(settings: ConnectionSettings(initialWindowSize: 65_536))

    @Test("server streaming 4 MB through a client's 64 KiB window, the client reading slowly at first")
    func serverToClient() async throws {
        try await TestMesh.withServer(router: InteropService.router()) { _, port in
            let client = TestMesh.client(port: port, transport: Self.smallWindow)
            defer { Task { await client.close() } }
            var request = Mesh_Testing_V1_StreamingOutputCallRequest()
            request.responseParameters = (0..<200).map { _ in
                var parameters = Mesh_Testing_V1_ResponseParameters()
                parameters.size = 20_000
                return parameters
            }
            let sizes = try await client.serverStreaming(
                Service.streamingOutputCall, request, options: CallOptions(timeout: .seconds(30))
            ) { (responses: ResponseStream<Mesh_Testing_V1_StreamingOutputCallResponse>) in
                var sizes: [Int] = []
                for try await response in responses {
                    if sizes.count < 5 { try await Task.sleep(for: .milliseconds(20)) }
                    sizes.append(response.payload.body.count)
                }
                return sizes
            }
            #expect(sizes == Array(repeating: 20_000, count: 200))
        }
    }

    @Test("client streaming 4 MB through a server's 64 KiB window")
    func clientToServer() async throws {
        try await TestMesh.withServer(router: InteropService.router(), transport: Self.smallWindow) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            let response: Mesh_Testing_V1_StreamingInputCallResponse = try await client.clientStreaming(
                Service.streamingInputCall, options: CallOptions(timeout: .seconds(30))
            ) { writer in
                for _ in 0..<200 {
                    var request = Mesh_Testing_V1_StreamingInputCallRequest()
                    request.payload = Service.payload(size: 20_000)
                    try await writer.write(request)
                }
            }
            #expect(response.aggregatedPayloadSize == 4_000_000)
        }
    }
}
