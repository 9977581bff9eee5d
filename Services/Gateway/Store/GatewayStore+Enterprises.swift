import BenefitsDomain
import Foundation
import MeshMessages
import SQLStore
import SwiftProtobuf

extension GatewayStore {
    /// Adds or replaces profiles, all in one transaction. A county registers only its own: a credit code the
    /// register has in another county, or whose registration authority is another county's, is held as a
    /// claim for the operator (`RegistrationOutcome.claims`), never taken first come, first served. The
    /// operator (`registeringCounty` nil) registers anywhere.
    public func register(
        _ profiles: [Jiaxing_Benefits_V1_EnterpriseProfile], registeringCounty: County?, at millis: Int64
    ) async throws -> RegistrationOutcome {
        guard profiles.count <= Self.maximumProfilesPerCall else {
            throw GatewayStoreError(
                .invalidArgument, field: "profiles",
                "at most \(Self.maximumProfilesPerCall) a call, got \(profiles.count)")
        }
        var codes: [CreditCode] = []
        for (index, profile) in profiles.enumerated() {
            switch CreditCode.validate(profile.creditCode) {
            case .success(let code): codes.append(code)
            case .failure(let problem):
                throw GatewayStoreError(.invalidArgument, field: "profiles[\(index)].credit_code", "\(problem)")
            }
            guard County(message: profile.county) != nil else {
                throw GatewayStoreError(
                    .invalidArgument, field: "profiles[\(index)].county", "a county or district of Jiaxing is required")
            }
            guard !profile.name.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw GatewayStoreError(
                    .invalidArgument, field: "profiles[\(index)].name", "the enterprise's name is required")
            }
            guard profile.name.count <= Self.maximumNameLength else {
                throw GatewayStoreError(
                    .invalidArgument, field: "profiles[\(index)].name",
                    "at most \(Self.maximumNameLength) characters, got \(profile.name.count)")
            }
            if let registeringCounty, profile.county != registeringCounty.message {
                throw GatewayStoreError(
                    .permissionDenied, field: "profiles[\(index)].county",
                    "\(registeringCounty.chineseName) registers only its own enterprises")
            }
        }
        let rows = try profiles.map { profile in
            let stamped = Self.registered(profile, at: millis)
            return (stamped, try stamped.jsonString())
        }
        return try await self.database.transaction { transaction in
            var outcome = RegistrationOutcome()
            // The counties the call's codes are registered in now, read at once.
            var existing: [String: Jiaxing_Benefits_V1_County] = [:]
            for chunk in rows.map(\.0.creditCode).chunks(of: 500) {
                let marks = SQLPlaceholders.list(chunk.count)
                for row in try await transaction.query(
                    "SELECT credit_code, county FROM enterprises WHERE credit_code IN (\(marks))",
                    chunk.map { .text($0) })
                {
                    existing[row.text(0)] = Jiaxing_Benefits_V1_County(rawValue: Int(row.integer(1))) ?? .unspecified
                }
            }
            var writes: [(profile: Jiaxing_Benefits_V1_EnterpriseProfile, json: String, new: Bool)] = []
            var writing: Set<String> = []
            for ((profile, json), code) in zip(rows, codes) {
                let registeredIn = existing[profile.creditCode]
                if let registeringCounty {
                    var held: (reason: String, registeredIn: Jiaxing_Benefits_V1_County)?
                    if let registeredIn, registeredIn != profile.county {
                        held = (
                            "registered in \(County(message: registeredIn)?.chineseName ?? "another county")",
                            registeredIn
                        )
                    } else if registeredIn == nil, !registeringCounty.mayRegister(code) {
                        let owner = County.owning(code).map { "\($0.chineseName)'s" } ?? "outside Jiaxing"
                        held = ("registration authority \(code.divisionCode) is \(owner)", .unspecified)
                    }
                    if let held {
                        outcome.claims.append(
                            try await Self.claim(
                                profile, json: json, reason: held.reason, registeredIn: held.registeredIn, at: millis,
                                in: transaction))
                        continue
                    }
                }
                // A code twice in one call: the later row replaces the earlier, as two calls would.
                writes.append((profile, json, registeredIn == nil && !writing.contains(profile.creditCode)))
                writing.insert(profile.creditCode)
                existing[profile.creditCode] = profile.county
            }
            // Written a chunk at a time; within a chunk a code appears once (PostgreSQL refuses to update one
            // row twice in a statement), the last of the call's rows for it.
            var last: [String: Int] = [:]
            for (index, write) in writes.enumerated() { last[write.profile.creditCode] = index }
            var lostRaces: [String] = []
            // In credit-code order: two calls writing overlapping codes at once lock their rows in one order
            // and cannot deadlock each other on PostgreSQL.
            let unique = writes.enumerated().filter { last[$0.element.profile.creditCode] == $0.offset }.map(\.element)
                .sorted { $0.profile.creditCode < $1.profile.creditCode }
            for chunk in unique.chunks(of: Self.registerRowsPerStatement) {
                let values = SQLPlaceholders.rows(chunk.count, columns: 6)
                var parameters: [SQLValue] = []
                for write in chunk {
                    parameters += [
                        .text(write.profile.creditCode), .text(write.profile.name),
                        .integer(Int64(write.profile.county.rawValue)), .text(write.profile.industry),
                        .text(write.json),
                        .integer(millis),
                    ]
                }
                parameters.append(.integer(registeringCounty == nil ? 0 : 1))
                // A county's update applies only while the row is still its own: two counties registering one
                // new code at once cannot both win (PostgreSQL runs these concurrently; the read above may be
                // stale).
                let written = Set(
                    try await transaction.query(
                        """
                        INSERT INTO enterprises (credit_code, name, county, industry, profile, updated_at) VALUES \(values)
                        ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name, county = excluded.county,
                            industry = excluded.industry, profile = excluded.profile, updated_at = excluded.updated_at
                            WHERE ? = 0 OR enterprises.county = excluded.county
                        RETURNING credit_code
                        """, parameters
                    ).map { $0.text(0) })
                for write in chunk where !written.contains(write.profile.creditCode) {
                    lostRaces.append(write.profile.creditCode)
                    outcome.claims.append(
                        try await Self.claim(
                            write.profile, json: write.json, reason: "registered in another county",
                            registeredIn: .unspecified, at: millis, in: transaction))
                }
            }
            let lost = Set(lostRaces)
            for write in writes {
                guard !lost.contains(write.profile.creditCode) else { continue }
                if write.new { outcome.added += 1 } else { outcome.updated += 1 }
            }
            return outcome
        }
    }

    /// Profiles one INSERT writes: 6 values each, well inside SQLite's and PostgreSQL's parameter limits.
    static let registerRowsPerStatement = 100

    /// What a county writes is registered by that county, whatever source the caller set on it.
    static func registered(_ profile: Jiaxing_Benefits_V1_EnterpriseProfile, at millis: Int64)
        -> Jiaxing_Benefits_V1_EnterpriseProfile
    {
        var profile = profile
        let source = Jiaxing_Benefits_V1_RecordSource.vouched(
            .registered, by: County(message: profile.county)?.partyName ?? "", at: millis)
        for index in profile.recognitions.indices { profile.recognitions[index].source = source }
        for index in profile.projects.indices { profile.projects[index].source = source }
        for index in profile.facts.indices { profile.facts[index].source = source }
        return profile
    }

    /// The county an enterprise is registered in, or nil when it is not registered.
    public func registeredCounty(creditCode: String) async throws -> Jiaxing_Benefits_V1_County? {
        let row = try await self.database.read { transaction in
            try await transaction.queryOne("SELECT county FROM enterprises WHERE credit_code = ?", [.text(creditCode)])
        }
        return row.map { Jiaxing_Benefits_V1_County(rawValue: Int($0.integer(0))) ?? .unspecified }
    }

    /// The registered profile of one enterprise, or nil.
    public func enterprise(creditCode: String) async throws -> Jiaxing_Benefits_V1_EnterpriseProfile? {
        let row = try await self.database.read { transaction in
            try await transaction.queryOne("SELECT profile FROM enterprises WHERE credit_code = ?", [.text(creditCode)])
        }
        guard let row else { return nil }
        return try Jiaxing_Benefits_V1_EnterpriseProfile(jsonString: row.text(0))
    }

    /// Registered profiles in credit-code order after `after`, in one county or all: a page of the register
    /// for a forecast over it.
    public func registeredProfiles(county: County?, after: String, limit: Int) async throws
        -> [Jiaxing_Benefits_V1_EnterpriseProfile]
    {
        let countyValue = Int64(county?.message.rawValue ?? 0)
        let rows = try await self.database.read { transaction in
            try await transaction.query(
                "SELECT profile FROM enterprises WHERE (? = 0 OR county = ?) AND credit_code > ? ORDER BY credit_code LIMIT ?",
                [.integer(countyValue), .integer(countyValue), .text(after), .integer(Int64(limit))]
            )
        }
        return try rows.map { try Jiaxing_Benefits_V1_EnterpriseProfile(jsonString: $0.text(0)) }
    }

    /// How many enterprises the register holds, in one county or all: what a campaign over it screens.
    public func registeredCount(county: County?) async throws -> Int64 {
        let countyValue = Int64(county?.message.rawValue ?? 0)
        let row = try await self.database.read { transaction in
            try await transaction.queryOne(
                "SELECT COUNT(*) FROM enterprises WHERE (? = 0 OR county = ?)",
                [.integer(countyValue), .integer(countyValue)])
        }
        return row?.integer(0) ?? 0
    }

    /// Enterprises whose name or credit code contains `query`, in one county or all, by name.
    public func searchEnterprises(
        query: String, county: County?, limit: Int, after: (name: String, creditCode: String)? = nil
    ) async throws
        -> [Jiaxing_Benefits_V1_EnterpriseSummary]
    {
        guard (0...Self.maximumSearchResults).contains(limit) else {
            throw GatewayStoreError(.invalidArgument, field: "limit", "0 to \(Self.maximumSearchResults), got \(limit)")
        }
        // LIKE's own wildcards in the query are matched literally.
        let escaped = query.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        let pattern = "%\(escaped)%"
        let countyValue = Int64(county?.message.rawValue ?? 0)
        let rows = try await self.database.read { transaction in
            try await transaction.query(
                """
                SELECT credit_code, name, county, industry, updated_at FROM enterprises
                WHERE (? = 0 OR county = ?) AND (name LIKE ? ESCAPE '\\' OR credit_code LIKE ? ESCAPE '\\')
                    AND (? = 0 OR name > ? OR (name = ? AND credit_code > ?))
                ORDER BY name, credit_code LIMIT ?
                """,
                [
                    .integer(countyValue), .integer(countyValue), .text(pattern), .text(pattern),
                    .integer(after == nil ? 0 : 1), .text(after?.name ?? ""), .text(after?.name ?? ""),
                    .text(after?.creditCode ?? ""), .integer(Int64(limit == 0 ? 50 : limit)),
                ]
            )
        }
        return rows.map { row in
            var summary = Jiaxing_Benefits_V1_EnterpriseSummary()
            summary.creditCode = row.text(0)
            summary.name = row.text(1)
            summary.county = .init(rawValue: Int(row.integer(2))) ?? .unspecified
            summary.industry = row.text(3)
            summary.updatedAtMillis = row.integer(4)
            return summary
        }
    }
}
