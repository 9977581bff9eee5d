import ArgumentParser
import Logging
import MeshRPC

/// The flags every service executable takes.
public struct ServiceOptions: ParsableArguments, Sendable {
    @Option(help: "Address to listen on.")
    public var host: String = "127.0.0.1"

    @Option(name: .customLong("port"), help: "Port to listen on (0 picks a free one); required.")
    var portSetting: Int?

    /// The port to listen on, once `configure(from:)` has found one.
    public var port: Int { self.portSetting ?? 0 }

    @Option(help: "Directory holding ca.pem and this party's <name>.pem and <name>-key.pem.")
    public var certificates: String = ".mesh/certs"

    @Option(help: "Name of this party's certificate (defaults to the service name).")
    public var identity: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: String = "info"

    @Option(help: "Log format: text (lines for people) or json (a JSON object a line, for a log collector).")
    public var logFormat: LogFormat = .text

    @Option(help: "Port for Prometheus metrics and HTTP health (/metrics, /live, /ready); none when not given.")
    public var metricsPort: Int?

    @Option(help: "Seconds calls in flight may run after SIGTERM before connections close.")
    public var drainSeconds: Int = 10

    @Option(
        help:
            "Where the handlers run: event-loop (each connection's own; only for a service whose handlers never block) or pool (Swift's cooperative pool). The service's own choice when not given."
    )
    public var callExecution: MeshServer.CallExecution?

    public init() {}

    /// Takes each setting not given as a flag from the environment or the secrets directory; a service has
    /// no port unless one of them names it.
    public mutating func configure(from settings: ServiceSettings) throws {
        self.host = try settings.resolve("host", self.host)
        self.portSetting = try settings.resolve("port", self.portSetting)
        guard let port = self.portSetting else {
            throw ServiceSettingsError(message: "--port (or \(ServiceSettings.variable("port"))): required")
        }
        guard (0...65535).contains(port) else {
            throw ServiceSettingsError(message: "--port: must be from 0 to 65535, got \(port)")
        }
        self.certificates = try settings.resolve("certificates", self.certificates)
        self.identity = try settings.resolve("identity", self.identity)
        self.logLevel = try settings.resolve("log-level", self.logLevel)
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ServiceSettingsError(message: "--log-level: '\(self.logLevel)' is not one of \(levels)")
        }
        self.logFormat = try settings.resolve("log-format", self.logFormat)
        self.metricsPort = try settings.resolve("metrics-port", self.metricsPort)
        self.drainSeconds = try settings.resolve("drain-seconds", self.drainSeconds)
        self.callExecution = try settings.resolve("call-execution", self.callExecution)
    }

    /// The service's logger, on standard error, in the format asked for; every line logged while a call is
    /// served carries the call's `trace_id`.
    public func logger(label: String) -> Logger {
        let format = self.logFormat
        var logger = Logger(label: label) { label -> any LogHandler in
            switch format {
            case .text: StreamLogHandler.standardError(label: label, metadataProvider: .meshTrace)
            case .json: JSONLogHandler(label: label, metadataProvider: .meshTrace)
            }
        }
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info
        return logger
    }
}

extension LogFormat: ExpressibleByArgument {}

extension MeshServer.CallExecution: ExpressibleByArgument {}
