import Foundation
import MeshRPC
import MeshTestSupport
import ServiceKit
import Testing

/// Settings from flags, the environment and the secrets directory, in that order, each checked as its flag.
@Suite("Service settings")
struct ServiceSettingsTests {
    /// A secrets directory of its own, holding `files` (name → text).
    static func secrets(_ files: [String: String]) throws -> String {
        let directory = NSTemporaryDirectory() + "mesh-secrets-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
        }
        return directory
    }

    @Test("a flag wins over the environment, the environment over a file, a file over the default")
    func precedence() async throws {
        let directory = try Self.secrets(["mesh-catalog-port": "7411\n", "mesh-catalog-host": " catalog \n"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fromFile = try await ServiceSettings.load(
            arguments: ["eligibility"], environment: [:], secretsDirectory: directory)
        #expect(try fromFile.resolve("catalog-port", 7410) == 7411)
        #expect(try fromFile.resolve("catalog-host", "127.0.0.1") == "catalog")
        #expect(try fromFile.resolve("drain-seconds", 10) == 10)
        let fromEnvironment = try await ServiceSettings.load(
            arguments: ["eligibility"], environment: ["MESH_CATALOG_PORT": "7412"], secretsDirectory: directory)
        #expect(try fromEnvironment.resolve("catalog-port", 7410) == 7412)
        for arguments in [["eligibility", "--catalog-port", "7413"], ["eligibility", "--catalog-port=7413"]] {
            let fromFlag = try await ServiceSettings.load(
                arguments: arguments, environment: ["MESH_CATALOG_PORT": "7412"], secretsDirectory: directory)
            #expect(try fromFlag.resolve("catalog-port", 7413) == 7413)
        }
        // A setting without a default, and one nobody sets.
        #expect(try fromEnvironment.resolve("http-port", Int?.none) == nil)
        let optional = try await ServiceSettings.load(
            arguments: ["gateway"], environment: ["MESH_HTTP_PORT": "7443"], secretsDirectory: directory)
        #expect(try optional.resolve("http-port", Int?.none) == 7443)
        // One of a set, without a default: the service's own choice stands unless a setting names one.
        let execution = try await ServiceSettings.load(
            arguments: ["gateway"], environment: ["MESH_CALL_EXECUTION": "pool"], secretsDirectory: directory)
        #expect(try execution.resolve("call-execution", MeshServer.CallExecution?.none) == .cooperativePool)
        #expect(try optional.resolve("call-execution", MeshServer.CallExecution?.none) == nil)
        // An empty variable counts as not set (the file, then the default, decide).
        let empty = try await ServiceSettings.load(
            arguments: ["eligibility"], environment: ["MESH_CATALOG_PORT": "", "MESH_IDENTITY": " "],
            secretsDirectory: directory)
        #expect(try empty.resolve("catalog-port", 7410) == 7411)
        #expect(try empty.resolve("identity", String?.none) == nil)
    }

    @Test("a value that is not what its flag takes names the variable, the file and the flag")
    func badValues() async throws {
        let settings = try await ServiceSettings.load(
            arguments: ["gateway"],
            environment: ["MESH_PORT": "seventy", "MESH_LOG_FORMAT": "xml", "MESH_RATE": "fast"],
            secretsDirectory: "/nonexistent")
        var options = try ServiceOptions.parse([])
        let error = #expect(throws: ServiceSettingsError.self) { try options.configure(from: settings) }
        #expect(
            error?.message == "MESH_PORT (or /nonexistent/mesh-port), read for --port: 'seventy' is not a whole number")
        #expect(throws: ServiceSettingsError.self) { try settings.resolve("log-format", LogFormat.text) }
        #expect(throws: ServiceSettingsError.self) { try settings.resolve("rate", 500.0) }
        let unknownExecution = try await ServiceSettings.load(
            arguments: ["gateway"], environment: ["MESH_CALL_EXECUTION": "threads"], secretsDirectory: "/nonexistent")
        let execution = #expect(throws: ServiceSettingsError.self) {
            try unknownExecution.resolve("call-execution", MeshServer.CallExecution?.none)
        }
        #expect(execution?.message.hasSuffix("'threads' is not one of pool, event-loop") == true)
        let missing = try await ServiceSettings.load(
            arguments: ["gateway"], environment: [:], secretsDirectory: "/nonexistent")
        let required = #expect(throws: ServiceSettingsError.self) { try options.configure(from: missing) }
        #expect(required?.message == "--port (or MESH_PORT): required")
        let outOfRange = try await ServiceSettings.load(
            arguments: ["gateway"], environment: ["MESH_PORT": "70000"], secretsDirectory: "/nonexistent")
        #expect(throws: ServiceSettingsError.self) { try options.configure(from: outOfRange) }
    }

    @Test("a secret comes from the environment or a file only; a repeatable flag from a comma-separated list")
    func secretsAndLists() async throws {
        let directory = try Self.secrets(["mesh-database-password": "s3cret\n", "mesh-webhook-allow-host": "a, b,,c"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let settings = try await ServiceSettings.load(
            arguments: ["notification"], environment: [:], secretsDirectory: directory)
        #expect(settings.secret("database-password") == "s3cret")
        #expect(settings.resolve("webhook-allow-host", [String]()) == ["a", "b", "c"])
        let flagged = try await ServiceSettings.load(
            arguments: ["notification", "--webhook-allow-host", "d"], environment: [:], secretsDirectory: directory)
        #expect(flagged.resolve("webhook-allow-host", ["d"]) == ["d"])
        let fromEnvironment = try await ServiceSettings.load(
            arguments: ["notification"], environment: ["MESH_DATABASE_PASSWORD": "other"], secretsDirectory: directory)
        #expect(fromEnvironment.secret("database-password") == "other")
    }

    @Test("a service started with no flags at all, configured by its environment and a secrets directory")
    func serviceWithoutFlags() async throws {
        let folder = try TemporaryMeshFolder(parties: [("catalog", .service), ("operator", .operator)])
        defer { folder.remove() }
        let directory = try Self.secrets([
            "mesh-certificates": folder.certificates, "mesh-data": "\(TestMesh.repositoryRoot)/Services/Catalog/Data",
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = MeshProcess.freePort()
        let catalog = MeshProcess(
            name: "catalog", port: port, arguments: [], log: "\(folder.path)/catalog.log",
            environment: [
                "MESH_PORT": "\(port)", "MESH_LOG_LEVEL": "info", "MESH_LOG_FORMAT": "json",
                "MESH_SECRETS_DIRECTORY": directory,
            ])
        try catalog.start()
        defer { catalog.stop() }
        try await catalog.waitUntilServing(tls: try folder.tls("operator", serverHostname: "catalog"))
        let log = try String(contentsOfFile: "\(folder.path)/catalog.log", encoding: .utf8)
        #expect(log.hasPrefix("{"), "JSON lines, as MESH_LOG_FORMAT asked: \(log.prefix(200))")
    }

    @Test("a service refuses to start on a bad setting from the environment, naming it")
    func serviceRefusesBadSetting() async throws {
        let (status, output) = try await MeshProcess.runToCompletion(
            "eligibility", ["--port", "0"], environment: ["MESH_CATALOG_PORT": "seventy"])
        #expect(status != 0)
        #expect(output.contains("MESH_CATALOG_PORT"), "\(output)")
        #expect(output.contains("--catalog-port"), "\(output)")
        let (_, help) = try await MeshProcess.runToCompletion("gateway", ["--help"])
        #expect(help.contains("MESH_CATALOG_PORT for --catalog-port"), "\(help)")
    }
}
