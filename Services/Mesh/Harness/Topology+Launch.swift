extension Topology {
    /// How one replica of a service is started: its ports and its command line.
    public struct Launch: Sendable, Equatable {
        public var port: Int
        public var metricsPort: Int?
        public var arguments: [String]
    }

    /// The command line of `service`'s replica `replica`: its port (the service's plus the replica's index),
    /// its certificate, its metrics port, the port of each service it depends on, the ports of every replica
    /// of each it balances, and its own arguments with `{state}` and `{certificates}` filled in.
    public func launch(_ service: ServiceEntry, replica: Int) throws -> Launch {
        let port = service.port + replica
        var arguments = ["--port", "\(port)", "--certificates", self.certificates, "--identity", service.name]
        let metricsPort = self.metricsPortOffset.map { port + $0 }
        if let metricsPort { arguments += ["--metrics-port", "\(metricsPort)"] }
        for dependency in service.dependsOn ?? [] {
            guard let target = self.services.first(where: { $0.name == dependency }) else {
                throw HarnessError("\(service.name) depends on '\(dependency)', which the topology does not list")
            }
            arguments += ["--\(dependency)-port", "\(target.port)"]
        }
        for balanced in service.balances ?? [] {
            guard let target = self.services.first(where: { $0.name == balanced }) else {
                throw HarnessError("\(service.name) balances '\(balanced)', which the topology does not list")
            }
            arguments += [
                "--\(balanced)-ports", (0..<target.replicas).map { String(target.port + $0) }.joined(separator: ","),
            ]
        }
        arguments += (service.arguments ?? []).map {
            $0.replacingOccurrences(of: "{state}", with: self.state)
                .replacingOccurrences(of: "{certificates}", with: self.certificates)
        }
        return Launch(port: port, metricsPort: metricsPort, arguments: arguments)
    }
}
