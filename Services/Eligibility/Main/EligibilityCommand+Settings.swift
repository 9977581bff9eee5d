import ServiceKit

extension EligibilityCommand {
    /// Each setting not given as a flag, from the environment or the secrets directory.
    mutating func configure(from settings: ServiceSettings) throws {
        try self.options.configure(from: settings)
        self.catalogHost = try settings.resolve("catalog-host", self.catalogHost)
        self.catalogPort = try settings.resolve("catalog-port", self.catalogPort)
    }
}
