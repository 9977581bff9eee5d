import Foundation
import MeshRPC
import NIOConcurrencyHelpers

/// Every refusal and every money decision, one JSON object a line, with the caller's certificate identity.
public final class AuditLog: Sendable {
    private let handle: NIOLockedValueBox<FileHandle?>
    public let path: String

    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        self.handle = NIOLockedValueBox(handle)
    }

    public func record(caller: String, method: String, outcome: String, detail: [String: String] = [:]) {
        var entry: [String: String] = detail
        entry["at"] = ISO8601DateFormatter().string(from: Date())
        entry["caller"] = caller
        entry["method"] = method
        entry["outcome"] = outcome
        // The call's trace id, so a refusal or a payout can be followed into every service's logs.
        if let trace = ServerContext.current?.trace { entry["trace-id"] = trace.traceID }
        guard var line = try? JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]) else { return }
        line.append(0x0A)
        self.handle.withLockedValue { $0?.write(line) }
    }

    /// The entries written so far (for tests and the console).
    public func entries() -> [[String: String]] {
        guard let text = try? String(contentsOfFile: self.path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: String]
        }
    }
}
