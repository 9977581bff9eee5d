/// One problem in the catalog files, named by file, clause and field so a reviewer can find it.
public struct CatalogIssue: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var clause: String?
    public var field: String
    public var message: String

    public init(file: String, clause: String? = nil, field: String, message: String) {
        self.file = file
        self.clause = clause
        self.field = field
        self.message = message
    }

    public var description: String {
        [self.file, self.clause, self.field].compactMap { $0 }.joined(separator: ": ") + ": " + self.message
    }
}

/// The catalog did not load: every issue found, not just the first.
public struct CatalogValidationError: Error, Sendable, CustomStringConvertible {
    public var issues: [CatalogIssue]

    public init(issues: [CatalogIssue]) {
        self.issues = issues
    }

    public var description: String {
        "catalog has \(self.issues.count) problem\(self.issues.count == 1 ? "" : "s"):\n"
            + self.issues.map { "  \($0)" }.joined(separator: "\n")
    }
}
