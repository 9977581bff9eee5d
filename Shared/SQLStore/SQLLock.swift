/// A lock every process sharing a database agrees on by name (PostgreSQL's advisory locks, held for a
/// transaction's length). SQLite needs none: one process writes it, one transaction at a time.
public struct SQLLock: Sendable, Hashable, CustomStringConvertible {
    /// The advisory lock's key: FNV-1a of the name, the same in every process and release.
    public let key: Int64
    public let name: String

    public init(_ name: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        self.key = Int64(bitPattern: hash)
        self.name = name
    }

    private init(name: String, key: Int64) {
        self.name = name
        self.key = key
    }

    /// The lock every migration of every component takes: replicas starting together migrate one after the
    /// other. Without it, their `CREATE … IF NOT EXISTS` raced on PostgreSQL's catalog, and most of four
    /// replicas failed to start. Its key predates names ("jxmesh").
    public static let schema = SQLLock(name: "schema", key: 0x6A78_6D65_7368)

    public var description: String { self.name }
}
