import Ledger
import Logging
import ServiceLifecycle

/// Expires pending orders nobody decided in time, releasing their reservations.
public struct ExpirySweeper: Service {
    let ledger: Ledger
    let interval: Duration
    let logger: Logger

    public init(ledger: Ledger, interval: Duration = .seconds(5), logger: Logger) {
        self.ledger = ledger
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let expired = try await self.ledger.expireDue()
                if expired > 0 { self.logger.info("orders expired", metadata: ["count": "\(expired)"]) }
            } catch {
                self.logger.error("expiry sweep failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: self.interval)
        }
    }
}
