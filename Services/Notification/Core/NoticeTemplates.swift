import Foundation

/// What each ledger event tells each audience, as data (Templates/notices.json), filled in per event.
public struct NoticeTemplates: Sendable {
    public struct Template: Sendable, Decodable {
        public var event: String
        public var audience: String
        public var title: String
        public var body: String
    }

    struct File: Decodable {
        var templates: [Template]
    }

    public let templates: [Template]

    public init(templates: [Template]) {
        self.templates = templates
    }

    public static func load(path: String) throws -> NoticeTemplates {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NoticeTemplateError(message: "cannot read the notice templates at \(path)")
        }
        let file = try JSONDecoder().decode(File.self, from: data)
        for template in file.templates {
            let unknown = Self.placeholders(in: template.title + template.body).subtracting(Self.known)
            guard unknown.isEmpty else {
                throw NoticeTemplateError(
                    message:
                        "\(path): template \(template.event)/\(template.audience) uses unknown placeholders \(unknown.sorted())"
                )
            }
        }
        return NoticeTemplates(templates: file.templates)
    }

    static let known: Set<String> = [
        "enterprise", "creditCode", "document", "documentNumber", "article", "clause", "amount", "status", "reason",
        "orderId", "county", "departments", "applicationId", "dueOn",
    ]

    static func placeholders(in text: String) -> Set<String> {
        var names: Set<String> = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.insert(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// Whether any audience is told of events of this kind.
    public func knows(event: String) -> Bool {
        self.templates.contains { $0.event == event }
    }

    public func template(event: String, audience: String) -> Template? {
        self.templates.first { $0.event == event && $0.audience == audience }
    }

    /// Fills the placeholders in one pass over the template: a value is copied as it is, never read again
    /// for placeholders (a rejection reason that contains `{orderId}` stays as the officer wrote it). An
    /// unknown placeholder stays as written.
    public static func render(_ text: String, values: [String: String]) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var rest = text[...]
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let afterOpen = rest.index(after: open)
            if let close = rest[afterOpen...].firstIndex(of: "}"), let value = values[String(rest[afterOpen..<close])] {
                result += value
                rest = rest[rest.index(after: close)...]
            } else {
                result.append("{")
                rest = rest[afterOpen...]
            }
        }
        result += rest
        return result
    }
}

public struct NoticeTemplateError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { self.message }
}
