import Foundation
import Logging
import SQLStore

/// Opens the database a `--database` option names: a file path for SQLite (the embedded default), or
/// `postgres://user[:password]@host[:port]/database` for PostgreSQL, which several replicas can share.
public enum DatabaseOption {
    public static func open(_ value: String, logger: Logger) throws -> any SQLDatabase {
        if value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") {
            guard let url = URL(string: value), let host = url.host, let user = url.user, url.path.count > 1 else {
                throw DatabaseOptionError(
                    message: "--database: expected postgres://user[:password]@host[:port]/database, got \(value)")
            }
            return PostgresDatabase(
                host: host, port: url.port ?? 5432, username: user, password: url.password,
                database: String(url.path.dropFirst()), logger: logger)
        }
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: value).deletingLastPathComponent().path, withIntermediateDirectories: true)
        return try SQLiteDatabase(path: value)
    }
}

public struct DatabaseOptionError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { self.message }
}
