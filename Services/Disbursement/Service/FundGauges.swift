import Ledger
import Logging
import Metrics
import ServiceKit
import ServiceLifecycle

/// Publishes each fund's budget, what it has paid and what is reserved, as metrics the operator can alert on
/// (a fund about to run dry), read from the ledger every few seconds.
public struct FundGauges: Service {
    let ledger: Ledger
    let interval: Duration
    let logger: Logger

    public init(ledger: Ledger, interval: Duration = .seconds(5), logger: Logger) {
        self.ledger = ledger
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await PeriodicJob.run(every: self.interval, "fund gauges", logger: self.logger) {
            for fund in try await self.ledger.funds().funds {
                let dimensions = [("fund", fund.account)]
                Gauge(label: "benefits_fund_budget_fen", dimensions: dimensions).record(fund.budgetFen)
                Gauge(label: "benefits_fund_posted_fen", dimensions: dimensions).record(fund.postedFen)
                Gauge(label: "benefits_fund_reserved_fen", dimensions: dimensions).record(fund.reservedFen)
                Gauge(label: "benefits_fund_available_fen", dimensions: dimensions).record(fund.availableFen)
            }
        }
    }
}
