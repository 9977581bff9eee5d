import BenefitsDomain
import Foundation
import Logging
import MeshRPC
import MeshTracing
import NIOConcurrencyHelpers

/// Every refusal and every money decision, one JSON object a line, with the caller's certificate identity.
/// A line that cannot be written (a full disk, an I/O error) is counted and logged at `error`, never a
/// crash of the gateway: the decisions themselves are kept by the services that made them.
public final class AuditLog: Sendable {
    private let handle: NIOLockedValueBox<FileHandle?>
    private let failures = NIOLockedValueBox(0)
    private let logger: Logger?
    public let path: String

    /// Lines that could not be written since the gateway started.
    public var failedWrites: Int { self.failures.withLockedValue { $0 } }

    public init(path: String, logger: Logger? = nil) throws {
        self.path = path
        self.logger = logger
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        self.handle = NIOLockedValueBox(handle)
    }

    public func record(caller: String, method: String, outcome: String, detail: [String: String] = [:]) {
        var entry: [String: String] = detail
        entry["at"] = UTCTimestamp.iso8601(seconds: Int64(Date().timeIntervalSince1970))
        entry["caller"] = caller
        entry["method"] = method
        entry["outcome"] = outcome
        // The call's trace id, so a refusal or a payout can be followed into every service's logs.
        if let traceID = MeshTracing.currentTraceID { entry["trace-id"] = traceID }
        let line = Array(Self.line(entry).utf8)
        do {
            try self.handle.withLockedValue { try $0?.write(contentsOf: line) }
        } catch {
            let count = self.failures.withLockedValue { count in
                count += 1
                return count
            }
            self.logger?.error(
                "audit line not written",
                metadata: [
                    "path": "\(self.path)", "error": "\(error)", "failures": "\(count)", "method": "\(method)",
                    "outcome": "\(outcome)",
                ])
        }
    }

    /// `entry` as one line of JSON with its keys sorted, and a newline. Written here rather than through
    /// JSONSerialization, which was a fifth of the gateway's time in a campaign (a line per order).
    static func line(_ entry: [String: String]) -> String {
        var line = "{"
        for (index, key) in entry.keys.sorted().enumerated() {
            if index > 0 { line += "," }
            line += JSONText.quoted(key) + ":" + JSONText.quoted(entry[key] ?? "")
        }
        line += "}\n"
        return line
    }

    /// The entries written so far (for tests and the console).
    public func entries() -> [[String: String]] {
        guard let text = try? String(contentsOfFile: self.path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: String]
        }
    }
}
