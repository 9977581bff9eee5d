import Crypto
import Foundation
import SwiftASN1
import Synchronization
import X509

/// Checks a `StatementSigner`'s signature: the certificate that comes with it must be issued by the mesh CA
/// and valid now, and the signature must cover the statement's bytes. Who signed (role and name) is for the
/// caller to judge from the certificate returned.
///
/// A certificate checked once is remembered by its bytes, so a run of statements from one replica costs one
/// signature check each.
public final class StatementVerifier: Sendable {
    private let authority: Certificate
    private let checked: Mutex<[[UInt8]: Certificate]>
    /// Certificates remembered at most; beyond, the memory starts again (a mesh has a few signers).
    static let maximumRemembered = 64

    public struct Refusal: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Roots whose signature was checked, by root, signature and certificate: the statements of one page
    /// cost one signature check between them.
    private let checkedRoots: Mutex<[[UInt8]: Certificate]>
    /// Roots remembered at most; beyond, the memory starts again.
    static let maximumRootsRemembered = 4_096

    public init(trustRootsPEM: String) throws {
        self.authority = try Certificate(pemEncoded: trustRootsPEM)
        self.checked = Mutex([:])
        self.checkedRoots = Mutex([:])
    }

    /// The signer's certificate, once `statement` is shown to be under a root the signature covers: the root
    /// recomputed from the statement, its place (`index` of `count`) and `proof` (`MerkleTree`).
    public func verify(
        statement: [UInt8], proof: [[UInt8]], index: Int, count: Int, signature: [UInt8], certificateDER: [UInt8],
        now: Date = Date()
    ) throws(Refusal) -> Certificate {
        guard
            let root = MerkleTree.root(leaf: MerkleTree.leaf(statement), index: index, count: count, proof: proof)
        else {
            throw Refusal(description: "the proof does not lead from the statement to a root")
        }
        let key = root + signature + certificateDER
        if let known = self.checkedRoots.withLock({ $0[key] }), known.notValidBefore <= now, now <= known.notValidAfter
        {
            return known
        }
        let certificate = try self.verify(
            statement: StatementSigner.rootPrefix + root, signature: signature, certificateDER: certificateDER,
            now: now)
        self.checkedRoots.withLock {
            if $0.count >= Self.maximumRootsRemembered { $0.removeAll() }
            $0[key] = certificate
        }
        return certificate
    }

    /// The signer's certificate, once the certificate and the signature are both good.
    public func verify(statement: [UInt8], signature: [UInt8], certificateDER: [UInt8], now: Date = Date())
        throws(Refusal) -> Certificate
    {
        let certificate = try self.certificate(certificateDER, now: now)
        guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: signature),
            let key = P256.Signing.PublicKey(certificate.publicKey),
            key.isValidSignature(signature, for: statement)
        else {
            throw Refusal(description: "the signature does not match the statement")
        }
        return certificate
    }

    private func certificate(_ der: [UInt8], now: Date) throws(Refusal) -> Certificate {
        if let known = self.checked.withLock({ $0[der] }), known.notValidBefore <= now, now <= known.notValidAfter {
            return known
        }
        guard let certificate = try? Certificate(derEncoded: der) else {
            throw Refusal(description: "the signer's certificate cannot be read")
        }
        guard certificate.issuer == self.authority.subject,
            self.authority.publicKey.isValidSignature(certificate.signature, for: certificate)
        else {
            throw Refusal(description: "the signer's certificate was not issued by the mesh CA")
        }
        guard certificate.notValidBefore <= now, now <= certificate.notValidAfter else {
            throw Refusal(description: "the signer's certificate is not valid at \(now)")
        }
        self.checked.withLock {
            if $0.count >= Self.maximumRemembered { $0.removeAll() }
            $0[der] = certificate
        }
        return certificate
    }
}
