/// A statement run often enough to be prepared once per connection and from then on only bound and run: on
/// PostgreSQL a named prepared statement, parsed and planned once per connection instead of at every run;
/// SQLite keeps every statement prepared by its text already, so there it is the text. The hot statements of
/// the money path are these (the lease of events, a query of four subqueries, was planned at every lease).
///
/// Invariant: `parameters` has one type per `?` of `sql`, and each value bound is of that type or null.
public protocol SQLPreparedStatement {
    /// The statement, with `?` placeholders as every statement here.
    static var sql: String { get }
    /// The type of each placeholder, in order: PostgreSQL plans the statement with them.
    static var parameters: [SQLParameterType] { get }
}

/// The type of a prepared statement's placeholder, as `SQLValue` holds it.
public enum SQLParameterType: Sendable, Hashable {
    case integer, text, blob
}

extension SQLPreparedStatement {
    /// Whether `values` fit the placeholders: as many, each of its placeholder's type or null.
    static func accepts(_ values: [SQLValue]) -> Bool {
        values.count == Self.parameters.count
            && zip(values, Self.parameters).allSatisfy { value, type in
                switch (value, type) {
                case (.null, _), (.integer, .integer), (.text, .text), (.blob, .blob): true
                default: false
                }
            }
    }
}
