import Foundation
import SQLStore

/// What the gateway keeps itself: the enterprises each county registered, and the web console's accounts and
/// sessions. SQLite by default; PostgreSQL (`--database postgres://…`) when several gateway replicas share it.
public struct GatewayStore: Sendable {
    public let database: any SQLDatabase
    /// This gateway replica's name among those sharing the store (its host and port): a campaign run it
    /// starts carries it, so when the replica starts again it takes back the runs its earlier life left.
    public let replica: String

    /// Profiles one `RegisterEnterprises` call may carry.
    public static let maximumProfilesPerCall = 1000
    /// Characters of an enterprise's registered name (the longest registered names run to some sixty).
    public static let maximumNameLength = 200
    /// Rows one search returns at most.
    public static let maximumSearchResults = 500
    /// Records one `PublishRecords` call may carry.
    public static let maximumRecordsPerCall = 1000
    /// Characters of a published record's reference (a 文号 and row, an acceptance document's number).
    public static let maximumReferenceLength = 128

    public init(database: any SQLDatabase, replica: String = UUID().uuidString) {
        self.database = database
        self.replica = replica
    }

    /// Opens the store and brings its tables up to the last schema step; replicas starting together take
    /// turns.
    public static func open(_ database: any SQLDatabase, replica: String = UUID().uuidString) async throws
        -> GatewayStore
    {
        try await database.migrate(
            "gateway", Self.migrations, now: Int64(Date().timeIntervalSince1970 * 1000))
        return GatewayStore(database: database, replica: replica)
    }

    /// The store's schema as recorded steps (`SQLDatabase.migrate`).
    static let migrations = [
        SchemaMigration(1, "register, records and applications", script: schema),
        SchemaMigration(2, "campaigns", script: campaignSchema),
    ]

    // BIGINT and TEXT mean the same in SQLite and PostgreSQL, so one schema serves both.
    static let schema = """
        CREATE TABLE IF NOT EXISTS enterprises (
            credit_code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            county BIGINT NOT NULL,
            industry TEXT NOT NULL,
            profile TEXT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS enterprises_by_county ON enterprises (county, name);
        CREATE TABLE IF NOT EXISTS published_records (
            department TEXT NOT NULL,
            reference TEXT NOT NULL,
            version BIGINT NOT NULL,
            credit_code TEXT NOT NULL,
            record TEXT NOT NULL,
            withdrawn BIGINT NOT NULL,
            published_at BIGINT NOT NULL,
            PRIMARY KEY (department, reference, version)
        );
        CREATE INDEX IF NOT EXISTS published_records_by_enterprise ON published_records (credit_code);
        CREATE TABLE IF NOT EXISTS registration_claims (
            credit_code TEXT NOT NULL,
            claimant BIGINT NOT NULL,
            registered_in BIGINT NOT NULL,
            reason TEXT NOT NULL,
            profile TEXT NOT NULL,
            status BIGINT NOT NULL,
            claimed_at BIGINT NOT NULL,
            resolved_by TEXT NOT NULL,
            resolution TEXT NOT NULL,
            resolved_at BIGINT NOT NULL,
            PRIMARY KEY (credit_code, claimant)
        );
        CREATE TABLE IF NOT EXISTS console_accounts (
            user_name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            party TEXT NOT NULL,
            display_name TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            failed_attempts BIGINT NOT NULL DEFAULT 0,
            locked_until BIGINT NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS console_sessions (
            token_hash TEXT PRIMARY KEY,
            user_name TEXT NOT NULL,
            csrf_token TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            last_seen_at BIGINT NOT NULL
        )
        """
}

/// A request the store refuses: the field at fault and why, in words a caller can act on.
public struct GatewayStoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        case invalidArgument, notFound, permissionDenied, alreadyExists
    }

    public var code: Code
    public var field: String
    public var message: String

    public init(_ code: Code, field: String, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { "\(self.field): \(self.message)" }
}
