import Logging
import Metrics
import NotificationCore
import ServiceKit
import ServiceLifecycle

/// Publishes the webhook backlog (deliveries waiting or retrying) and the dead letters, as metrics the
/// operator can alert on, read from the notification store every few seconds.
public struct DeliveryGauges: Service {
    let center: Notifier
    let interval: Duration
    let logger: Logger

    public init(center: Notifier, interval: Duration = .seconds(5), logger: Logger) {
        self.center = center
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await PeriodicJob.run(every: self.interval, "delivery gauges", logger: self.logger) {
            let counts = try await self.center.deliveryCounts()
            Gauge(label: "benefits_webhook_backlog").record(counts[.pending] ?? 0)
            Gauge(label: "benefits_webhook_dead_letters").record(counts[.dead] ?? 0)
            Gauge(label: "benefits_webhook_delivered").record(counts[.delivered] ?? 0)
        }
    }
}
