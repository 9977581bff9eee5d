import MeshMessages
import MeshProtocol
import MeshRPC
import NIOCore

/// The gRPC interoperability test service, in mesh terms: the mesh protocol's tests and the gateway's gRPC
/// face's tests serve it.
public enum InteropService {
    public static let service = "mesh.testing.v1.TestService"
    public static let emptyCall = MethodDescriptor(service: service, method: "EmptyCall")
    public static let unaryCall = MethodDescriptor(service: service, method: "UnaryCall")
    public static let streamingOutputCall = MethodDescriptor(service: service, method: "StreamingOutputCall")
    public static let streamingInputCall = MethodDescriptor(service: service, method: "StreamingInputCall")
    public static let fullDuplexCall = MethodDescriptor(service: service, method: "FullDuplexCall")
    public static let unimplementedCall = MethodDescriptor(service: service, method: "UnimplementedCall")

    public static func payload(size: Int) -> Mesh_Testing_V1_Payload {
        var payload = Mesh_Testing_V1_Payload()
        payload.body = .init(repeating: 0, count: size)
        return payload
    }

    public static func router() -> RPCRouter {
        var router = RPCRouter()
        router.unary(emptyCall) { (_: Mesh_Testing_V1_Empty, _) in Mesh_Testing_V1_Empty() }
        router.unary(unaryCall) { (request: Mesh_Testing_V1_SimpleRequest, context) in
            echoMetadata(context)
            if request.sleepMillis > 0 { try await Task.sleep(for: .milliseconds(Int(request.sleepMillis))) }
            if request.hasResponseStatus, request.responseStatus.code != 0 {
                throw RPCError(RPCStatusCode.parse(request.responseStatus.code), request.responseStatus.message)
            }
            var response = Mesh_Testing_V1_SimpleResponse()
            response.payload = payload(size: Int(request.responseSize))
            response.peerIdentity = context.peer?.description ?? ""
            return response
        }
        router.serverStreaming(streamingOutputCall) {
            (
                request: Mesh_Testing_V1_StreamingOutputCallRequest,
                writer: ResponseWriter<Mesh_Testing_V1_StreamingOutputCallResponse>, _
            ) in
            for parameters in request.responseParameters {
                if parameters.intervalMillis > 0 {
                    try await Task.sleep(for: .milliseconds(Int(parameters.intervalMillis)))
                }
                var response = Mesh_Testing_V1_StreamingOutputCallResponse()
                response.payload = payload(size: Int(parameters.size))
                try await writer.write(response)
            }
        }
        router.clientStreaming(streamingInputCall) {
            (requests: RequestStream<Mesh_Testing_V1_StreamingInputCallRequest>, _) in
            var total = 0
            for try await request in requests { total += request.payload.body.count }
            var response = Mesh_Testing_V1_StreamingInputCallResponse()
            response.aggregatedPayloadSize = Int32(total)
            return response
        }
        router.bidirectional(fullDuplexCall) {
            (
                requests: RequestStream<Mesh_Testing_V1_StreamingOutputCallRequest>,
                writer: ResponseWriter<Mesh_Testing_V1_StreamingOutputCallResponse>, context
            ) in
            echoMetadata(context)
            for try await request in requests {
                if request.hasResponseStatus, request.responseStatus.code != 0 {
                    throw RPCError(RPCStatusCode.parse(request.responseStatus.code), request.responseStatus.message)
                }
                for parameters in request.responseParameters {
                    var response = Mesh_Testing_V1_StreamingOutputCallResponse()
                    response.payload = payload(size: Int(parameters.size))
                    try await writer.write(response)
                }
            }
        }
        return router
    }

    /// custom_metadata: echo the initial and trailing metadata the client asks for.
    private static func echoMetadata(_ context: ServerContext) {
        if let initial = context.metadata["x-grpc-test-echo-initial"] {
            context.response.initial.add("x-grpc-test-echo-initial", initial)
        }
        for value in context.metadata.values("x-grpc-test-echo-trailing-bin") {
            if case .binary(let bytes) = value {
                context.response.trailing.add("x-grpc-test-echo-trailing-bin", binary: bytes)
            }
        }
    }
}
