/// The `?` lists of statements whose width is known only at run time: an `IN` list, or a multi-row
/// `VALUES` of several tuples. Both dialects take `?` (PostgreSQL's `$n` are numbered from them).
public enum SQLPlaceholders {
    /// `?, ?, …`: `count` parameters, for an `IN (…)` list.
    public static func list(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// `(?, …), (?, …), …`: `rows` tuples of `columns` parameters, for a multi-row `VALUES`.
    public static func rows(_ rows: Int, columns: Int) -> String {
        Array(repeating: "(\(Self.list(columns)))", count: rows).joined(separator: ", ")
    }
}
