import ServiceKit

extension CatalogCommand.Serve {
    /// Each setting not given as a flag, from the environment or the secrets directory.
    mutating func configure(from settings: ServiceSettings) throws {
        try self.options.configure(from: settings)
        self.data.data = try settings.resolve("data", self.data.data)
        self.data.sources = try settings.resolve("sources", self.data.sources)
        self.reloadSeconds = try settings.resolve("reload-seconds", self.reloadSeconds)
    }
}
