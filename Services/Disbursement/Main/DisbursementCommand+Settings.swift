import ServiceKit

extension DisbursementCommand {
    /// Each setting not given as a flag, from the environment or the secrets directory.
    mutating func configure(from settings: ServiceSettings) throws {
        try self.options.configure(from: settings)
        self.database = try settings.resolve("database", self.database)
        self.catalogHost = try settings.resolve("catalog-host", self.catalogHost)
        self.catalogPort = try settings.resolve("catalog-port", self.catalogPort)
        self.orderLifetimeHours = try settings.resolve("order-lifetime-hours", self.orderLifetimeHours)
        self.budgets = try settings.resolve("budgets", self.budgets)
    }
}
