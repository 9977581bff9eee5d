import Logging
import SQLStore
import ServiceLifecycle

/// Follows a PostgreSQL channel (`LISTEN`) for the replicas sharing the database: their commits that notify
/// it ring the channel's signal here too. Reconnects with backoff while the database is away; followers
/// keep looking on their own timer meanwhile.
public struct ChangeListener: Service {
    let database: PostgresDatabase
    let channel: String
    let logger: Logger

    public init(database: PostgresDatabase, channel: String, logger: Logger) {
        self.database = database
        self.channel = channel
        self.logger = logger
    }

    public func run() async throws {
        var backoff = Duration.milliseconds(100)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await self.database.listen(self.channel) }
                backoff = .milliseconds(100)
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                self.logger.warning(
                    "listening for changes failed; retrying",
                    metadata: ["channel": "\(self.channel)", "error": "\(error)", "in": "\(backoff)"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }
}
