import NIOConcurrencyHelpers

/// At most `maximum` at once; the rest are turned away rather than queued.
final class ConcurrencyLimit: Sendable {
    let maximum: Int
    private let current = NIOLockedValueBox(0)

    init(maximum: Int) {
        self.maximum = maximum
    }

    func enter() -> Bool {
        self.current.withLockedValue { current in
            guard current < self.maximum else { return false }
            current += 1
            return true
        }
    }

    func leave() {
        self.current.withLockedValue { $0 -= 1 }
    }
}
