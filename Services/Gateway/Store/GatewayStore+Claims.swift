import BenefitsDomain
import Foundation
import MeshMessages
import SQLStore
import SwiftProtobuf

/// What one `register` call did: profiles added or updated, and those held as claims for the operator.
public struct RegistrationOutcome: Sendable {
    public var added = 0
    public var updated = 0
    public var claims: [Jiaxing_Benefits_V1_RegistrationClaim] = []

    public var held: Int { self.claims.count }

    public init() {}
}

extension GatewayStore {
    /// Holds a county's registration for the operator: one claim per credit code and claimant, a new one
    /// replacing a resolved or pending one of the same pair.
    static func claim(
        _ profile: Jiaxing_Benefits_V1_EnterpriseProfile, json: String, reason: String,
        registeredIn: Jiaxing_Benefits_V1_County, at millis: Int64, in transaction: any SQLTransaction
    ) async throws -> Jiaxing_Benefits_V1_RegistrationClaim {
        try await transaction.execute(
            """
            INSERT INTO registration_claims (credit_code, claimant, registered_in, reason, profile, status, claimed_at,
                resolved_by, resolution, resolved_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, '', '', 0)
            ON CONFLICT (credit_code, claimant) DO UPDATE SET registered_in = excluded.registered_in,
                reason = excluded.reason, profile = excluded.profile, status = excluded.status,
                claimed_at = excluded.claimed_at, resolved_by = '', resolution = '', resolved_at = 0
            """,
            [
                .text(profile.creditCode), .integer(Int64(profile.county.rawValue)),
                .integer(Int64(registeredIn.rawValue)), .text(reason), .text(json),
                .integer(Int64(Jiaxing_Benefits_V1_RegistrationClaim.Status.pending.rawValue)), .integer(millis),
            ])
        var claim = Jiaxing_Benefits_V1_RegistrationClaim()
        claim.creditCode = profile.creditCode
        claim.claimant = profile.county
        claim.registeredIn = registeredIn
        claim.reason = reason
        claim.profile = profile
        claim.status = .pending
        claim.claimedAtMillis = millis
        return claim
    }

    /// Claims in one status (or any), newest first: the operator's all, a county's those it made and those on
    /// enterprises the register has in it. `registered_in` is where the register has the code now.
    public func claims(visibleTo county: County?, status: Jiaxing_Benefits_V1_RegistrationClaim.Status)
        async throws -> [Jiaxing_Benefits_V1_RegistrationClaim]
    {
        try await self.claims(visibleTo: county, status: status, limit: Self.maximumSearchResults, after: nil)
    }

    /// Where a page of claims ended: the last one's time, credit code and claimant.
    public typealias ClaimPosition = (claimedAtMillis: Int64, creditCode: String, claimant: Int64)

    /// A page of claims, newest first (time descending, then credit code and claimant ascending), after
    /// `after`.
    public func claims(
        visibleTo county: County?, status: Jiaxing_Benefits_V1_RegistrationClaim.Status, limit: Int,
        after: ClaimPosition?
    ) async throws -> [Jiaxing_Benefits_V1_RegistrationClaim] {
        let countyValue = Int64(county?.message.rawValue ?? 0)
        let rows = try await self.database.read { transaction in
            try await transaction.query(
                """
                \(Self.claimSelect)
                WHERE (? = 0 OR c.claimant = ? OR e.county = ?) AND (? = 0 OR c.status = ?)
                AND (? = 0 OR c.claimed_at < ? OR (c.claimed_at = ? AND (c.credit_code > ?
                    OR (c.credit_code = ? AND c.claimant > ?))))
                ORDER BY c.claimed_at DESC, c.credit_code, c.claimant LIMIT ?
                """,
                [
                    .integer(countyValue), .integer(countyValue), .integer(countyValue),
                    .integer(Int64(status.rawValue)), .integer(Int64(status.rawValue)),
                    .integer(after == nil ? 0 : 1), .integer(after?.claimedAtMillis ?? 0),
                    .integer(after?.claimedAtMillis ?? 0), .text(after?.creditCode ?? ""),
                    .text(after?.creditCode ?? ""), .integer(after?.claimant ?? 0),
                    .integer(Int64(limit)),
                ])
        }
        return try rows.map(Self.claim(_:))
    }

