import ArgumentParser
import Logging

/// The flags every service executable takes.
public struct ServiceOptions: ParsableArguments, Sendable {
    @Option(help: "Address to listen on.")
    public var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    public var port: Int

    @Option(help: "Directory holding ca.pem and this party's <name>.pem and <name>-key.pem.")
    public var certificates: String = ".mesh/certs"

    @Option(help: "Name of this party's certificate (defaults to the service name).")
    public var identity: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: String = "info"

    @Option(help: "Port for Prometheus metrics and HTTP health (/metrics, /live, /ready); none when not given.")
    public var metricsPort: Int?

    @Option(help: "Seconds calls in flight may run after SIGTERM before connections close.")
    public var drainSeconds: Int = 10

    public init() {}

    public func logger(label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info
        return logger
    }
}
