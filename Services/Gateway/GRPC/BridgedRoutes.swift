import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import MeshMessages
import MeshProtocol
import MeshRPC
import MeshTransport
import MeshWire
import NIOCore
import NIOPosix

/// Every method the mesh server routes, registered with gRPC under the same full name and handed to that
/// server as an in-process call.
struct BridgedRoutes: RegistrableRPCService {
    let mesh: MeshServer
    let maxRequestBytes: Int
    /// Each connection's caller, as its TLS handshake named it (`GRPCListener`).
    let peers: ConnectionPeers

    func registerMethods<Transport: ServerTransport>(with router: inout GRPCCore.RPCRouter<Transport>) {
        for (name, _) in self.mesh.methods {
            guard let method = MeshRPC.MethodDescriptor(fullName: name) else { continue }
            let (mesh, peers) = (self.mesh, self.peers)
            router.registerHandler(
                forMethod: GRPCCore.MethodDescriptor(fullyQualifiedService: method.service, method: method.method),
                deserializer: ByteBufferCoding(limit: self.maxRequestBytes), serializer: ByteBufferCoding()
            ) { request, context in
                Self.serve(
                    name, request: request, context: context, peer: peers.identity(of: context.remotePeer), mesh: mesh)
            }
        }
    }

    /// Headers of gRPC's own framing, besides the `:` pseudo-headers and `grpc-*`.
    static let framingHeaders: Set<String> = ["te", "content-type", "user-agent"]

    /// Metadata that belongs to gRPC's framing, not to the call: not passed to the handlers, and not taken
    /// from them into the trailers (where gRPC writes its own `grpc-status`).
    static func isTransportHeader(_ key: String) -> Bool {
        key.hasPrefix(":") || key.hasPrefix("grpc-") || Self.framingHeaders.contains(key)
    }

    /// Runs one gRPC call as an in-process mesh call: request messages go in as they arrive, responses come
    /// out as the handler writes them, and the mesh trailers become the gRPC status and trailing metadata.
    static func serve(
        _ fullName: String, request: StreamingServerRequest<ByteBuffer>, context: GRPCCore.ServerContext,
        peer: PeerIdentity?, mesh: MeshServer
    ) -> StreamingServerResponse<ByteBuffer> {
        var head = Mesh_Rpc_V1_RequestHead()
        head.method = fullName
        for (key, value) in request.metadata where !Self.isTransportHeader(key) {
            var entry = Mesh_Rpc_V1_MetadataEntry()
            entry.key = key
            switch value {
            case .string(let text): entry.textValue = text
            case .binary(let bytes): entry.binaryValue = .init(bytes)
            }
            head.metadata.append(entry)
        }
        let timeout = GRPCTimeout.microseconds(
            request.metadata[stringValues: "grpc-timeout"].first(where: { _ in true }))
        head.timeoutMicros = timeout ?? 0
        let deadline = timeout.map { ContinuousClock.now + .microseconds(Int64(clamping: $0)) }
        let call = InProcessCall(head: head, peer: peer, eventLoop: MultiThreadedEventLoopGroup.singleton.any())

        return StreamingServerResponse(of: ByteBuffer.self) { writer in
            try await withRPCCancellationHandler {
                try await Self.relay(call, requests: request.messages, to: writer, mesh: mesh)
            } onCancelRPC: {
                // gRPC cancels a call whose grpc-timeout passed as it cancels one the client gave up, without
                // saying which, and its timer started before this handler did. Near the deadline the mesh
                // server's own timer ends the call (DEADLINE_EXCEEDED, with its message); a client giving up
                // that late has its handler stopped at the deadline instead of at once.
                if let deadline, let timeout, ContinuousClock.now >= deadline - Self.deadlineSlack(timeout) { return }
                call.cancel(reason: "the client cancelled the call")
            }
        }
    }

    /// How long before this face's deadline a gRPC cancellation is taken for the timeout: half the timeout,
    /// between 5 ms and a second (gRPC's timer starts before this face sees the call; never by that much).
    static func deadlineSlack(_ timeoutMicros: UInt64) -> Duration {
        // At least 5 ms (gRPC's head start on a loaded machine), never more than the timeout itself.
        .microseconds(Int64(clamping: min(timeoutMicros, max(5_000, min(timeoutMicros / 2, 1_000_000)))))
    }

    static func relay(
        _ call: InProcessCall, requests: RPCAsyncSequence<ByteBuffer, any Error>, to writer: RPCWriter<ByteBuffer>,
        mesh: MeshServer
    ) async throws -> GRPCCore.Metadata {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await mesh.serve(call) }
            group.addTask {
                do {
                    for try await message in requests { try await call.send(message) }
                    call.finishRequests()
                } catch let error as TransportError where error.kind == .streamClosed || error.kind == .cancelled {
                    // The handler answered (or the call ended) before reading everything: the rest goes unread.
                } catch let error as GRPCCore.RPCError {
                    // The transport's own refusal (a reset, a protocol error): the mesh handler sees its code.
                    let code = Status.Code(error.code)
                    call.finishRequests(
                        throwing: MeshRPC.RPCError(
                            RPCStatusCode.parse(UInt32(code.rawValue)), error.message, cause: error))
                } catch {
                    call.finishRequests(throwing: error)
                }
            }
            var initial: [Mesh_Rpc_V1_MetadataEntry] = []
            var trailers: Mesh_Rpc_V1_Trailers?
            var failure: (any Error)?
            for await response in call.responses {
                if let failure {
                    response.refused(failure)
                    continue
                }
                do {
                    for part in response.parts {
                        switch part {
                        case .responseHead(let head): initial = head.metadata
                        case .message(let buffer): try await writer.write(buffer)
                        case .trailers(let end): trailers = end
                        case .end: break
                        }
                    }
                    response.taken()
                } catch {
                    // The client is gone: this write fails, and so does every later one; the handler is
                    // stopped, and what it wrote meanwhile is refused as the responses drain.
                    failure = error
                    response.refused(error)
                    call.cancel(reason: "the client is gone: \(error)")
                }
            }
            if let failure {
                group.cancelAll()
                throw failure
            }
            // The handler is done (or the call was given up): requests the client still sends are not read, and
            // a send waiting for room in the window goes on.
            call.close()
            group.cancelAll()
            guard let trailers else {
                throw RPCError(code: .cancelled, message: "the call was cancelled before it finished")
            }
            // gRPC sent its response headers before the first message; the handler's initial metadata goes out
            // with the trailing metadata instead.
            var metadata = GRPCCore.Metadata()
            for entry in initial + trailers.metadata where !Self.isTransportHeader(entry.key) {
                // gRPC carries bytes only under a `-bin` key, and text only under another.
                let bytes: [UInt8]? =
                    switch entry.value {
                    case .binaryValue(let bytes): Array(bytes)
                    case .textValue(let text): entry.key.hasSuffix("-bin") ? Array(text.utf8) : nil
                    case nil: nil
                    }
                if entry.key.hasSuffix("-bin") {
                    metadata.addBinary(bytes ?? [], forKey: entry.key)
                } else if case .textValue(let text) = entry.value {
                    metadata.addString(text, forKey: entry.key)
                } else if let bytes {
                    metadata.addString(Data(bytes).base64EncodedString(), forKey: entry.key)
                }
            }
            guard trailers.code != 0 else { return metadata }
            let code = Status.Code(rawValue: Int(trailers.code)).flatMap(RPCError.Code.init) ?? .unknown
            throw RPCError(code: code, message: trailers.message, metadata: metadata)
        }
    }
}
