import Logging
import ServiceKit
import ServiceLifecycle

/// Follows the replicas of services given by name: every `interval`, each pool resolves its names again and
/// admits or retires replicas (`ReplicaPool.refresh()`), so `docker-compose up --scale eligibility=4` is used
/// by a running gateway within one interval. Pools of addresses only are left alone.
public struct ReplicaResolution: Service {
    let pools: [ReplicaPool]
    let interval: Duration
    let logger: Logger

    /// The seconds `--resolve-seconds` may name: at least one (a resolver asked in a loop is a flood), at most
    /// an hour (a replica added later than that is not worth waiting for).
    public static let intervalSeconds = 1...3600

    /// The interval `--resolve-seconds` names, or why it is refused.
    public static func interval(seconds: Int) throws(ReplicaResolutionError) -> Duration {
        guard Self.intervalSeconds.contains(seconds) else {
            throw ReplicaResolutionError(
                description:
                    "--resolve-seconds: \(Self.intervalSeconds.lowerBound) to \(Self.intervalSeconds.upperBound), got \(seconds)"
            )
        }
        return .seconds(seconds)
    }

    public init(pools: [ReplicaPool], interval: Duration, logger: Logger) {
        self.pools = pools.filter(\.resolves)
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // A service that returns ends the group: with nothing to follow, it waits for the shutdown.
        guard !self.pools.isEmpty else { return try await gracefulShutdown() }
        await PeriodicJob.run(every: self.interval, "replica resolution", logger: self.logger) {
            for pool in self.pools {
                let (admitted, retired) = await pool.refresh()
                if !admitted.isEmpty || !retired.isEmpty {
                    self.logger.notice(
                        "replicas changed",
                        metadata: [
                            "service": "\(pool.service)", "admitted": "\(admitted.map(\.description))",
                            "retired": "\(retired.map(\.description))", "in_use": "\(pool.count)",
                        ])
                }
            }
        }
    }
}

/// A resolution interval out of its bounds.
public struct ReplicaResolutionError: Error, CustomStringConvertible {
    public let description: String
}
