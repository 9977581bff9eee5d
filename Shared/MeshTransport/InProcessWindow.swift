import NIOConcurrencyHelpers

/// Bytes handed from one task to another in process and not yet read: the sender waits while `limit` or more
/// are unread, so a slow reader holds the sender back as a connection's flow-control window does.
final class InProcessWindow: Sendable {
    let limit: Int
    private struct State {
        var unread = 0
        var closed = false
        var waiting: [(id: Int, bytes: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var nextID = 0
    }
    private let state = NIOLockedValueBox(State())

    init(limit: Int) {
        self.limit = limit
    }

    /// Waits until `bytes` more fit (one message always fits an empty window), then counts them as unread.
    /// Returns at once once the window is closed, or when the waiting task is cancelled.
    func reserve(_ bytes: Int) async {
        let id = self.state.withLockedValue { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = self.state.withLockedValue { state -> Bool in
                    if state.closed || Task.isCancelled || state.unread == 0 || state.unread + bytes <= self.limit {
                        state.unread += bytes
                        return true
                    }
                    state.waiting.append((id, bytes, continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiting.remove(at: index).continuation
            }
            waiter?.resume()
        }
    }

    /// The reader took `bytes`: waiting senders go on, in order, as far as there is room (a sender let through
    /// is counted as unread here).
    func consumed(_ bytes: Int) {
        let admitted = self.state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.unread = max(0, state.unread - bytes)
            var admitted: [CheckedContinuation<Void, Never>] = []
            while let next = state.waiting.first, state.unread == 0 || state.unread + next.bytes <= self.limit {
                state.waiting.removeFirst()
                state.unread += next.bytes
                admitted.append(next.continuation)
            }
            return admitted
        }
        for continuation in admitted { continuation.resume() }
    }

    /// The reader is gone: every sender waiting, and every later one, goes on at once.
    func close() {
        let waiting = self.state.withLockedValue { state in
            state.closed = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for waiter in waiting { waiter.continuation.resume() }
    }
}
