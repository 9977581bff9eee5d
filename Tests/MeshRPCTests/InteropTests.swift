import MeshMessages
import MeshRPC
import MeshTestSupport
import Testing

/// The gRPC interoperability cases, one for one, over real mutual TLS on loopback; each with the handlers
/// on the cooperative pool and on the connection's event loop.
@Suite("gRPC interop cases")
struct InteropTests {
    typealias Service = InteropService

    @Test("empty_unary", arguments: MeshServer.CallExecution.allCases)
    func emptyUnary(execution: MeshServer.CallExecution) async throws {
        try await TestMesh.withServer(router: InteropService.router(), callExecution: execution) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            let response: Mesh_Testing_V1_Empty = try await client.unary(Service.emptyCall, Mesh_Testing_V1_Empty())
            #expect(response == Mesh_Testing_V1_Empty())
        }
    }

    @Test("large_unary", arguments: MeshServer.CallExecution.allCases)
    func largeUnary(execution: MeshServer.CallExecution) async throws {
        try await TestMesh.withServer(router: InteropService.router(), callExecution: execution) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            var request = Mesh_Testing_V1_SimpleRequest()
            request.responseSize = 314_159
            request.payload = Service.payload(size: 271_828)
            let response: Mesh_Testing_V1_SimpleResponse = try await client.unary(Service.unaryCall, request)
            #expect(response.payload.body.count == 314_159)
            #expect(response.peerIdentity == "county/nanhu")
        }
    }

    @Test("client_streaming", arguments: MeshServer.CallExecution.allCases)
    func clientStreaming(execution: MeshServer.CallExecution) async throws {
        try await TestMesh.withServer(router: InteropService.router(), callExecution: execution) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            let response: Mesh_Testing_V1_StreamingInputCallResponse = try await client.clientStreaming(
                Service.streamingInputCall
            ) { writer in
                for size in [27_182, 8, 1_828, 45_904] {
                    var request = Mesh_Testing_V1_StreamingInputCallRequest()
                    request.payload = Service.payload(size: size)
                    try await writer.write(request)
                }
            }
            #expect(response.aggregatedPayloadSize == 74_922)
        }
    }

    @Test("server_streaming", arguments: MeshServer.CallExecution.allCases)
    func serverStreaming(execution: MeshServer.CallExecution) async throws {
        try await TestMesh.withServer(router: InteropService.router(), callExecution: execution) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            var request = Mesh_Testing_V1_StreamingOutputCallRequest()
            request.responseParameters = [31_415, 9, 2_653, 58_979].map { size in
                var parameters = Mesh_Testing_V1_ResponseParameters()
                parameters.size = Int32(size)
                return parameters
            }
            let sizes = try await client.serverStreaming(Service.streamingOutputCall, request) {
                (responses: ResponseStream<Mesh_Testing_V1_StreamingOutputCallResponse>) in
                var sizes: [Int] = []
                for try await response in responses { sizes.append(response.payload.body.count) }
                return sizes
            }
            #expect(sizes == [31_415, 9, 2_653, 58_979])
        }
    }

    @Test("ping_pong", arguments: MeshServer.CallExecution.allCases)
    func pingPong(execution: MeshServer.CallExecution) async throws {
        try await TestMesh.withServer(router: InteropService.router(), callExecution: execution) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            let requestSizes = [27_182, 8, 1_828, 45_904]
            let responseSizes = [31_415, 9, 2_653, 58_979]
            let (requests, continuation) = AsyncStream<Int>.makeStream()
            let received = try await client.bidirectional(
                Service.fullDuplexCall,
                requests: { writer in
                    // Each request is sent only after the previous response arrived.
                    var index = 0
                    for await _ in requests {
                        guard index < requestSizes.count else { break }
                        var request = Mesh_Testing_V1_StreamingOutputCallRequest()
                        request.payload = Service.payload(size: requestSizes[index])
                        var parameters = Mesh_Testing_V1_ResponseParameters()
                        parameters.size = Int32(responseSizes[index])
                        request.responseParameters = [parameters]
                        try await writer.write(request)
                        index += 1
                    }
                },
                responses: { (responses: ResponseStream<Mesh_Testing_V1_StreamingOutputCallResponse>) in
                    continuation.yield(0)
                    var sizes: [Int] = []
                    for try await response in responses {
                        sizes.append(response.payload.body.count)
                        if sizes.count == responseSizes.count {
                            continuation.finish()
                        } else {
                            continuation.yield(sizes.count)
                        }
                    }
                    return sizes
                })
            #expect(received == responseSizes)
        }
    }

    @Test("empty_stream", arguments: MeshServer.CallExecution.allCases)
    func emptyStream(execution: MeshServer.CallExecution) async throws {
        try await TestMesh.withServer(router: InteropService.router(), callExecution: execution) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            let count = try await client.bidirectional(
                Service.fullDuplexCall, requests: { (_: RequestWriter<Mesh_Testing_V1_StreamingOutputCallRequest>) in },
                responses: { (responses: ResponseStream<Mesh_Testing_V1_StreamingOutputCallResponse>) in
                    var count = 0
                    for try await _ in responses { count += 1 }
                    return count
                })
            #expect(count == 0)
        }
    }

    @Test("custom_metadata", arguments: MeshServer.CallExecution.allCases)
    func customMetadata(execution: MeshServer.CallExecution) async throws {
        try await TestMesh.withServer(router: InteropService.router(), callExecution: execution) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            var metadata = Metadata()
            metadata.add("x-grpc-test-echo-initial", "test_initial_metadata_value")
            metadata.add("x-grpc-test-echo-trailing-bin", binary: [0xAB, 0xAB, 0xAB])
            var request = Mesh_Testing_V1_SimpleRequest()
            request.responseSize = 314_159
            request.payload = Service.payload(size: 271_828)
            let (response, initial, trailing): (Mesh_Testing_V1_SimpleResponse, Metadata, Metadata) =
                try await client.unaryWithMetadata(Service.unaryCall, request, options: CallOptions(metadata: metadata))
            #expect(response.payload.body.count == 314_159)
            #expect(initial["x-grpc-test-echo-initial"] == "test_initial_metadata_value")
            #expect(trailing.values("x-grpc-test-echo-trailing-bin") == [.binary([0xAB, 0xAB, 0xAB])])
        }
    }

    @Test("status_code_and_message", arguments: MeshServer.CallExecution.allCases)
    func statusCodeAndMessage(execution: MeshServer.CallExecution) async throws {
        try await TestMesh.withServer(router: InteropService.router(), callExecution: execution) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            var request = Mesh_Testing_V1_SimpleRequest()
            request.responseStatus.code = 2
            request.responseStatus.message = "test status message"
            let error = await #expect(throws: RPCError.self) {
                let _: Mesh_Testing_V1_SimpleResponse = try await client.unary(Service.unaryCall, request)
            }
            #expect(error?.code == .unknown)
            #expect(error?.message == "test status message")

            var streamingRequest = Mesh_Testing_V1_StreamingOutputCallRequest()
            streamingRequest.responseStatus.code = 2
            streamingRequest.responseStatus.message = "test status message"
            let failingRequest = streamingRequest
            let streamingError = await #expect(throws: RPCError.self) {
                _ = try await client.bidirectional(
                    Service.fullDuplexCall,
                    requests: { writer in
                        try await writer.write(failingRequest)
                    },
                    responses: { (responses: ResponseStream<Mesh_Testing_V1_StreamingOutputCallResponse>) in
                        for try await _ in responses {}
                        return 0
                    })
            }
            #expect(streamingError?.code == .unknown)
            #expect(streamingError?.message == "test status message")
        }
    }

    @Test("special_status_message", arguments: MeshServer.CallExecution.allCases)
    func specialStatusMessage(execution: MeshServer.CallExecution) async throws {
        try await TestMesh.withServer(router: InteropService.router(), callExecution: execution) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            let message = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"
            var request = Mesh_Testing_V1_SimpleRequest()
            request.responseStatus.code = 2
            request.responseStatus.message = message
            let error = await #expect(throws: RPCError.self) {
                let _: Mesh_Testing_V1_SimpleResponse = try await client.unary(Service.unaryCall, request)
            }
            #expect(error?.code == .unknown)
            #expect(error?.message == message)
        }
    }

    @Test("unimplemented_method", arguments: MeshServer.CallExecution.allCases)
    func unimplementedMethod(execution: MeshServer.CallExecution) async throws {
        try await TestMesh.withServer(router: InteropService.router(), callExecution: execution) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            let error = await #expect(throws: RPCError.self) {
                let _: Mesh_Testing_V1_Empty = try await client.unary(
                    Service.unimplementedCall, Mesh_Testing_V1_Empty())
            }
            #expect(error?.code == .unimplemented)
            #expect(error?.message.contains("UnimplementedCall") == true)
        }
    }

    @Test("cancel_after_begin", arguments: MeshServer.CallExecution.allCases)
    func cancelAfterBegin(execution: MeshServer.CallExecution) async throws {
        try await TestMesh.withServer(router: InteropService.router(), callExecution: execution) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            let call = Task {
                let _: Mesh_Testing_V1_StreamingInputCallResponse = try await client.clientStreaming(
                    Service.streamingInputCall
                ) { (_: RequestWriter<Mesh_Testing_V1_StreamingInputCallRequest>) in
                    try await Task.sleep(for: .seconds(30))
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            call.cancel()
            let error = await #expect(throws: RPCError.self) { try await call.value }
            #expect(error?.code == .cancelled)
        }
    }

    @Test("cancel_after_first_response", arguments: MeshServer.CallExecution.allCases)
    func cancelAfterFirstResponse(execution: MeshServer.CallExecution) async throws {
        try await TestMesh.withServer(router: InteropService.router(), callExecution: execution) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            let (firstResponse, signal) = AsyncStream<Void>.makeStream()
            let call = Task {
                try await client.bidirectional(
                    Service.fullDuplexCall,
                    requests: { writer in
                        var request = Mesh_Testing_V1_StreamingOutputCallRequest()
                        var parameters = Mesh_Testing_V1_ResponseParameters()
                        parameters.size = 31_415
                        request.responseParameters = [parameters]
                        request.payload = Service.payload(size: 27_182)
                        try await writer.write(request)
                        try await Task.sleep(for: .seconds(30))
                    },
                    responses: { (responses: ResponseStream<Mesh_Testing_V1_StreamingOutputCallResponse>) in
                        for try await _ in responses { signal.yield() }
                        return 0
                    })
            }
            for await _ in firstResponse { break }
            call.cancel()
            let error = await #expect(throws: RPCError.self) { try await call.value }
            #expect(error?.code == .cancelled)
        }
    }

    @Test("timeout_on_sleeping_server", arguments: MeshServer.CallExecution.allCases)
    func timeoutOnSleepingServer(execution: MeshServer.CallExecution) async throws {
        try await TestMesh.withServer(router: InteropService.router(), callExecution: execution) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            let error = await #expect(throws: RPCError.self) {
                _ = try await client.bidirectional(
                    Service.fullDuplexCall, options: CallOptions(timeout: .milliseconds(1)),
                    requests: { writer in
                        var request = Mesh_Testing_V1_StreamingOutputCallRequest()
                        request.payload = Service.payload(size: 27_182)
                        try await writer.write(request)
                        try await Task.sleep(for: .seconds(30))
                    },
                    responses: { (responses: ResponseStream<Mesh_Testing_V1_StreamingOutputCallResponse>) in
                        for try await _ in responses {}
                        return 0
                    })
            }
            #expect(error?.code == .deadlineExceeded)
        }
    }
}
