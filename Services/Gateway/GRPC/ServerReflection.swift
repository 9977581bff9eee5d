import GRPCCore
import MeshMessages
import MeshRPC
import MeshWire
import NIOCore
import SwiftProtobuf

/// gRPC server reflection (`grpc.reflection.v1`, and the same messages as `grpc.reflection.v1alpha` for
/// clients that ask only that): the services the port offers and the .proto files that describe them, from
/// the descriptor set built with the messages. grpcurl and Postman call the gateway with it and no files.
struct ServerReflection: RegistrableRPCService {
    static let packages = ["grpc.reflection.v1", "grpc.reflection.v1alpha"]

    /// The services the gRPC port answers, by full name.
    let services: [String]
    let index: DescriptorIndex

    init(mesh: MeshServer, index: DescriptorIndex = .shared) {
        let routed = Set(mesh.methods.compactMap { MeshRPC.MethodDescriptor(fullName: $0.name)?.service })
        self.services =
            (routed.union([StandardHealth.service]).union(Self.packages.map { $0 + ".ServerReflection" })).sorted()
        self.index = index
    }

    func registerMethods<Transport: ServerTransport>(with router: inout GRPCCore.RPCRouter<Transport>) {
        for package in Self.packages {
            router.registerHandler(
                forMethod: GRPCCore.MethodDescriptor(
                    fullyQualifiedService: package + ".ServerReflection", method: "ServerReflectionInfo"),
                deserializer: ByteBufferCoding(limit: 64 * 1024), serializer: ByteBufferCoding()
            ) { request, _ in
                StreamingServerResponse(of: ByteBuffer.self) { writer in
                    for try await message in request.messages {
                        let asked: Grpc_Reflection_V1_ServerReflectionRequest
                        do {
                            asked = try Grpc_Reflection_V1_ServerReflectionRequest(
                                serializedBytes: Array(message.readableBytesView))
                        } catch {
                            throw RPCError(
                                code: .invalidArgument, message: "request: not a ServerReflectionRequest")
                        }
                        let answer = self.answer(asked)
                        try await writer.write(ByteBuffer(bytes: try answer.serializedBytes() as [UInt8]))
                    }
                    return [:]
                }
            }
        }
    }

    func answer(_ request: Grpc_Reflection_V1_ServerReflectionRequest) -> Grpc_Reflection_V1_ServerReflectionResponse {
        var response = Grpc_Reflection_V1_ServerReflectionResponse()
        response.validHost = request.host
        response.originalRequest = request
        func files(_ name: String?, notFound: String) {
            guard let name, self.index.files[name] != nil else {
                var error = Grpc_Reflection_V1_ErrorResponse()
                error.errorCode = Int32(Status.Code.notFound.rawValue)
                error.errorMessage = notFound
                response.errorResponse = error
                return
            }
            var found = Grpc_Reflection_V1_FileDescriptorResponse()
            found.fileDescriptorProto = self.index.withImports(name)
            response.fileDescriptorResponse = found
        }
        switch request.messageRequest {
        case .listServices:
            var list = Grpc_Reflection_V1_ListServiceResponse()
            list.service = self.services.map { name in
                var service = Grpc_Reflection_V1_ServiceResponse()
                service.name = name
                return service
            }
            response.listServicesResponse = list
        case .fileByFilename(let name):
            files(name, notFound: "no file '\(name)'")
        case .fileContainingSymbol(let symbol):
            files(self.index.symbols[symbol], notFound: "no symbol '\(symbol)'")
        case .fileContainingExtension(let extensionRequest):
            var error = Grpc_Reflection_V1_ErrorResponse()
            error.errorCode = Int32(Status.Code.notFound.rawValue)
            error.errorMessage = "the mesh's messages have no extensions (\(extensionRequest.containingType))"
            response.errorResponse = error
        case .allExtensionNumbersOfType(let type):
            var numbers = Grpc_Reflection_V1_ExtensionNumberResponse()
            numbers.baseTypeName = type
            response.allExtensionNumbersResponse = numbers
        case nil:
            var error = Grpc_Reflection_V1_ErrorResponse()
            error.errorCode = Int32(Status.Code.invalidArgument.rawValue)
            error.errorMessage = "the request asks nothing (message_request is not set)"
            response.errorResponse = error
        }
        return response
    }
}
