import Foundation
import Logging
import SQLStore

/// `--database`: a SQLite file, or `postgres://user[:password]@host[:port]/database[?sslmode=…&sslrootcert=…]`.
/// The password is better kept off the command line (every local user can read a process's arguments):
/// without one in the URL it is the service's `database-password` setting (`MESH_DATABASE_PASSWORD`, or the
/// secrets directory's `mesh-database-password`: `ServiceSettings.secret`), else `PGPASSWORD`, else the file
/// `PGPASSWORD_FILE` names. `sslmode` is libpq's: `disable` (the default, for a server on loopback),
/// `require` (encrypted), `verify-full` (encrypted, the certificate checked against `sslrootcert` or the
/// system's roots, and the host name). `pool_max_conns` (pgx's name) sizes the replica's pool: 1 to
/// `maximumPoolSize`, `PostgresDatabase.defaultMaximumConnections` where it is not given; the replicas'
/// pools together must stay under the server's `max_connections`. `prepared_statements=off` runs the hot
/// statements unnamed, as every other (for a pooler in transaction mode); they are named and prepared once per
/// connection by default.
public enum DatabaseOption {
    /// The most connections one replica's pool may open.
    public static let maximumPoolSize = 64

    /// Opens the database and, for PostgreSQL, connects once (`PostgresDatabase.check`): a service that
    /// cannot reach its database refuses to start, saying why.
    public static func connect(
        _ value: String, password: String? = nil, logger: Logger,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> any SQLDatabase {
        let database = try Self.open(value, password: password, logger: logger, environment: environment)
        if let postgres = database as? PostgresDatabase {
            do {
                try await postgres.check()
            } catch let error as SQLError {
                throw DatabaseOptionError(message: "--database: \(error.message)")
            }
        }
        return database
    }

    public static func open(
        _ value: String, password setting: String? = nil, logger: Logger,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> any SQLDatabase {
        if value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") {
            guard let components = URLComponents(string: value), let host = components.host,
                let user = components.user, components.path.count > 1
            else {
                throw DatabaseOptionError(
                    message:
                        "--database: expected postgres://user[:password]@host[:port]/database[?sslmode=…], got \(Self.redacted(value))"
                )
            }
            let query = Dictionary(
                (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
            let tls: PostgresTLS
            switch query["sslmode"] ?? "disable" {
            case "disable": tls = .disable
            case "require": tls = .require
            case "verify-full":
                let roots = try query["sslrootcert"].map { path -> String in
                    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                        throw DatabaseOptionError(message: "--database: sslrootcert \(path) cannot be read")
                    }
                    return text
                }
                tls = .verifyFull(rootCertificatesPEM: roots)
            case let other:
                throw DatabaseOptionError(
                    message: "--database: sslmode must be disable, require or verify-full, got '\(other)'")
            }
            var poolSize = PostgresDatabase.defaultMaximumConnections
            if let text = query["pool_max_conns"] {
                guard let size = Int(text), (1...Self.maximumPoolSize).contains(size) else {
                    throw DatabaseOptionError(
                        message:
                            "--database: pool_max_conns must be a whole number from 1 to \(Self.maximumPoolSize), got '\(text)'"
                    )
                }
                poolSize = size
            }
            let prepared: Bool
            switch query["prepared_statements"] ?? "on" {
            case "on": prepared = true
            case "off": prepared = false
            case let other:
                throw DatabaseOptionError(message: "--database: prepared_statements must be on or off, got '\(other)'")
            }
            var password = components.password ?? setting
            if password == nil { password = environment["PGPASSWORD"] }
            if password == nil, let file = environment["PGPASSWORD_FILE"] {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw DatabaseOptionError(message: "PGPASSWORD_FILE: \(file) cannot be read")
                }
                password = text.trimmingCharacters(in: .newlines)
            }
            return try PostgresDatabase(
                host: host, port: components.port ?? 5432, username: user, password: password,
                database: String(components.path.dropFirst()), tls: tls, maximumConnections: poolSize,
                preparedStatements: prepared, logger: logger)
        }
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: value).deletingLastPathComponent().path, withIntermediateDirectories: true)
        return try SQLiteDatabase(path: value)
    }

    /// The URL with any password replaced, for messages and logs.
    static func redacted(_ value: String) -> String {
        guard var components = URLComponents(string: value), components.password != nil else { return value }
        components.password = "***"
        return components.string ?? "postgres://…"
    }
}

public struct DatabaseOptionError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { self.message }
}
