import Mustache

/// HTML escaping by Unicode scalar. Escaping by Character (as swift-mustache 2.1.1 does) misses a quote or an
/// angle bracket that a combining mark joins into one Character with the next scalar ("\u{22}\u{301}"), so
/// text typed by a user could close an attribute or open a tag.
struct ConsoleHTMLEscaping: MustacheContentType {
    static let name = "CONSOLEHTML"

    func escapeText(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
