import SQLStore

extension LedgerOutbox {
    /// What a subscription runs at every lease and acknowledgement, prepared once per connection.
    enum Statements {
        /// Events leased to a consumer whose lease still runs.
        enum Held: SQLPreparedStatement {
            static let sql = "SELECT COUNT(*) FROM event_leases WHERE grp = ? AND consumer = ? AND until > ?"
            static let parameters: [SQLParameterType] = [.text, .text, .integer]
        }

        /// The next events a group may lease past its cursor: not acknowledged, not leased to another, and no
        /// earlier event of the same enterprise still open (order per enterprise), with their orders' rows.
        enum Leasable: SQLPreparedStatement {
            static let sql = """
                SELECT e.seq, e.payload, \(Ledger.orderColumnsOfJoin)
                FROM events e LEFT JOIN orders o ON o.id = e.order_id
                WHERE e.seq > ?
                  AND NOT EXISTS (SELECT 1 FROM event_acks a WHERE a.grp = ? AND a.seq = e.seq)
                  AND NOT EXISTS (SELECT 1 FROM event_leases l WHERE l.grp = ? AND l.seq = e.seq AND l.until > ?)
                  AND NOT EXISTS (
                    SELECT 1 FROM events p WHERE p.entity_key = e.entity_key AND p.seq < e.seq AND p.seq > ?
                      AND NOT EXISTS (SELECT 1 FROM event_acks pa WHERE pa.grp = ? AND pa.seq = p.seq))
                ORDER BY e.seq LIMIT ?
                """
            static let parameters: [SQLParameterType] = [.integer, .text, .text, .integer, .integer, .text, .integer]
        }

        enum Lease: SQLPreparedStatement {
            static let sql =
                "INSERT INTO event_leases (grp, seq, consumer, until) VALUES (?, ?, ?, ?) ON CONFLICT (grp, seq) DO UPDATE SET consumer = excluded.consumer, until = excluded.until"
            static let parameters: [SQLParameterType] = [.text, .integer, .text, .integer]
        }

        enum Cursor: SQLPreparedStatement {
            static let sql = "SELECT acked_through FROM event_cursors WHERE grp = ?"
            static let parameters: [SQLParameterType] = [.text]
        }

        /// The first event past the cursor the group has not acknowledged.
        enum FirstOpen: SQLPreparedStatement {
            static let sql = """
                SELECT MIN(e.seq) FROM events e
                WHERE e.seq > ? AND NOT EXISTS (SELECT 1 FROM event_acks a WHERE a.grp = ? AND a.seq = e.seq)
                """
            static let parameters: [SQLParameterType] = [.integer, .text]
        }

        enum LastSequence: SQLPreparedStatement {
            static let sql = "SELECT COALESCE(MAX(seq), 0) FROM events"
            static let parameters: [SQLParameterType] = []
        }

        enum MoveCursor: SQLPreparedStatement {
            static let sql =
                "INSERT INTO event_cursors (grp, acked_through) VALUES (?, ?) ON CONFLICT (grp) DO UPDATE SET acked_through = excluded.acked_through"
            static let parameters: [SQLParameterType] = [.text, .integer]
        }

        enum Exists: SQLPreparedStatement {
            static let sql = "SELECT 1 FROM events WHERE seq = ?"
            static let parameters: [SQLParameterType] = [.integer]
        }

        enum Acknowledge: SQLPreparedStatement {
            static let sql = "INSERT INTO event_acks (grp, seq) VALUES (?, ?) ON CONFLICT DO NOTHING"
            static let parameters: [SQLParameterType] = [.text, .integer]
        }

        /// PostgreSQL's: the first of a list of sequences (an array literal) with no event, if any.
        enum FirstMissing: SQLPreparedStatement {
            static let sql = """
                SELECT s FROM unnest(?::bigint[]) WITH ORDINALITY AS l(s, n)
                WHERE NOT EXISTS (SELECT 1 FROM events WHERE seq = l.s) ORDER BY n LIMIT 1
                """
            static let parameters: [SQLParameterType] = [.text]
        }

        /// PostgreSQL's: a group's acknowledgement of a list of sequences (an array literal).
        enum AcknowledgeAll: SQLPreparedStatement {
            static let sql =
                "INSERT INTO event_acks (grp, seq) SELECT ?, s FROM unnest(?::bigint[]) AS l(s) ON CONFLICT DO NOTHING"
            static let parameters: [SQLParameterType] = [.text, .text]
        }

        /// PostgreSQL's: the leases of a list of sequences (an array literal) given back.
        enum ReleaseAll: SQLPreparedStatement {
            static let sql = "DELETE FROM event_leases WHERE grp = ? AND seq = ANY(?::bigint[])"
            static let parameters: [SQLParameterType] = [.text, .text]
        }

        enum Release: SQLPreparedStatement {
            static let sql = "DELETE FROM event_leases WHERE grp = ? AND seq = ?"
            static let parameters: [SQLParameterType] = [.text, .integer]
        }
    }
}
