import BenefitsDomain
import Foundation
import MeshMessages
import SQLStore
import SwiftProtobuf

/// What publishing one record did.
public enum PublicationOutcome: Sendable, Hashable {
    /// A new reference, or a correction of one (a new version).
    case published(version: Int)
    /// The same record as the reference's latest version: nothing written.
    case unchanged(version: Int)
    /// The reference's record is withdrawn (a new version that says so).
    case withdrawn(version: Int)
}

extension GatewayStore {
    /// Publishes a department's records in one transaction, each idempotent by `(department, reference)`: the
    /// latest version's record again is unchanged; anything else is a new version, so history is never
    /// rewritten. The records are checked by the caller (against the vocabulary); the store checks only what
    /// keeps its rows sound.
    public func publish(
        _ records: [Jiaxing_Benefits_V1_PublishedRecord], department: Department, at millis: Int64
    ) async throws -> [PublicationOutcome] {
        guard records.count <= Self.maximumRecordsPerCall else {
            throw GatewayStoreError(
                .invalidArgument, field: "records",
                "at most \(Self.maximumRecordsPerCall) a call, got \(records.count)")
        }
        let rows = try records.map { record in
            var stored = record
            if case .success(let code) = CreditCode.validate(record.creditCode) { stored.creditCode = code.value }
            return (stored, try stored.jsonString())
        }
        return try await self.database.transaction { transaction in
            var outcomes: [PublicationOutcome] = []
            for (record, json) in rows {
                let latest = try await transaction.queryOne(
                    """
                    SELECT version, record FROM published_records WHERE department = ? AND reference = ?
                    ORDER BY version DESC LIMIT 1
                    """,
                    [.text(department.rawValue), .text(record.reference)])
                let latestVersion = Int(latest?.integer(0) ?? 0)
                if let latest, latest.text(1) == json {
                    outcomes.append(.unchanged(version: latestVersion))
                    continue
                }
                try await transaction.execute(
                    """
                    INSERT INTO published_records (department, reference, version, credit_code, record, withdrawn, published_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(department.rawValue), .text(record.reference), .integer(Int64(latestVersion + 1)),
                        .text(record.creditCode), .text(json), .integer(record.withdrawn ? 1 : 0), .integer(millis),
                    ])
                outcomes.append(
                    record.withdrawn ? .withdrawn(version: latestVersion + 1) : .published(version: latestVersion + 1))
            }
            return outcomes
        }
    }

    /// The records in force for an enterprise: each reference's latest version, where that version names this
    /// enterprise and is not withdrawn, oldest publication first.
    public func attestedRecords(creditCode: String) async throws -> [Jiaxing_Benefits_V1_PublishedRecordVersion] {
        try await self.attestedRecords(creditCodes: [creditCode])[creditCode] ?? []
    }

    /// The records in force for each of many enterprises (a page of the register), by credit code.
    public func attestedRecords(creditCodes: [String]) async throws
        -> [String: [Jiaxing_Benefits_V1_PublishedRecordVersion]]
    {
        guard !creditCodes.isEmpty else { return [:] }
        let marks = SQLPlaceholders.list(creditCodes.count)
        let rows = try await self.database.read { transaction in
            try await transaction.query(
                """
                SELECT p.department, p.version, p.record, p.published_at, p.credit_code FROM published_records p
                WHERE p.credit_code IN (\(marks)) AND p.withdrawn = 0 AND p.version = (
                    SELECT MAX(q.version) FROM published_records q
                    WHERE q.department = p.department AND q.reference = p.reference)
                ORDER BY p.published_at, p.department, p.reference
                """,
                creditCodes.map { .text($0) })
        }
        var records: [String: [Jiaxing_Benefits_V1_PublishedRecordVersion]] = [:]
        for row in rows { records[row.text(4), default: []].append(try Self.version(row)) }
        return records
    }

    /// Every version ever published about an enterprise, oldest first: the history a correction or a
    /// withdrawal leaves.
    /// Where a page of an enterprise's published history ends: the last version's place in the list's order.
    public struct HistoryPosition: Sendable, Hashable {
        public var publishedAt: Int64
        public var department: String
        public var reference: String
        public var version: Int32

        public init(publishedAt: Int64, department: String, reference: String, version: Int32) {
            (self.publishedAt, self.department, self.reference, self.version) =
                (publishedAt, department, reference, version)
        }
    }

    /// Every version the departments published about `creditCode` (only `department`'s where given), oldest
    /// first, at most `limit` after `after`: a history that grows with every correction is read a page at a time.
    public func publishedHistory(
        creditCode: String, department: String? = nil, after: HistoryPosition? = nil, limit: Int = 1_000
    ) async throws -> [Jiaxing_Benefits_V1_PublishedRecordVersion] {
        var sql = """
            SELECT department, version, record, published_at FROM published_records WHERE credit_code = ?
            """
        var parameters: [SQLValue] = [.text(creditCode)]
        if let department {
            sql += " AND department = ?"
            parameters.append(.text(department))
        }
        if let after {
            sql += """
                 AND (published_at > ? OR (published_at = ? AND (department > ? OR (department = ? AND
                 (reference > ? OR (reference = ? AND version > ?))))))
                """
            parameters += [
                .integer(after.publishedAt), .integer(after.publishedAt), .text(after.department),
                .text(after.department), .text(after.reference), .text(after.reference),
                .integer(Int64(after.version)),
            ]
        }
        sql += " ORDER BY published_at, department, reference, version LIMIT ?"
        parameters.append(.integer(Int64(limit)))
        let rows = try await self.database.read { transaction in try await transaction.query(sql, parameters) }
        return try rows.map(Self.version(_:))
    }

    private static func version(_ row: SQLRow) throws -> Jiaxing_Benefits_V1_PublishedRecordVersion {
        var version = Jiaxing_Benefits_V1_PublishedRecordVersion()
        version.department = row.text(0)
        version.version = Int32(row.integer(1))
        version.record = try Jiaxing_Benefits_V1_PublishedRecord(jsonString: row.text(2))
        version.publishedAtMillis = row.integer(3)
        return version
    }
}
