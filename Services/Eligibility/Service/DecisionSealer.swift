import BenefitsAPI
import BenefitsDomain
import Crypto
import Foundation
import MeshMessages
import MeshPKI
import MeshRPC
import SwiftProtobuf

/// Signs the decisions whose formula fixes a cash amount, when a screening asks for it (`seal`): the gateway
/// asks when it proposes, and disbursement accepts an order's amount only under such a seal.
public struct DecisionSealer: Sendable {
    let signer: StatementSigner
    let now: @Sendable () -> Int64

    public init(
        signer: StatementSigner, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.signer = signer
        self.now = now
    }

    /// The facts a decision stands on, as a digest: SHA-256 of the profile without the times its records
    /// reached the mesh. A county's registration is stamped again each time it is sent, and a department's
    /// record republished unchanged is the same fact; a changed figure, level, date or source is another basis.
    static func basis(of profile: Jiaxing_Benefits_V1_EnterpriseProfile) throws -> String {
        var facts = profile
        for index in facts.recognitions.indices { facts.recognitions[index].source.recordedAtMillis = 0 }
        for index in facts.projects.indices { facts.projects[index].source.recordedAtMillis = 0 }
        for index in facts.facts.indices { facts.facts[index].source.recordedAtMillis = 0 }
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        let bytes: [UInt8] = try facts.serializedBytes(options: options)
        return SHA256.hash(data: bytes).hexadecimal
    }

    /// Seals every sealable decision of `result`, screened from `request`.
    func seal(_ result: inout Jiaxing_Benefits_V1_ScreeningResult, of request: Jiaxing_Benefits_V1_ScreenRequest)
        throws
    {
        try self.seal(
            &result.decisions, profile: request.profile, asOf: result.asOf, catalogRevision: result.catalogRevision)
    }

    /// Seals every sealable decision of `decisions`, screened from `profile` as of `asOf`: the profile's
    /// digest is worked out once for all of them.
    func seal(
        _ decisions: inout [Jiaxing_Benefits_V1_Decision], profile: Jiaxing_Benefits_V1_EnterpriseProfile,
        asOf: Jiaxing_Benefits_V1_Date, catalogRevision: String
    ) throws {
        guard decisions.contains(where: \.isSealable) else { return }
        let profileSHA256 = try Self.basis(of: profile)
        let sealedAt = self.now()
        for index in decisions.indices where decisions[index].isSealable {
            let statement = Jiaxing_Benefits_V1_DecisionStatement(
                decision: decisions[index], profile: profile, profileSHA256: profileSHA256,
                asOf: asOf, catalogRevision: catalogRevision, sealedAtMillis: sealedAt)
            let bytes: [UInt8] = try statement.serializedBytes()
            var seal = Jiaxing_Benefits_V1_DecisionSeal()
            seal.statement = Data(bytes)
            seal.signature = Data(try self.signer.sign(bytes))
            seal.certificate = Data(self.signer.certificateDER)
            decisions[index].seal = seal
        }
    }

    /// Seals every decision of `decisions` (each screened from `profiles[i]`, its enterprise's profile) under
    /// one signature: a hash tree over their statements, its root signed once. A page of a campaign costs one
    /// signature instead of one a decision, and disbursement one check.
    func sealTogether(
        _ decisions: [(profile: Int, decision: Int)], of kept: inout [Jiaxing_Benefits_V1_CampaignScreening],
        profiles: [Jiaxing_Benefits_V1_EnterpriseProfile], asOf: Jiaxing_Benefits_V1_Date, catalogRevision: String
    ) throws {
        guard !decisions.isEmpty else { return }
        let sealedAt = self.now()
        var digests: [Int: String] = [:]
        var statements: [[UInt8]] = []
        statements.reserveCapacity(decisions.count)
        for (profile, decision) in decisions {
            let digest: String
            if let known = digests[profile] {
                digest = known
            } else {
                digest = try Self.basis(of: profiles[profile])
                digests[profile] = digest
            }
            let statement = Jiaxing_Benefits_V1_DecisionStatement(
                decision: kept[profile].payable[decision], profile: profiles[profile], profileSHA256: digest,
                asOf: asOf, catalogRevision: catalogRevision, sealedAtMillis: sealedAt)
            statements.append(try statement.serializedBytes())
        }
        let tree = MerkleTree.build(statements.map(MerkleTree.leaf))
        let signature = Data(try self.signer.sign(root: tree.root))
        let certificate = Data(self.signer.certificateDER)
        for (index, (profile, decision)) in decisions.enumerated() {
            var seal = Jiaxing_Benefits_V1_DecisionSeal()
            seal.statement = Data(statements[index])
            seal.signature = signature
            seal.certificate = certificate
            seal.proof = tree.proofs[index].map { Data($0) }
            seal.leafIndex = UInt32(index)
            seal.leafCount = UInt32(decisions.count)
            kept[profile].payable[decision].seal = seal
        }
    }
}
