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
