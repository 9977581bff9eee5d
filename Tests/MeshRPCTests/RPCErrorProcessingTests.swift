import MeshMessages
import MeshRPC
import MeshTestSupport
import Testing

/// `RPCError.processing`: what a replica pool may send elsewhere rests on it, not on a message's words.
@Suite("RPC error processing")
struct RPCErrorProcessingTests {
    static let refuse = MethodDescriptor(service: "test.Processing", method: "Refuse")

    @Test("no connection, or a closed client: not processed; a server's own unavailable: maybe processed")
    func processing() async throws {
        // A port nobody listens on (the server's, after it stopped).
        var router = RPCRouter()
        router.unary(Self.refuse) { (_: Mesh_Testing_V1_SimpleRequest, _) -> Mesh_Testing_V1_SimpleResponse in
            throw RPCError(.unavailable, "busy: the handler ran and gave up")
        }
        let port = try await TestMesh.withServer(router: router) { _, port in
            let client = TestMesh.client(port: port)
            let answered = await #expect(throws: RPCError.self) {
                let _: Mesh_Testing_V1_SimpleResponse = try await client.unary(
                    Self.refuse, Mesh_Testing_V1_SimpleRequest())
            }
            #expect(answered?.code == .unavailable)
            #expect(answered?.processing == .mayHaveBeenProcessed, "the handler ran: not safe to send elsewhere")
            await client.close()
            let closed = await #expect(throws: RPCError.self) {
                let _: Mesh_Testing_V1_SimpleResponse = try await client.unary(
                    Self.refuse, Mesh_Testing_V1_SimpleRequest())
            }
            #expect(closed?.processing == .notProcessed, "\(String(describing: closed))")
            return port
        }
        let client = TestMesh.client(port: port)
        let unreachable = await #expect(throws: RPCError.self) {
            let _: Mesh_Testing_V1_SimpleResponse = try await client.unary(
                Self.refuse, Mesh_Testing_V1_SimpleRequest(), options: CallOptions(timeout: .seconds(5)))
        }
        #expect(unreachable?.code == .unavailable)
        #expect(unreachable?.processing == .notProcessed, "\(String(describing: unreachable))")
        await client.close()
    }
}
