import SQLStore

/// The notification service's durable state: notices made (never twice: the id is unique), webhooks per
/// county, and every delivery with its attempts.
enum NotificationSchema {
    /// The notices' schema as recorded steps (`SQLDatabase.migrate`).
    static let migrations = [
        SchemaMigration(1, "notices, webhooks and deliveries", sqlite: sqlite, postgres: postgres),
        SchemaMigration(2, "webhooks: batch size", addColumns: addedColumns),
    ]

    /// Columns added since a database was first created. `batch_size`: the most notices one delivery to
    /// the county's endpoint carries (1: a notice a delivery).
    static let addedColumns: [(table: String, definition: String)] = [
        (table: "webhooks", definition: "batch_size INTEGER NOT NULL DEFAULT 1")
    ]

    static let sqlite = """
        CREATE TABLE IF NOT EXISTS notices (
            id TEXT PRIMARY KEY,
            event_seq INTEGER NOT NULL,
            event_type TEXT NOT NULL,
            audience TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            order_id TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS notices_by_audience ON notices (audience, event_seq);
        CREATE TABLE IF NOT EXISTS webhooks (
            county TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            secrets TEXT NOT NULL,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            switched_off INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS deliveries (
            notice_id TEXT PRIMARY KEY REFERENCES notices(id),
            county TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            status INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            delivered_at INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
        """

    /// The same tables in PostgreSQL's words.
    static let postgres = """
        CREATE TABLE IF NOT EXISTS notices (
            id TEXT PRIMARY KEY,
            event_seq BIGINT NOT NULL,
            event_type TEXT NOT NULL,
            audience TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            order_id TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS notices_by_audience ON notices (audience, event_seq);
        CREATE TABLE IF NOT EXISTS webhooks (
            county TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            secrets TEXT NOT NULL,
            consecutive_failures BIGINT NOT NULL DEFAULT 0,
            switched_off BIGINT NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS deliveries (
            notice_id TEXT PRIMARY KEY REFERENCES notices(id),
            county TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            status BIGINT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            delivered_at BIGINT NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
        """
}
