import ArgumentParser
import BenefitsAPI
import Foundation
import Logging
import MeshHarness
import MeshMessages
import MeshPKI
import MeshRPC
import ServiceKit
import UnixSignals

struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract:
            "Start the whole mesh on this machine, one process per service replica, and wait until all are healthy."
    )

    @Option(help: "Topology file.")
    var topology = "Compose/topology.json"

    @Option(parsing: .upToNextOption, help: "Replica counts, e.g. --replicas eligibility=3.")
    var replicas: [String] = []

    @Option(help: "Directory of the service executables (defaults to the one holding `mesh`).")
    var binDirectory: String?

    @Flag(help: "Return once the mesh is healthy and leave it running (stop it with `mesh down`).")
    var detach = false

    @Flag(help: "Once healthy, run `mesh demo`: screen the sample enterprises and print what they are entitled to.")
    var demo = false

    @Option(help: "With --demo: enterprises generated beside the samples for the campaign to find.")
    var demoGenerated = DemoCommand.defaultGenerated

    func run() async throws {
        var topology = try Topology.load(path: self.topology)
        try topology.override(replicas: self.replicas)
        if let state = MeshState.load(directory: topology.state),
            state.instances.contains(where: { ProcessControl.isAlive($0.pid) })
        {
            throw ValidationError("a mesh is already running (see `mesh status`); stop it with `mesh down` first")
        }
        let created = try CertificateDirectory(path: topology.certificates).ensure(parties: topology.allParties)
        if !created.isEmpty {
            print("certificates: created \(created.count) in \(topology.certificates) (CA and one per party)")
        }

        let binDirectory =
            self.binDirectory
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        let logDirectory = "\(topology.state)/logs"
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)

        var state = MeshState(certificates: topology.certificates, instances: [])
        for service in topology.services {
            for replica in 0..<service.replicas {
                let launch = try topology.launch(service, replica: replica)
                let (port, metricsPort, arguments) = (launch.port, launch.metricsPort, launch.arguments)
                let log = "\(logDirectory)/\(service.name)-\(replica).log"
                let executable = "\(binDirectory)/\(service.name)"
                let pid = try ProcessControl.spawn(executable: executable, arguments: arguments, log: log)
                state.instances.append(
                    .init(
                        service: service.name, replica: replica, port: port, pid: pid, log: log,
                        metricsPort: metricsPort, executable: executable, arguments: arguments))
            }
        }
        try state.save(directory: topology.state)

        print("waiting for \(state.instances.count) processes to report healthy…")
        var healthy = true
        for instance in state.instances {
            let tls = try HealthProbe.tls(certificates: topology.certificates, service: instance.service)
            switch await HealthProbe.waitUntilServing(port: instance.port, tls: tls, within: .seconds(30)) {
            case .success(let response):
                print(
                    "  \(instance.service.padding(toLength: 13, withPad: " ", startingAt: 0)) replica \(instance.replica)  mtls://127.0.0.1:\(instance.port)  \(instance.metricsPort.map { "http://127.0.0.1:\($0)/metrics  " } ?? "")pid \(instance.pid)  \(response.server): serving"
                )
            case .failure(let error):
                healthy = false
                print(
                    "  \(instance.service) replica \(instance.replica) on port \(instance.port) is not healthy: \(error) (log: \(instance.log))"
                )
            }
        }
        guard healthy else {
            await Self.stopAll(state, topology: topology)
            throw ExitCode.failure
        }
        print(
            "mesh is up: \(state.instances.count) processes, certificates in \(topology.certificates), logs in \(logDirectory)"
        )
        if self.demo {
            do {
                try await DemoCommand.run(
                    target: try MeshTarget.local(state), topology: topology,
                    enterprisesPath: "Compose/demo/enterprises.json",
                    generated: self.demoGenerated)
            } catch {
                print("demo failed: \(error)")
                await Self.stopAll(state, topology: topology)
                throw ExitCode.failure
            }
            print("")
        }
        if self.detach {
            print("stop it with `mesh down`")
            return
        }
        print("press Ctrl-C to stop")
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        for await _ in signals { break }
        await Self.stopAll(state, topology: topology)
    }

    static func stopAll(_ state: MeshState, topology: Topology) async {
        // The gateway first, so county calls stop arriving before the services behind it drain.
        for instance in state.instances.reversed() {
            let graceful = await ProcessControl.stop(instance.pid, grace: .seconds(15))
            print("  stopped \(instance.service) replica \(instance.replica)\(graceful ? "" : " (killed after 15 s)")")
        }
        MeshState.remove(directory: topology.state)
    }
}

struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down", abstract: "Stop a mesh started with `mesh up --detach`, gracefully.")

    @Option(help: "Topology file.")
    var topology = "Compose/topology.json"

    func run() async throws {
        let topology = try Topology.load(path: self.topology)
        guard let state = MeshState.load(directory: topology.state) else {
            print("no mesh is running")
            return
        }
        await UpCommand.stopAll(state, topology: topology)
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show each process of the running mesh and its health.")

    @Option(help: "Topology file.")
    var topology = "Compose/topology.json"

    @Option(
        help:
            "A gateway elsewhere (Compose's published port): show every replica it balances, as it sees them, asked with the operator's certificate. Without it, the processes `mesh up` runs here."
    )
    var host: String?

    @Option(help: "With --host: the gateway's mesh port.")
    var port = 7400

    @Option(
        help: "With --host: the certificates folder (the operator's certificate and ca.pem). Default: the topology's.")
    var certificates: String?

    func run() async throws {
        let topology = try Topology.load(path: self.topology)
        if let host = self.host {
            return try await self.remote(host: host, certificates: self.certificates ?? topology.certificates)
        }
        guard let state = MeshState.load(directory: topology.state) else {
            print("no mesh is running")
            throw ExitCode.failure
        }
        var allHealthy = true
        for instance in state.instances {
            let alive = ProcessControl.isAlive(instance.pid)
            var health = "process gone"
            if alive {
                let tls = try HealthProbe.tls(certificates: state.certificates, service: instance.service)
                switch await HealthProbe.check(port: instance.port, tls: tls) {
                case .success(let response): health = "\(response.status)"
                case .failure(let error): health = "unreachable: \(error)"
                }
            }
            if health != "serving" { allHealthy = false }
            print(
                "\(instance.service.padding(toLength: 13, withPad: " ", startingAt: 0)) replica \(instance.replica)  port \(instance.port)  pid \(instance.pid)  \(health)"
            )
        }
        if !allHealthy { throw ExitCode.failure }
    }

    /// The replicas as the gateway at `host` sees them (`Gateway/ListReplicas`); fails when one does not serve.
    func remote(host: String, certificates: String) async throws {
        let client = try MeshTarget.remote(host: host, port: self.port, certificates: certificates).client(
            as: "operator")
        let response = try await client.closing {
            try await GatewayClient(client).listReplicas(
                Jiaxing_Benefits_V1_ListReplicasRequest(), options: CallOptions(timeout: .seconds(10)))
        }
        print("gateway       \(host):\(self.port)  \(response.gateway)  SERVING")
        for replica in response.replicas {
            print(
                "\(replica.service.padding(toLength: 13, withPad: " ", startingAt: 0)) \(replica.endpoint)  in flight \(replica.outstanding)  \(replica.detail)"
            )
        }
        if response.replicas.contains(where: { !$0.serving }) { throw ExitCode.failure }
    }
}

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Ask one server whether it serves.")

    @Option(help: "Port of the server.")
    var port: Int

    @Option(help: "Service name its certificate carries.")
    var service: String

    @Option(help: "Certificate directory.")
    var certificates = ".mesh/certs"

    @Option(help: "Host of the server.")
    var host = "127.0.0.1"

    @Option(
        help:
            "Certificate to ask with: mesh-cli, or a container's own (every certificate of the mesh CA may ask, so a container's health check needs no other key)."
    )
    var identity = HealthProbe.defaultIdentity

    func run() async throws {
        switch await HealthProbe.check(
            host: self.host, port: self.port,
            tls: try HealthProbe.tls(certificates: self.certificates, service: self.service, identity: self.identity))
        {
        case .success(let response) where response.status == .serving: print("\(response.server): \(response.status)")
        case .success(let response):
            print("\(response.server): \(response.status)")
            throw ExitCode.failure
        case .failure(let error):
            print("not healthy: \(error)")
            throw ExitCode.failure
        }
    }
}
