import Crypto
import Foundation
import MeshIdentity
import SwiftASN1
import X509

/// A certificate and its private key, as PEM text.
public struct IssuedCertificate: Sendable {
    public var certificatePEM: String
    public var privateKeyPEM: String
}

/// The mesh's development certificate authority: makes a CA and signs certificates for every party.
///
/// Production deployments bring their own CA; this one exists so the harness and tests run real mutual TLS
/// without anything installed.
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    private let privateKey: P256.Signing.PrivateKey

    /// A new self-signed CA.
    public static func create(
        commonName: String = "Jiaxing Benefits Mesh Development CA",
        notValidBefore: Date = Date().addingTimeInterval(-300),
        validity: TimeInterval = 10 * 365 * 24 * 3600
    ) throws -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Jiaxing Benefits Mesh")
            CommonName(commonName)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(key.publicKey),
            notValidBefore: notValidBefore,
            notValidAfter: notValidBefore.addingTimeInterval(validity),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key)
        )
        return CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// Loads a CA written by `certificatePEM` / `privateKeyPEM`.
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        self.certificate = try Certificate(pemEncoded: certificatePEM)
        self.privateKey = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
    }

    private init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    public var certificatePEM: String { (try? self.certificate.serializeAsPEM().pemString) ?? "" }
    public var privateKeyPEM: String { self.privateKey.pemRepresentation }

    /// Signs a certificate naming `commonName` in `role`, usable both as a TLS server and as a TLS client.
    public func issue(
        commonName: String,
        role: PartyRole,
        dnsNames: [String] = [],
        notValidBefore: Date = Date().addingTimeInterval(-300),
        validity: TimeInterval = 2 * 365 * 24 * 3600
    ) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("Jiaxing Benefits Mesh")
            OrganizationalUnitName(role.rawValue)
            CommonName(commonName)
        }
        let names =
            dnsNames.map { GeneralName.dnsName($0) } + [.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
        let certificate = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(key.publicKey),
            notValidBefore: notValidBefore,
            notValidAfter: notValidBefore.addingTimeInterval(validity),
            issuer: self.certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(self.privateKey)
        )
        return IssuedCertificate(
            certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }
}
