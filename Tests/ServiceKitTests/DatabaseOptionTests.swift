import Foundation
import MeshPKI
import MeshTestSupport
import SQLStore
import ServiceKit
import Testing

/// `--database` for PostgreSQL: TLS as libpq's sslmode names it, the password off the command line.
@Suite("Database option")
struct DatabaseOptionTests {
    /// Whether this session to PostgreSQL is encrypted, as the server sees it.
    static func encrypted(_ database: any SQLDatabase) async throws -> Bool {
        let row = try await database.running {
            try await database.read { transaction in
                try await transaction.queryOne(
                    "SELECT CAST(CASE WHEN ssl THEN 1 ELSE 0 END AS BIGINT) FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    [])
            }
        }
        return row?.integer(0) == 1
    }

    @Test("verify-full against the CA encrypts; disable does not; another CA's root is refused; a bad mode names it")
    func tls() async throws {
        let postgres = try await TemporaryPostgres.shared()
        let name = try await postgres.makeDatabase()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try TestMesh.authority.certificatePEM.write(toFile: "\(folder)/ca.pem", atomically: true, encoding: .utf8)
        let base = "postgres://postgres@localhost:\(postgres.port)/\(name)"

        let verified = try DatabaseOption.open(
            "\(base)?sslmode=verify-full&sslrootcert=\(folder)/ca.pem", logger: TestMesh.logger, environment: [:])
        #expect(try await Self.encrypted(verified))
        let plain = try DatabaseOption.open(base, logger: TestMesh.logger, environment: [:])
        #expect(try await Self.encrypted(plain) == false)
        let required = try DatabaseOption.open("\(base)?sslmode=require", logger: TestMesh.logger, environment: [:])
        #expect(try await Self.encrypted(required))

        try CertificateAuthority.create().certificatePEM.write(
            toFile: "\(folder)/other.pem", atomically: true, encoding: .utf8)
        // Another CA's root: refused when the service starts, naming the database and the certificate,
        // rather than each statement waiting out the pool's minute of retries.
        let stranger = await #expect(throws: DatabaseOptionError.self) {
            _ = try await DatabaseOption.connect(
                "\(base)?sslmode=verify-full&sslrootcert=\(folder)/other.pem", logger: TestMesh.logger,
                environment: [:])
        }
        #expect(stranger?.message.hasPrefix("--database: cannot connect to PostgreSQL at localhost:") == true)
        #expect(stranger?.message.lowercased().contains("certificate") == true, "\(stranger?.message ?? "")")
        // The ones that work pass the same check.
        _ = try await DatabaseOption.connect(
            "\(base)?sslmode=verify-full&sslrootcert=\(folder)/ca.pem", logger: TestMesh.logger, environment: [:])

        let badMode = #expect(throws: DatabaseOptionError.self) {
            _ = try DatabaseOption.open("\(base)?sslmode=sometimes", logger: TestMesh.logger, environment: [:])
        }
        #expect(badMode?.message.contains("sslmode") == true)
    }

    @Test("pool_max_conns sizes the pool, 8 where not given; outside 1 to 64 it is refused naming the limit")
    func poolSize() throws {
        let base = "postgres://ledger:pw@127.0.0.1:5432/ledger"
        let sized = try DatabaseOption.open("\(base)?pool_max_conns=16", logger: TestMesh.logger, environment: [:])
        #expect((sized as? PostgresDatabase)?.maximumConnections == 16)
        let plain = try DatabaseOption.open(base, logger: TestMesh.logger, environment: [:])
        #expect((plain as? PostgresDatabase)?.maximumConnections == PostgresDatabase.defaultMaximumConnections)
        for bad in ["0", "65", "-1", "many", ""] {
            let error = #expect(throws: DatabaseOptionError.self) {
                _ = try DatabaseOption.open("\(base)?pool_max_conns=\(bad)", logger: TestMesh.logger, environment: [:])
            }
            #expect(
                error?.message == "--database: pool_max_conns must be a whole number from 1 to 64, got '\(bad)'",
                "\(error?.message ?? "")")
        }
    }

    @Test("prepared_statements is on where not given, off when asked; any other value is refused naming it")
    func preparedStatements() throws {
        let base = "postgres://ledger:pw@127.0.0.1:5432/ledger"
        let plain = try DatabaseOption.open(base, logger: TestMesh.logger, environment: [:])
        #expect((plain as? PostgresDatabase)?.preparedStatements == true)
        let off = try DatabaseOption.open("\(base)?prepared_statements=off", logger: TestMesh.logger, environment: [:])
        #expect((off as? PostgresDatabase)?.preparedStatements == false)
        let error = #expect(throws: DatabaseOptionError.self) {
            _ = try DatabaseOption.open("\(base)?prepared_statements=yes", logger: TestMesh.logger, environment: [:])
        }
        #expect(error?.message == "--database: prepared_statements must be on or off, got 'yes'")
    }

    @Test("the password comes from the URL, the setting given, PGPASSWORD or PGPASSWORD_FILE; a message never shows it")
    func password() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let missing = #expect(throws: DatabaseOptionError.self) {
            _ = try DatabaseOption.open(
                "postgres://ledger@localhost/ledger", logger: TestMesh.logger,
                environment: ["PGPASSWORD_FILE": "\(folder)/absent"])
        }
        #expect(missing?.message == "PGPASSWORD_FILE: \(folder)/absent cannot be read")
        // The service's own setting (MESH_DATABASE_PASSWORD, /run/secrets/mesh-database-password) comes first.
        _ = try DatabaseOption.open(
            "postgres://ledger@localhost/ledger", password: "given", logger: TestMesh.logger,
            environment: ["PGPASSWORD_FILE": "\(folder)/absent"])
        let malformed = #expect(throws: DatabaseOptionError.self) {
            _ = try DatabaseOption.open("postgres://ledger:s3cret@/", logger: TestMesh.logger, environment: [:])
        }
        #expect(malformed?.message.contains("s3cret") == false)
        #expect(malformed?.message.contains("***") == true, "\(malformed?.message ?? "")")
    }
}
