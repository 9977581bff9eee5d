import NIOConcurrencyHelpers

/// Open WatchInbox streams per caller: each holds a flow-control window of notices at the gateway and at
/// notification, so a caller opening thousands of them and reading none held gigabytes. A caller keeps at
/// most `maximumPerCaller` open; the next is refused until one closes.
public final class WatchSlots: Sendable {
    public static let maximumPerCaller = 4

    private let open = NIOLockedValueBox<[String: Int]>([:])

    public init() {}

    /// Takes a slot for `caller`, or returns false when it has `maximumPerCaller` open.
    func acquire(_ caller: String) -> Bool {
        self.open.withLockedValue { open in
            guard open[caller, default: 0] < Self.maximumPerCaller else { return false }
            open[caller, default: 0] += 1
            return true
        }
    }

    func release(_ caller: String) {
        self.open.withLockedValue { open in
            let left = open[caller, default: 1] - 1
            open[caller] = left > 0 ? left : nil
        }
    }
}
