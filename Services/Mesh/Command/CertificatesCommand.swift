import ArgumentParser
import MeshHarness
import MeshIdentity
import MeshPKI

struct CertificatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract:
            "Create the development CA (on first use) and a certificate for every service, county, department and operator."
    )

    @Option(help: "Topology file naming the parties.")
    var topology = "Compose/topology.json"

    @Option(help: "Issue one more certificate: name:role (role is service, county, department, operator or client).")
    var add: [String] = []

    func run() throws {
        let topology = try Topology.load(path: self.topology)
        var parties = topology.allParties
        for item in self.add {
            let parts = item.split(separator: ":")
            guard parts.count == 2, let role = PartyRole(rawValue: String(parts[1])) else {
                throw ValidationError("--add takes name:role, got '\(item)'")
            }
            parties.append((String(parts[0]), role))
        }
        let created = try CertificateDirectory(path: topology.certificates).ensure(parties: parties)
        print(
            created.isEmpty
                ? "all certificates exist in \(topology.certificates)"
                : "created in \(topology.certificates): \(created.joined(separator: ", "))")
    }
}
