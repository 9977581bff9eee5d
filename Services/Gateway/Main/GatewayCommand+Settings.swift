import ServiceKit

extension GatewayCommand {
    /// Each setting not given as a flag, from the environment or the secrets directory.
    mutating func configure(from settings: ServiceSettings) throws {
        try self.options.configure(from: settings)
        self.catalogPorts = try settings.resolve("catalog-ports", self.catalogPorts)
        self.eligibilityPorts = try settings.resolve("eligibility-ports", self.eligibilityPorts)
        self.disbursementPorts = try settings.resolve("disbursement-ports", self.disbursementPorts)
        self.notificationPorts = try settings.resolve("notification-ports", self.notificationPorts)
        self.servicesHost = try settings.resolve("services-host", self.servicesHost)
        self.resolveSeconds = try settings.resolve("resolve-seconds", self.resolveSeconds)
        self.auditLog = try settings.resolve("audit-log", self.auditLog)
        self.rate = try settings.resolve("rate", self.rate)
        self.burst = try settings.resolve("burst", self.burst)
        self.httpPort = try settings.resolve("http-port", self.httpPort)
        self.grpcPort = try settings.resolve("grpc-port", self.grpcPort)
        self.consolePort = try settings.resolve("console-port", self.consolePort)
        self.database = try settings.resolve("database", self.database)
    }
}
