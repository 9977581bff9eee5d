import Foundation
import MeshMessages
import MeshPKI

extension TestMesh {
    /// What the eligibility replicas of a test mesh sign decisions with: an eligibility service certificate
    /// of the test CA.
    public static let eligibilitySigner: StatementSigner = {
        let credentials = TestMesh.credentials(for: "eligibility", role: .service)
        return try! StatementSigner(
            certificatePEM: credentials.certificateChainPEM, privateKeyPEM: credentials.privateKeyPEM)
    }()

    /// Checks seals against the test CA, as disbursement does against the mesh CA.
    public static func sealVerifier() -> StatementVerifier {
        try! StatementVerifier(trustRootsPEM: TestMesh.authority.certificatePEM)
    }

    /// `request` under a seal saying exactly what it proposes, signed by `signer`, on the facts digest `basis`:
    /// for tests that play the gateway toward disbursement, where eligibility's screening is not what is being
    /// tested.
    public static func sealed(
        _ request: Jiaxing_Benefits_V1_ProposePayoutRequest, signer: StatementSigner = TestMesh.eligibilitySigner,
        at date: Date = Date(), basis: String = ""
    ) -> Jiaxing_Benefits_V1_ProposePayoutRequest {
        var statement = Jiaxing_Benefits_V1_DecisionStatement()
        statement.creditCode = request.creditCode
        statement.county = request.county
        statement.clauseID = request.clauseID
        statement.subject = request.subject
        statement.period = request.period
        statement.amountFen = request.amountFen
        statement.status = .eligible
        statement.profileSha256 = basis
        statement.sealedAtMillis = Int64(date.timeIntervalSince1970 * 1000)
        let bytes: [UInt8] = try! statement.serializedBytes()
        var sealed = request
        sealed.seal.statement = Data(bytes)
        sealed.seal.signature = Data(try! signer.sign(bytes))
        sealed.seal.certificate = Data(signer.certificateDER)
        return sealed
    }
}
