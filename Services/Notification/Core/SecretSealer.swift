import Crypto
import Foundation

/// Webhook secrets as the database keeps them: sealed with AES-256-GCM under a key that lives in a file of
/// its own (`--secrets-key`), so a copy of `notification.sqlite` or a PostgreSQL dump does not let anyone
/// sign notices as the city. A sealed value is `sealed:v1:` and the base64 of nonce, ciphertext and tag; a
/// value without that prefix (stored before sealing) is read as it is and sealed when next registered.
public struct SecretSealer: Sendable {
    static let prefix = "sealed:v1:"
    let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    /// The key in `path`, created (32 random bytes, mode 0600) when the file does not exist.
    public static func loadOrCreate(path: String) throws -> SecretSealer {
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else {
                throw SealingError("\(path): a 32-byte key is required, the file holds \(data.count) bytes")
            }
            return SecretSealer(key: SymmetricKey(data: data))
        }
        let key = SymmetricKey(size: .bits256)
        let data = key.withUnsafeBytes { Data($0) }
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600])
        else { throw SealingError("\(path): cannot create the key file") }
        return SecretSealer(key: key)
    }

    public func seal(_ plaintext: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: self.key)
        guard let combined = box.combined else { throw SealingError("sealing produced no combined box") }
        return Self.prefix + combined.base64EncodedString()
    }

    /// The plaintext of a stored value: opened if sealed, as stored otherwise.
    public func open(_ stored: String) throws -> String {
        guard stored.hasPrefix(Self.prefix) else { return stored }
        guard let data = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))) else {
            throw SealingError("a sealed secret is not base64")
        }
        let plaintext = try AES.GCM.open(AES.GCM.SealedBox(combined: data), using: self.key)
        return String(decoding: plaintext, as: UTF8.self)
    }
}

/// A key file or a sealed value that cannot be used.
public struct SealingError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
