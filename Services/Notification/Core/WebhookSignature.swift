import Crypto
import Foundation

/// Signs and verifies webhook requests the way Standard Webhooks specifies: the signed content is
/// `{webhook-id}.{webhook-timestamp}.{body}`, the signature HMAC-SHA256 with the secret's bytes, sent as
/// `v1,<base64>`; several secrets (during a rotation) give several space-separated signatures.
public enum WebhookSignature {
    public struct InvalidSecret: Error, CustomStringConvertible {
        public let description: String
    }

    /// Secrets are `whsec_` + base64 of 24 to 64 random bytes.
    public static func key(_ secret: String) throws -> SymmetricKey {
        guard secret.hasPrefix("whsec_"), let bytes = Data(base64Encoded: String(secret.dropFirst(6))),
            (24...64).contains(bytes.count)
        else {
            throw InvalidSecret(description: "a secret is whsec_ followed by the base64 of 24 to 64 bytes")
        }
        return SymmetricKey(data: bytes)
    }

    public static func makeSecret() -> String {
        "whsec_" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    public static func sign(id: String, timestamp: Int64, body: [UInt8], secrets: [String]) throws -> String {
        let content = Array("\(id).\(timestamp).".utf8) + body
        return try secrets.map { secret in
            let code = HMAC<SHA256>.authenticationCode(for: content, using: try self.key(secret))
            return "v1," + Data(code).base64EncodedString()
        }.joined(separator: " ")
    }

    /// Whether any signature in the header matches any of the secrets (constant-time comparison).
    public static func verify(id: String, timestamp: Int64, body: [UInt8], signatureHeader: String, secrets: [String])
        -> Bool
    {
        let content = Array("\(id).\(timestamp).".utf8) + body
        let offered = signatureHeader.split(separator: " ").compactMap { part -> Data? in
            guard part.hasPrefix("v1,") else { return nil }
            return Data(base64Encoded: String(part.dropFirst(3)))
        }
        for secret in secrets {
            guard let key = try? self.key(secret) else { continue }
            for signature in offered
            where HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: content, using: key) {
                return true
            }
        }
        return false
    }
}
