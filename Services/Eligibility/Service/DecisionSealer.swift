import BenefitsAPI
import Crypto
import Foundation
import MeshMessages
import MeshPKI
import MeshRPC

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

    /// Seals every sealable decision of `result`, screened from `request`.
    func seal(_ result: inout Jiaxing_Benefits_V1_ScreeningResult, of request: Jiaxing_Benefits_V1_ScreenRequest)
        throws
    {
        guard result.decisions.contains(where: \.isSealable) else { return }
        let profileSHA256 = SHA256.hash(data: try request.profile.serializedBytes() as [UInt8])
            .map { String(format: "%02x", $0) }.joined()
        let sealedAt = self.now()
        for index in result.decisions.indices where result.decisions[index].isSealable {
            let statement = Jiaxing_Benefits_V1_DecisionStatement(
                decision: result.decisions[index], profile: request.profile, profileSHA256: profileSHA256,
                asOf: result.asOf, catalogRevision: result.catalogRevision, sealedAtMillis: sealedAt)
            let bytes: [UInt8] = try statement.serializedBytes()
            var seal = Jiaxing_Benefits_V1_DecisionSeal()
            seal.statement = Data(bytes)
            seal.signature = Data(try self.signer.sign(bytes))
            seal.certificate = Data(self.signer.certificateDER)
            result.decisions[index].seal = seal
        }
    }
}
