import Foundation
import MeshTransport

/// Reads a party's TLS material from a certificate directory laid out by `mesh certs`.
public enum TLSFiles {
    public struct MissingFile: Error, CustomStringConvertible {
        public let path: String
        public var description: String {
            "cannot read \(self.path): run `mesh certs` (or `mesh up`, which makes them on first use)"
        }
    }

    public static func load(directory: String, name: String, serverHostname: String? = nil) throws
        -> MeshTLSConfiguration
    {
        func read(_ path: String) throws -> String {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw MissingFile(path: path) }
            return text
        }
        return MeshTLSConfiguration(
            certificateChainPEM: try read("\(directory)/\(name).pem"),
            privateKeyPEM: try read("\(directory)/\(name)-key.pem"),
            trustRootsPEM: try read("\(directory)/ca.pem"),
            serverHostname: serverHostname
        )
    }
}
