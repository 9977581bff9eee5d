import Logging
import ServiceLifecycle

/// The loop of a service's background work done every so often (expiring orders, publishing gauges, looking
/// at files): one round, then a wait, until the service group shuts down.
///
/// A round is never interrupted by a graceful shutdown (an expiry sweep's transaction completes); the wait
/// is, so shutting down does not wait out an interval. A round that fails is logged and the next one comes
/// at its time: background work outlives a storage hiccup.
public enum PeriodicJob {
    /// Runs `round` every `interval` (measured from the end of one round to the start of the next) until
    /// graceful shutdown or cancellation. `round` runs in the caller's task, so it may keep state between
    /// rounds in the caller's variables.
    /// - Parameters:
    ///   - what: names the work in the log line of a failed round ("expiry sweep").
    ///   - level: the level of that line.
    ///   - first: whether the first round runs at once, or after one interval.
    public static func run(
        every interval: Duration, _ what: String, logger: Logger, level: Logger.Level = .warning,
        first: First = .atOnce, _ round: () async throws -> Void
    ) async {
        if first == .afterInterval, !(await Self.wait(interval)) { return }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await round()
            } catch {
                logger.log(level: level, "\(what) failed", metadata: ["error": "\(error)"])
            }
            guard await Self.wait(interval) else { return }
        }
    }

    /// When the first round runs.
    public enum First: Sendable {
        case atOnce, afterInterval
    }

    /// Waits `interval`; false once the group shuts down or the task is cancelled (which ends the wait early).
    private static func wait(_ interval: Duration) async -> Bool {
        do {
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            return !Task.isShuttingDownGracefully
        } catch {
            return false
        }
    }
}
