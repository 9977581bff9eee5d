import Crypto
import SwiftASN1
import X509

/// Signs what a service vouches for (eligibility's decisions) with the key of its own mesh certificate, so a
/// service further on can check who computed a figure without trusting whoever forwarded it.
///
/// The certificate travels with each signature: any replica's key is accepted as long as the mesh CA issued
/// it to the expected party.
public struct StatementSigner: Sendable {
    private let key: P256.Signing.PrivateKey
    /// The signer's certificate, DER.
    public let certificateDER: [UInt8]

    public struct InvalidKey: Error, CustomStringConvertible {
        public let description: String
    }

    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let certificate = try Certificate(pemEncoded: certificatePEM)
        let key = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw InvalidKey(description: "the private key does not belong to the certificate it is loaded with")
        }
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        self.key = key
        self.certificateDER = serializer.serializedBytes
    }

    /// ECDSA P-256 over SHA-256 of `statement`, DER-encoded.
    public func sign(_ statement: [UInt8]) throws -> [UInt8] {
        Array(try self.key.signature(for: statement).derRepresentation)
    }

    /// What a signature over many statements covers: this prefix, then their `MerkleTree` root. No serialized
    /// statement starts so (its first byte would be an end-group tag), so a signature over one statement and
    /// one over a root can never stand for each other.
    public static let rootPrefix = Array("jiaxing.benefits.v1.DecisionSealBatch\n".utf8)

    /// One signature for every statement under `root` (a `MerkleTree` root).
    public func sign(root: [UInt8]) throws -> [UInt8] {
        try self.sign(Self.rootPrefix + root)
    }
}
