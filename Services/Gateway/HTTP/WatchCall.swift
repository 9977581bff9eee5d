import BenefitsAPI
import MeshMessages
import MeshRPC
import NIOConcurrencyHelpers

/// One WatchInbox call the HTTP face makes on a client's behalf. The call runs in its own task from the
/// start, so the face can wait for the gateway's answer before it writes a status; its notices are handed
/// over through `notices`. The call is cancelled when the client's connection or stream closes, and when
/// this object goes, whether or not the response body was ever run: a client gone must not hold a watch
/// slot until the deadline.
final class WatchCall: Sendable {
    let notices: AsyncThrowingStream<Jiaxing_Benefits_V1_Notice, any Error>
    private let task: Task<Void, Never>
    private let answered: AsyncStream<Result<Void, RPCError>>

    init(_ request: Jiaxing_Benefits_V1_WatchInboxRequest, gateway: MeshClient, options: CallOptions) {
        let (notices, continuation) = AsyncThrowingStream<Jiaxing_Benefits_V1_Notice, any Error>.makeStream()
        let (answered, answer) = AsyncStream<Result<Void, RPCError>>.makeStream(bufferingPolicy: .bufferingOldest(1))
        self.notices = notices
        self.answered = answered
        self.task = Task {
            do {
                try await gateway.serverStreaming(GatewayMethods.watchInbox, request, options: options) {
                    (stream: ResponseStream<Jiaxing_Benefits_V1_Notice>) in
                    for try await event in stream.events {
                        answer.yield(.success(()))
                        if case .response(let notice) = event { continuation.yield(notice) }
                    }
                }
                answer.yield(.success(()))
                continuation.finish()
            } catch {
                answer.yield(.failure(RPCError.from(error)))
                continuation.finish(throwing: error)
            }
            answer.finish()
        }
    }

    deinit {
        self.task.cancel()
    }

    /// Ends the call now (the client went away): its watch slot frees at once, not at the deadline.
    func cancel() {
        self.task.cancel()
    }

    /// The gateway's first answer: accepted (its response head or a first notice), or the call's error.
    func answer() async -> Result<Void, RPCError> {
        for await answer in self.answered { return answer }
        return .failure(RPCError(.cancelled, "the watch was cancelled"))
    }
}
