import Foundation

/// Where the next page of a list starts: the sort key of the last row sent, opaque to callers (base64url of
/// its parts). Lists are read by key, not by offset, so a page is as cheap deep in a list as at its start
/// and rows added meanwhile are neither skipped nor repeated.
public struct PageToken: Sendable, Hashable {
    public var parts: [String]

    public init(_ parts: [String]) {
        self.parts = parts
    }

    /// Decodes a token a list sent; nil for text that is not one (or has another number of parts).
    public init?(encoded: String, parts count: Int) {
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard encoded.count <= 1024, let data = Data(base64Encoded: base64) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: "\u{1F}", omittingEmptySubsequences: false)
            .map(String.init)
        guard parts.count == count else { return nil }
        self.parts = parts
    }

    public var encoded: String {
        Data(self.parts.joined(separator: "\u{1F}").utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
