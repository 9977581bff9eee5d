import BenefitsDomain
import SQLStore

/// The ledger's tables. Transfers are immutable; a correction is a new transfer. Balances in `accounts` are a
/// cache of the transfers, updated in the same transaction and checked by `Ledger.reconcile()`.
///
/// Every index is written on every payout, so there are few: the caps and 就高不重复 look at one enterprise's
/// orders (dozens at most), on PostgreSQL through `orders_by_enterprise`, on SQLite through the range of its
/// idempotency keys (each starts with the credit code), so that SQLite writes one index fewer. Events take
/// the next rowid without AUTOINCREMENT (which rewrites `sqlite_sequence` on every insert): events are never
/// deleted, so a sequence number is never given twice either way.
///
/// Every amount and budget is bounded by `Money.maximumFen` in the tables too, not only in code: a row over
/// the ceiling cannot be written by any path, so no sum of the funds can overflow in practice and a wrong
/// write fails instead of breaking every later `ListFunds`. Ledgers created before the bound keep their
/// tables; the code's checks still apply to them.
enum LedgerSchema {
    /// The ledger's schema as recorded steps (`SQLDatabase.migrate`); a ledger made before steps were
    /// recorded has them all, and each is written so that running it there changes nothing.
    static let migrations = [
        SchemaMigration(1, "orders, accounts, transfers, events and applications", sqlite: sqlite, postgres: postgres),
        SchemaMigration(2, "orders: explanation, basis, previous order, campaign, declared", addColumns: addedColumns),
        SchemaMigration(3, "orders by campaign", script: afterColumns),
        // The cursor holds an event sequence (BIGSERIAL): an INTEGER column overflowed past 2^31 events.
        // SQLite's INTEGER is 64 bits already. Replicas that prepared the cursor's statements before the step
        // get "cached plan must not change result type" once; their connection is closed and they prepare anew.
        SchemaMigration(
            4, "event cursors as 64-bit sequences", sqlite: "",
            postgres: "ALTER TABLE event_cursors ALTER COLUMN acked_through TYPE BIGINT"),
    ]

    /// Columns added after the first release, for ledgers created before them.
    static let addedColumns: [(table: String, definition: String)] = [
        ("orders", "explanation TEXT NOT NULL DEFAULT ''"),
        ("orders", "basis TEXT NOT NULL DEFAULT ''"),
        ("orders", "previous_order_id TEXT NOT NULL DEFAULT ''"),
        ("orders", "campaign_id TEXT NOT NULL DEFAULT ''"),
        ("orders", "declared INTEGER NOT NULL DEFAULT 0"),
    ]

    /// What needs the added columns: run after them, on either store.
    static let afterColumns = """
        CREATE INDEX IF NOT EXISTS orders_by_campaign ON orders (campaign_id, status) WHERE campaign_id <> '';
        """

    static let sqlite = """
        CREATE TABLE IF NOT EXISTS accounts (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            document_id TEXT,
            year INTEGER,
            budget_fen INTEGER NOT NULL DEFAULT 0 CHECK (budget_fen BETWEEN 0 AND \(Money.maximumFen)),
            balance_fen INTEGER NOT NULL DEFAULT 0,
            reserved_fen INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS transfers (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            order_id TEXT,
            debit_account TEXT NOT NULL REFERENCES accounts(id),
            credit_account TEXT NOT NULL REFERENCES accounts(id),
            amount_fen INTEGER NOT NULL CHECK (amount_fen BETWEEN 1 AND \(Money.maximumFen)),
            kind TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS orders (
            id TEXT PRIMARY KEY,
            idempotency_key TEXT NOT NULL UNIQUE,
            credit_code TEXT NOT NULL,
            enterprise_name TEXT NOT NULL,
            county INTEGER NOT NULL,
            clause_id TEXT NOT NULL,
            document_id TEXT NOT NULL,
            subject TEXT NOT NULL,
            period INTEGER NOT NULL,
            requested_fen INTEGER NOT NULL CHECK (requested_fen BETWEEN 0 AND \(Money.maximumFen)),
            amount_fen INTEGER NOT NULL CHECK (amount_fen BETWEEN 1 AND \(Money.maximumFen)),
            fund_account TEXT NOT NULL REFERENCES accounts(id),
            status INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            decided_by TEXT NOT NULL DEFAULT '',
            decided_at INTEGER NOT NULL DEFAULT 0,
            reason TEXT NOT NULL DEFAULT '',
            departments TEXT NOT NULL,
            overlap_group TEXT NOT NULL DEFAULT '',
            explanation TEXT NOT NULL DEFAULT ''
        );
        DROP INDEX IF EXISTS orders_by_clause;
        DROP INDEX IF EXISTS orders_by_group;
        DROP INDEX IF EXISTS orders_by_enterprise;
        CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status, expires_at);
        CREATE TABLE IF NOT EXISTS events (
            seq INTEGER PRIMARY KEY,
            type TEXT NOT NULL,
            entity_key TEXT NOT NULL,
            order_id TEXT NOT NULL,
            payload BLOB NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS events_by_key ON events (entity_key, seq);
        CREATE TABLE IF NOT EXISTS event_acks (
            grp TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (grp, seq)
        );
        CREATE TABLE IF NOT EXISTS event_cursors (
            grp TEXT PRIMARY KEY,
            acked_through INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS event_leases (
            grp TEXT NOT NULL,
            seq INTEGER NOT NULL,
            consumer TEXT NOT NULL,
            until INTEGER NOT NULL,
            PRIMARY KEY (grp, seq)
        );
        CREATE TABLE IF NOT EXISTS applications (
            id TEXT PRIMARY KEY,
            idempotency_key TEXT NOT NULL UNIQUE,
            document_id TEXT NOT NULL,
            county INTEGER NOT NULL,
            status INTEGER NOT NULL,
            filed_day INTEGER NOT NULL,
            due_day INTEGER NOT NULL,
            decided_day INTEGER NOT NULL DEFAULT 0,
            breached INTEGER NOT NULL DEFAULT 0,
            departments TEXT NOT NULL,
            payload BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS applications_by_status ON applications (status, due_day);
        CREATE TABLE IF NOT EXISTS evidence (
            sha256 TEXT PRIMARY KEY,
            content_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            content BLOB NOT NULL
        );
        INSERT OR IGNORE INTO accounts (id, kind) VALUES ('treasury', 'treasury');
        """

