import CSQLiteFaults
import Foundation
import SQLStore

/// A folder that behaves as a disk that can crash, fail its syncs, fill up and lose power: every SQLite
/// database opened in it through `database(_:)` goes through the fault VFS (`Shared/CSQLiteFaults`), which
/// remembers each write not yet synced so a power loss can undo it. The folder is removed with the disk.
public final class FaultyDisk: @unchecked Sendable {
    // @unchecked: `id` and `folder` are constants; the VFS's state is behind its own lock.
    public let folder: String
    let id: Int32

    /// How a power loss treats the writes not yet synced.
    public enum PowerLoss: Int32, Sendable, CaseIterable {
        /// Every one is lost.
        case loseAll = 0
        /// A prefix of each file's writes reaches it, the next write torn at a 512-byte boundary.
        case keepPrefixTearNext = 1
        /// Any subset reaches it.
        case keepRandomSubset = 2
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init() throws {
        guard faultvfs_register() == 0 else { throw Failure(description: "the fault VFS could not be registered") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("disk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // The VFS matches files by the path SQLite resolves, symbolic links followed.
        self.folder = folder.resolvingSymlinksInPath().path
        self.id = faultvfs_disk_create(self.folder)
        guard self.id > 0 else { throw Failure(description: "no memory for a disk") }
    }

    deinit {
        faultvfs_disk_destroy(self.id)
        try? FileManager.default.removeItem(atPath: self.folder)
    }

    /// A database file on this disk, its log synced through the VFS.
    public func database(_ name: String) throws -> SQLiteDatabase {
        try SQLiteDatabase(path: "\(self.folder)/\(name)", vfs: "faultvfs") { logPath in
            faultvfs_sync_path(logPath) == 0
        }
    }

    /// Nothing more reaches the disk: every later write, sync, truncation and deletion fails.
    public func crash() { faultvfs_disk_crash(self.id) }

    /// Counting from now, the `write`-th write to the disk's files crashes it: that write and every later
    /// one fail, wherever the stream of writes is (a commit half written, a checkpoint under way).
    public func crash(atWrite write: Int) { faultvfs_disk_crash_at_write(self.id, Int64(write)) }

    /// The next `count` syncs fail.
    public func failSyncs(_ count: Int) { faultvfs_disk_fail_syncs(self.id, Int32(count)) }

    /// While `full`, writes that would grow a file fail with SQLITE_FULL.
    public func setFull(_ full: Bool) { faultvfs_disk_set_full(self.id, full ? 1 : 0) }

    /// The power goes (every connection to the disk's files closed first): unsynced writes are undone as
    /// `mode` says, drawn from `seed`; the disk then works again. Returns how many were lost.
    @discardableResult
    public func losePower(_ mode: PowerLoss, seed: UInt64) throws -> Int {
        let lost = faultvfs_disk_power_loss(self.id, mode.rawValue, seed)
        guard lost != -2 else { throw Failure(description: "a file of the disk is still open: close it first") }
        guard lost >= 0 else { throw Failure(description: "the power loss could not rewrite the disk's files") }
        return Int(lost)
    }

    /// Writes made and not yet covered by a sync.
    public var unsyncedWrites: Int { Int(faultvfs_disk_unsynced_writes(self.id)) }

    /// Syncs done (failed ones not counted).
    public var syncs: Int { Int(faultvfs_disk_syncs(self.id)) }
}
