import ArgumentParser
import Foundation
import MeshHarness

/// Restarts one process of a running mesh the way `mesh up` started it: SIGTERM (drained), then started
/// again and waited for until it reports healthy.
struct RestartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart", abstract: "Restart one service replica of the running mesh.")

    @Option(help: "Topology file.")
    var topology = "Compose/topology.json"

    @Argument(help: "The service: catalog, eligibility, disbursement, notification or gateway.")
    var service: String

    @Option(help: "Which replica (0 for the first).")
    var replica = 0

    func run() async throws {
        let topology = try Topology.load(path: self.topology)
        guard var state = MeshState.load(directory: topology.state) else {
            throw ValidationError("no mesh is running: start it with `mesh up`")
        }
        guard
            let index = state.instances.firstIndex(where: { $0.service == self.service && $0.replica == self.replica })
        else {
            throw ValidationError("the running mesh has no \(self.service) replica \(self.replica)")
        }
        let graceful = await ProcessControl.stop(state.instances[index].pid, grace: .seconds(15))
        try await Self.start(&state, index: index, topology: topology)
        print(
            "restarted \(self.service) replica \(self.replica)\(graceful ? "" : " (it was killed after 15 s)"): pid \(state.instances[index].pid)"
        )
    }

    /// Starts instance `index` again with its recorded command line, waits until it serves, and saves the state.
    static func start(_ state: inout MeshState, index: Int, topology: Topology) async throws {
        let instance = state.instances[index]
        guard let executable = instance.executable, let arguments = instance.arguments else {
            throw ValidationError(
                "the state file does not say how \(instance.service) was started: restart the mesh with this `mesh`")
        }
        state.instances[index].pid = try ProcessControl.spawn(
            executable: executable, arguments: arguments, log: instance.log, append: true)
        try state.save(directory: topology.state)
        let tls = try HealthProbe.tls(certificates: topology.certificates, service: instance.service)
        if case .failure(let error) = await HealthProbe.waitUntilServing(
            port: instance.port, tls: tls, within: .seconds(30))
        {
            throw ValidationError(
                "\(instance.service) replica \(instance.replica) did not become healthy: \(error) (log: \(instance.log))"
            )
        }
    }
}