    /// The same tables in PostgreSQL's words.
    static let postgres = """
        CREATE TABLE IF NOT EXISTS accounts (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            document_id TEXT,
            year BIGINT,
            budget_fen BIGINT NOT NULL DEFAULT 0 CHECK (budget_fen BETWEEN 0 AND \(Money.maximumFen)),
            balance_fen BIGINT NOT NULL DEFAULT 0,
            reserved_fen BIGINT NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS transfers (
            id BIGSERIAL PRIMARY KEY,
            order_id TEXT,
            debit_account TEXT NOT NULL REFERENCES accounts(id),
            credit_account TEXT NOT NULL REFERENCES accounts(id),
            amount_fen BIGINT NOT NULL CHECK (amount_fen BETWEEN 1 AND \(Money.maximumFen)),
            kind TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS orders (
            id TEXT PRIMARY KEY,
            idempotency_key TEXT NOT NULL UNIQUE,
            credit_code TEXT NOT NULL,
            enterprise_name TEXT NOT NULL,
            county BIGINT NOT NULL,
            clause_id TEXT NOT NULL,
            document_id TEXT NOT NULL,
            subject TEXT NOT NULL,
            period BIGINT NOT NULL,
            requested_fen BIGINT NOT NULL CHECK (requested_fen BETWEEN 0 AND \(Money.maximumFen)),
            amount_fen BIGINT NOT NULL CHECK (amount_fen BETWEEN 1 AND \(Money.maximumFen)),
            fund_account TEXT NOT NULL REFERENCES accounts(id),
            status BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            decided_by TEXT NOT NULL DEFAULT '',
            decided_at BIGINT NOT NULL DEFAULT 0,
            reason TEXT NOT NULL DEFAULT '',
            departments TEXT NOT NULL,
            overlap_group TEXT NOT NULL DEFAULT '',
            explanation TEXT NOT NULL DEFAULT ''
        );
        DROP INDEX IF EXISTS orders_by_clause;
        DROP INDEX IF EXISTS orders_by_group;
        CREATE INDEX IF NOT EXISTS orders_by_enterprise ON orders (credit_code);
        CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status, expires_at);
        CREATE TABLE IF NOT EXISTS events (
            seq BIGSERIAL PRIMARY KEY,
            type TEXT NOT NULL,
            entity_key TEXT NOT NULL,
            order_id TEXT NOT NULL,
            payload BYTEA NOT NULL,
            at BIGINT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS events_by_key ON events (entity_key, seq);
        CREATE TABLE IF NOT EXISTS event_acks (
            grp TEXT NOT NULL,
            seq BIGINT NOT NULL,
            PRIMARY KEY (grp, seq)
        );
        CREATE TABLE IF NOT EXISTS event_cursors (
            grp TEXT PRIMARY KEY,
            acked_through INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS event_leases (
            grp TEXT NOT NULL,
            seq BIGINT NOT NULL,
            consumer TEXT NOT NULL,
            until BIGINT NOT NULL,
            PRIMARY KEY (grp, seq)
        );
        CREATE TABLE IF NOT EXISTS applications (
            id TEXT PRIMARY KEY,
            idempotency_key TEXT NOT NULL UNIQUE,
            document_id TEXT NOT NULL,
            county BIGINT NOT NULL,
            status BIGINT NOT NULL,
            filed_day BIGINT NOT NULL,
            due_day BIGINT NOT NULL,
            decided_day BIGINT NOT NULL DEFAULT 0,
            breached BIGINT NOT NULL DEFAULT 0,
            departments TEXT NOT NULL,
            payload BYTEA NOT NULL
        );
        CREATE INDEX IF NOT EXISTS applications_by_status ON applications (status, due_day);
        CREATE TABLE IF NOT EXISTS evidence (
            sha256 TEXT PRIMARY KEY,
            content_type TEXT NOT NULL,
            size BIGINT NOT NULL,
            content BYTEA NOT NULL
        );
        INSERT INTO accounts (id, kind) VALUES ('treasury', 'treasury') ON CONFLICT (id) DO NOTHING;
        """
}
