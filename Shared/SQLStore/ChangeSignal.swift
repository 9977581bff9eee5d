import NIOConcurrencyHelpers

/// Tells waiters that something they follow changed: a commit that notified a channel
/// (`SQLTransaction.notify`), in this process or, on PostgreSQL, in any (`LISTEN`). A follower reads
/// `generation` before it looks, and when it found nothing waits for a later one instead of asking again on
/// a timer.
///
/// Invariant: a ring after `generation` was read is never missed; `wait` returns at once if one happened
/// between the read and the wait.
public final class ChangeSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Counts the rings so far.
    public var generation: UInt64 { self.state.withLockedValue { $0.generation } }

    /// Wakes every waiter.
    public func ring() {
        let waiters = self.state.withLockedValue { state in
            state.generation &+= 1
            defer { state.waiters = [:] }
            return state.waiters
        }
        for waiter in waiters.values { waiter.resume() }
    }

    /// Returns once the signal has rung after `generation`, or after `timeout` (what a follower must check
    /// anyway: a lease running out, a retry falling due), or when the task is cancelled.
    public func wait(after generation: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.rung(after: generation) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func rung(after generation: UInt64) async {
        let id = self.state.withLockedValue { state in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = self.state.withLockedValue { state -> Bool in
                    guard state.generation == generation, !Task.isCancelled else { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            self.state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

/// A signal per channel, made on first use.
final class ChangeSignals: Sendable {
    private let signals = NIOLockedValueBox<[String: ChangeSignal]>([:])

    func signal(_ channel: String) -> ChangeSignal {
        self.signals.withLockedValue { signals in
            if let signal = signals[channel] { return signal }
            let signal = ChangeSignal()
            signals[channel] = signal
            return signal
        }
    }

    func ring(_ channels: Set<String>) {
        for channel in channels { self.signal(channel).ring() }
    }
}
