import BenefitsAPI
import Foundation
import MeshIdentity
import MeshMessages
import MeshPKI
import MeshRPC
import MeshTransport
import X509

/// Disbursement's own check that an amount is eligibility's: a proposal (or an application decided at once)
/// carries eligibility's signed decision, and every field it asks the ledger to hold must be what that
/// decision says. The gateway derives proposals from the register; this check means a forwarder that
/// changes a figure on the way, or a caller that reaches this port with a made-up one, is refused here too.
public struct DecisionSealCheck: Sendable {
    let verifier: StatementVerifier
    let now: @Sendable () -> Date

    /// How old a seal may be: it vouches for a screening of the register as it stood then.
    public static let maximumAge: Duration = .seconds(600)
    /// The party whose certificate must sign.
    static let signer = "eligibility"

    public init(verifier: StatementVerifier, now: @escaping @Sendable () -> Date = { Date() }) {
        self.verifier = verifier
        self.now = now
    }

    /// Refuses `failedPrecondition`, naming the field, unless `seal` vouches for all of it.
    func check(
        _ seal: Jiaxing_Benefits_V1_DecisionSeal?, creditCode: String, county: Jiaxing_Benefits_V1_County,
        clauseID: String, subject: String?, period: Int32, amountFen: Int64
    ) throws -> Jiaxing_Benefits_V1_DecisionStatement {
        guard let seal, !seal.statement.isEmpty else {
            throw RPCError(
                .failedPrecondition,
                "seal: required; the amount of an order is eligibility's signed decision (propose through the gateway)")
        }
        let now = self.now()
        let certificate: Certificate
        do throws(StatementVerifier.Refusal) {
            if seal.leafCount > 0 {
                // One signature over a page's statements: this one's place under it is proved.
                certificate = try self.verifier.verify(
                    statement: Array(seal.statement), proof: seal.proof.map { Array($0) },
                    index: Int(seal.leafIndex), count: Int(seal.leafCount), signature: Array(seal.signature),
                    certificateDER: Array(seal.certificate), now: now)
            } else {
                certificate = try self.verifier.verify(
                    statement: Array(seal.statement), signature: Array(seal.signature),
                    certificateDER: Array(seal.certificate), now: now)
            }
        } catch {
            throw RPCError(.failedPrecondition, "seal: \(error.description)")
        }
        let signer = PeerIdentity(certificate: certificate)
        guard signer.role == .service, signer.commonName == Self.signer else {
            throw RPCError(.failedPrecondition, "seal: signed by \(signer), not by the eligibility service")
        }
        guard let statement = try? Jiaxing_Benefits_V1_DecisionStatement(serializedBytes: seal.statement) else {
            throw RPCError(.failedPrecondition, "seal: the statement cannot be read")
        }
        let age = Duration.milliseconds(Int64(now.timeIntervalSince1970 * 1000) - statement.sealedAtMillis)
        guard age <= Self.maximumAge, age >= .seconds(-60) else {
            throw RPCError(
                .failedPrecondition,
                "seal: made at \(statement.sealedAtMillis) ms, more than \(Self.maximumAge) from now; screen again")
        }
        let differences = statement.differences(
            creditCode: creditCode, county: county, clauseID: clauseID, subject: subject, period: period,
            amountFen: amountFen)
        guard differences.isEmpty else {
            throw RPCError(
                .failedPrecondition,
                "seal: the proposal is not what eligibility decided: \(differences.joined(separator: "; "))")
        }
        return statement
    }
}
