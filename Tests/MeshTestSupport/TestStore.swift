import Foundation
import SQLStore

/// The store a test runs on: SQLite (the embedded default) or the test process's PostgreSQL server (the
/// path beyond one machine), each real. Suites that guard money take it as an argument and run on both.
public enum TestStore: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { self.rawValue }

    /// A new, empty database: a file `name`.sqlite in `folder`, or a new database on the shared server.
    public func database(_ name: String, in folder: String) async throws -> any SQLDatabase {
        switch self {
        case .sqlite:
            return try SQLiteDatabase(path: "\(folder)/\(name).sqlite")
        case .postgres:
            return try await TemporaryPostgres.shared().database()
        }
    }
}
