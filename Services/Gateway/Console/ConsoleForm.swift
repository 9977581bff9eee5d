import Foundation
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` body, in order.
public struct ConsoleForm: Sendable {
    public var fields: [(name: String, value: String)] = []

    public init(fields: [(name: String, value: String)] = []) {
        self.fields = fields
    }

    public subscript(_ name: String) -> String? {
        self.fields.first { $0.name == name }?.value
    }

    /// `name` trimmed, or nil when missing or blank.
    public func text(_ name: String) -> String? {
        guard let value = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            return nil
        }
        return value
    }

    public init(encoded text: String) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            self.fields.append((decode(parts[0]), parts.count > 1 ? decode(parts[1]) : ""))
        }
    }

    static func read(_ request: Request) async throws -> ConsoleForm {
        let body = try await request.body.collect(upTo: Console.maximumFormBytes)
        return ConsoleForm(encoded: String(buffer: body))
    }
}

/// Equal strings in time that does not depend on where they differ.
func constantTimeEqual(_ left: String, _ right: String) -> Bool {
    let a = Array(left.utf8)
    let b = Array(right.utf8)
    guard a.count == b.count, !a.isEmpty else { return false }
    var difference: UInt8 = 0
    for index in a.indices { difference |= a[index] ^ b[index] }
    return difference == 0
}