    /// The operator's decision on a pending claim: transfer registers the claimant's profile in its county
    /// (replacing the register's), refuse leaves the register as it is. Either way the claim keeps who
    /// decided, when and why.
    public func resolveClaim(
        creditCode: String, claimant: County, transfer: Bool, reason: String, by resolver: String, at millis: Int64
    ) async throws -> Jiaxing_Benefits_V1_RegistrationClaim {
        try await self.database.transaction { transaction in
            guard
                let row = try await transaction.queryOne(
                    "SELECT profile, status FROM registration_claims WHERE credit_code = ? AND claimant = ?",
                    [.text(creditCode), .integer(Int64(claimant.message.rawValue))])
            else {
                throw GatewayStoreError(
                    .notFound, field: "credit_code", "no claim of \(claimant.chineseName) on \(creditCode)")
            }
            guard row.integer(1) == Int64(Jiaxing_Benefits_V1_RegistrationClaim.Status.pending.rawValue) else {
                throw GatewayStoreError(
                    .alreadyExists, field: "credit_code",
                    "the claim of \(claimant.chineseName) on \(creditCode) is already resolved")
            }
            let status: Jiaxing_Benefits_V1_RegistrationClaim.Status = transfer ? .transferred : .refused
            if transfer {
                let profile = try Jiaxing_Benefits_V1_EnterpriseProfile(jsonString: row.text(0))
                try await transaction.execute(
                    """
                    INSERT INTO enterprises (credit_code, name, county, industry, profile, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name, county = excluded.county,
                        industry = excluded.industry, profile = excluded.profile, updated_at = excluded.updated_at
                    """,
                    [
                        .text(profile.creditCode), .text(profile.name), .integer(Int64(profile.county.rawValue)),
                        .text(profile.industry), .text(row.text(0)), .integer(millis),
                    ])
            }
            try await transaction.execute(
                """
                UPDATE registration_claims SET status = ?, resolved_by = ?, resolution = ?, resolved_at = ?
                WHERE credit_code = ? AND claimant = ?
                """,
                [
                    .integer(Int64(status.rawValue)), .text(resolver), .text(reason), .integer(millis),
                    .text(creditCode), .integer(Int64(claimant.message.rawValue)),
                ])
            let resolved = try await transaction.query(
                """
                \(Self.claimSelect)
                WHERE c.credit_code = ? AND c.claimant = ?
                """,
                [.text(creditCode), .integer(Int64(claimant.message.rawValue))])
            return try Self.claim(resolved[0])
        }
    }

    /// A claim's columns, with where the register has its credit code now.
    static let claimSelect = """
        SELECT c.credit_code, c.claimant, COALESCE(e.county, 0), c.reason, c.profile, c.status, c.claimed_at,
            c.resolved_by, c.resolution, c.resolved_at
        FROM registration_claims c LEFT JOIN enterprises e ON e.credit_code = c.credit_code
        """

    private static func claim(_ row: SQLRow) throws -> Jiaxing_Benefits_V1_RegistrationClaim {
        var claim = Jiaxing_Benefits_V1_RegistrationClaim()
        claim.creditCode = row.text(0)
        claim.claimant = .init(rawValue: Int(row.integer(1))) ?? .unspecified
        claim.registeredIn = .init(rawValue: Int(row.integer(2))) ?? .unspecified
        claim.reason = row.text(3)
        claim.profile = try Jiaxing_Benefits_V1_EnterpriseProfile(jsonString: row.text(4))
        claim.status = .init(rawValue: Int(row.integer(5))) ?? .unspecified
        claim.claimedAtMillis = row.integer(6)
        claim.resolvedBy = row.text(7)
        claim.resolution = row.text(8)
        claim.resolvedAtMillis = row.integer(9)
        return claim
    }
}
