import Foundation
import NIOConcurrencyHelpers
import SQLStore

/// A throwaway PostgreSQL server for the tests: initdb into a temporary folder, started on a free port,
/// stopped when the test process ends. Needs Debian's `postgresql` package (`.ci/run` installs it); the tests
/// that use it fail with that message rather than skip when it is missing.
public final class TemporaryPostgres: @unchecked Sendable {
    public let port: Int
    public let directory: String
    let binaries: String
    let user: String?

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// One server for the whole test process, started on first use.
    ///
    /// Starting it (initdb, then pg_ctl) takes seconds, and a lazily initialised static blocks every thread
    /// that touches it meanwhile: the test suites reaching for it at once held both cooperative threads, and
    /// every other test's reads stalled while the event loops' deadlines ran on. So the start runs on a thread
    /// of its own and callers suspend on it.
    public static func shared() async throws -> TemporaryPostgres {
        try await starting.value.get()
    }

    private static let starting = Task<Result<TemporaryPostgres, Unavailable>, Never> {
        await MeshProcess.onOwnThread {
            do { return .success(try TemporaryPostgres()) } catch let error as Unavailable {
                return .failure(error)
            } catch { return .failure(Unavailable(description: "\(error)")) }
        }
    }

    public init() throws {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted()
        guard let version = versions.last,
            FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/initdb")
        else {
            throw Unavailable(
                description: "PostgreSQL is not installed (Debian: apt-get install postgresql); .ci/run installs it")
        }
        self.binaries = "/usr/lib/postgresql/\(version)/bin"
        self.port = MeshProcess.freePort()
        self.directory = "/tmp/mesh-postgres-\(UUID().uuidString.prefix(8))"
        // PostgreSQL refuses to run as root: run it as the postgres user the package created.
        self.user = getuid() == 0 ? "postgres" : nil
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        // TLS as production runs it: a server certificate from the tests' mesh CA, for localhost.
        let server = try TestMesh.authority.issue(commonName: "postgres", role: .service, dnsNames: ["localhost"])
        try server.certificatePEM.write(toFile: "\(self.directory)/server.crt", atomically: true, encoding: .utf8)
        try server.privateKeyPEM.write(toFile: "\(self.directory)/server.key", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o600], ofItemAtPath: "\(self.directory)/server.key")
        if let user = self.user { try Self.run("/bin/chown", ["-R", user, self.directory]) }
        try self.run("initdb", ["-D", "\(self.directory)/data", "-A", "trust", "-U", "postgres", "--no-sync"])
        try self.run(
            "pg_ctl",
            [
                "-D", "\(self.directory)/data", "-l", "\(self.directory)/log", "-w", "-t", "60",
                "-o",
                "-p \(self.port) -k \(self.directory) -c listen_addresses=127.0.0.1 -c max_connections=200 -c ssl=on -c ssl_cert_file=\(self.directory)/server.crt -c ssl_key_file=\(self.directory)/server.key",
                "start",
            ])
        stopAtExit(self)
    }

    func run(_ tool: String, _ arguments: [String]) throws {
        if let user = self.user {
            try Self.run("/usr/sbin/runuser", ["-u", user, "--", "\(self.binaries)/\(tool)"] + arguments)
        } else {
            try Self.run("\(self.binaries)/\(tool)", arguments)
        }
    }

    /// Runs a tool to completion (`MeshProcess.spawnAndWait`); a failure carries the tool's output.
    static func run(_ executable: String, _ arguments: [String]) throws {
        let result: (status: Int32, output: String)
        do {
            result = try MeshProcess.spawnAndWait(executable, arguments)
        } catch {
            throw Unavailable(description: "\(error)")
        }
        guard result.status == 0 else {
            throw Unavailable(
                description:
                    "\(executable) \(arguments.joined(separator: " ")) failed (status \(result.status)): \(result.output.suffix(1500))"
            )
        }
    }

    /// Creates an empty database and returns its name; `createdb` is waited for on a thread of its own.
    public func makeDatabase() async throws -> String {
        let name = "test_\(UUID().uuidString.prefix(12).replacingOccurrences(of: "-", with: "_").lowercased())"
        try await MeshProcess.onOwnThread {
            Result { try self.run("createdb", ["-h", "127.0.0.1", "-p", "\(self.port)", "-U", "postgres", name]) }
        }.get()
        return name
    }

    /// A connection to database `name` on this server, or to a new, empty one.
    public func database(_ name: String? = nil) async throws -> PostgresDatabase {
        let database: String
        if let name { database = name } else { database = try await self.makeDatabase() }
        // A small pool whose idle connections close soon, served until the test lets go of it: the tests together
        // hold many databases at once, and a pool that outlived its test kept its connections from the others.
        let connection = try PostgresDatabase(
            host: "127.0.0.1", port: self.port, username: "postgres", password: nil, database: database,
            maximumConnections: 4, idleTimeout: .seconds(5), logger: TestMesh.logger)
        connection.serveUntilReleased()
        return connection
    }

    public func stop() {
        try? self.run("pg_ctl", ["-D", "\(self.directory)/data", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}

private nonisolated(unsafe) var serversToStop: [TemporaryPostgres] = []

private func stopAtExit(_ server: TemporaryPostgres) {
    if serversToStop.isEmpty {
        atexit { for server in serversToStop { server.stop() } }
    }
    serversToStop.append(server)
}
