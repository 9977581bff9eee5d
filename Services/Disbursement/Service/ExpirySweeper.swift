import Ledger
import Logging
import ServiceKit
import ServiceLifecycle

/// Expires pending orders nobody decided in time, releasing their reservations.
public struct ExpirySweeper: Service {
    let ledger: Ledger
    let applications: ApplicationsDesk
    let interval: Duration
    let logger: Logger

    public init(ledger: Ledger, interval: Duration = .seconds(5), logger: Logger) {
        self.ledger = ledger
        self.applications = ApplicationsDesk(ledger: ledger)
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await PeriodicJob.run(every: self.interval, "expiry sweep", logger: self.logger, level: .error) {
            let expired = try await self.ledger.expireDue()
            if expired > 0 { self.logger.info("orders expired", metadata: ["count": "\(expired)"]) }
            // 限时即享: a deadline passed undecided is escalated to the city operator.
            for application in try await self.applications.markBreaches() {
                self.logger.warning(
                    "application deadline breached; escalated to the operator",
                    metadata: [
                        "application": "\(application.id)", "clause": "\(application.clauseID)",
                        "due": "\(application.dueOn.year)-\(application.dueOn.month)-\(application.dueOn.day)",
                        "departments": "\(application.responsibleDepartments.joined(separator: ","))",
                    ])
            }
        }
    }
}
