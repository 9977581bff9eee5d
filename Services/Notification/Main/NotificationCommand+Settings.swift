import ServiceKit

extension NotificationCommand {
    /// Each setting not given as a flag, from the environment or the secrets directory.
    mutating func configure(from settings: ServiceSettings) throws {
        try self.options.configure(from: settings)
        self.database = try settings.resolve("database", self.database)
        self.templates = try settings.resolve("templates", self.templates)
        self.catalogHost = try settings.resolve("catalog-host", self.catalogHost)
        self.catalogPort = try settings.resolve("catalog-port", self.catalogPort)
        self.disbursementHost = try settings.resolve("disbursement-host", self.disbursementHost)
        self.disbursementPort = try settings.resolve("disbursement-port", self.disbursementPort)
        self.maximumAttempts = try settings.resolve("maximum-attempts", self.maximumAttempts)
        self.deliveryClaimSeconds = try settings.resolve("delivery-claim-seconds", self.deliveryClaimSeconds)
        self.webhookTrustRoots = try settings.resolve("webhook-trust-roots", self.webhookTrustRoots)
        self.webhookAllowHost = settings.resolve("webhook-allow-host", self.webhookAllowHost)
        self.secretsKey = try settings.resolve("secrets-key", self.secretsKey)
    }
}
